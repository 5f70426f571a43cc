"""BED, EQD2, EUD, NTCP and TCP against hand-computed numbers."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.dosimetry import (
    LKBParameters,
    LogisticTCPParameters,
    TissueParameters,
    bed_permanent_implant,
    eqd2,
    generalized_eud,
    lkb_ntcp,
    logistic_tcp,
    lq_eud,
)
from opensirt.dosimetry.radiobiology import DAWSON_2002_PRIMARY_LIVER, dose_from_bed
from opensirt.errors import InputError


def test_bed_normal_liver_y90() -> None:
    # 40 Gy, alpha/beta 2.5 Gy, T_rep 1.5 h, T_phys 64.1 h:
    # BED = 40 (1 + 40 * 1.5 / (65.6 * 2.5)) = 40 * 1.365854 = 54.634 Gy
    assert float(bed_permanent_implant(40.0, "Y-90", "normal_liver")) == pytest.approx(
        40.0 * (1 + 40.0 * 1.5 / (65.6 * 2.5)), rel=1e-12
    )
    assert float(bed_permanent_implant(40.0, "Y-90", "normal_liver")) == pytest.approx(
        54.634, abs=1e-3
    )
    # EQD2 = BED / (1 + 2 / 2.5) = 54.634 / 1.8 = 30.352 Gy
    assert float(eqd2(54.634, "normal_liver")) == pytest.approx(30.352, abs=1e-3)


def test_bed_ho166_faster_decay_gives_higher_bed() -> None:
    # Ho-166: T_phys 26.8 h: 60 Gy -> 60 (1 + 60 * 1.5 / (28.3 * 2.5)) = 136.325 Gy
    assert float(bed_permanent_implant(60.0, "Ho-166", "normal_liver")) == pytest.approx(
        60.0 * (1 + 90.0 / 70.75)
    )
    assert bed_permanent_implant(60.0, "Ho-166", "normal_liver") > bed_permanent_implant(
        60.0, "Y-90", "normal_liver"
    )


def test_bed_voxelwise_and_custom_tissue() -> None:
    tissue = TissueParameters(alpha_beta_gy=3.0, repair_half_time_h=2.0, source="test")
    d = np.array([[0.0, 10.0], [100.0, 200.0]])
    g = 2.0 / ((2.0 + 64.1) * 3.0)
    assert np.allclose(bed_permanent_implant(d, "Y-90", tissue), d * (1 + g * d))
    with pytest.raises(InputError, match="alpha_beta_gy is -1"):
        TissueParameters(-1.0, 1.5, "bad")
    with pytest.raises(InputError, match="tissue is 'bone'"):
        bed_permanent_implant(1.0, "Y-90", "bone")


@settings(max_examples=25, derandomize=True, deadline=None)
@given(st.floats(0.0, 1000.0))
def test_dose_from_bed_inverts_bed(dose: float) -> None:
    bed = bed_permanent_implant(dose, "Y-90", "tumour")
    assert float(dose_from_bed(bed, "Y-90", "tumour")) == pytest.approx(dose, abs=1e-9, rel=1e-9)


def test_generalized_eud() -> None:
    # half volume at 10 Gy, half at 40 Gy: a = 1 -> 25; a = -1 -> 1 / (0.5/10 + 0.5/40) = 16
    assert generalized_eud([10.0, 40.0], 1.0) == pytest.approx(25.0)
    assert generalized_eud([10.0, 40.0], -1.0) == pytest.approx(16.0)
    # a = 2 with weights 3:1 -> sqrt(0.75 * 100 + 0.25 * 1600) = sqrt(475)
    assert generalized_eud([10.0, 40.0], 2.0, weights=[3.0, 1.0]) == pytest.approx(math.sqrt(475))
    with pytest.raises(InputError, match="a is 0"):
        generalized_eud([1.0], 0.0)


def test_lq_eud() -> None:
    # a uniform dose is its own EUD
    assert lq_eud([120.0] * 5, 0.01, "Y-90", "tumour") == pytest.approx(120.0)
    # half at 0 Gy: survival 0.5 + 0.5 exp(-a BED) -> EUBED = -ln(0.5 + 0.5 e^{-a BED})/a
    bed = float(bed_permanent_implant(200.0, "Y-90", "tumour"))
    alpha = 0.01
    eubed = -math.log(0.5 + 0.5 * math.exp(-alpha * bed)) / alpha
    expected = float(dose_from_bed(eubed, "Y-90", "tumour"))
    assert lq_eud([0.0, 200.0], alpha, "Y-90", "tumour") == pytest.approx(expected)
    assert expected < 100.0  # cold spots dominate


def test_lkb_ntcp() -> None:
    p = LKBParameters(td50_gy=50.0, m=0.2, n=1.0, source="test")
    assert lkb_ntcp([50.0], p) == pytest.approx(0.5)
    # EUD (n = 1) = mean = 40 Gy: t = (40 - 50) / 10 = -1 -> Phi(-1) = 0.158655
    assert lkb_ntcp([30.0, 50.0], p) == pytest.approx(0.158655, abs=1e-6)
    # Dawson 2002 primary liver: 45.8 Gy uniform -> 0.5
    assert lkb_ntcp([45.8], DAWSON_2002_PRIMARY_LIVER) == pytest.approx(0.5)


def test_logistic_tcp() -> None:
    p = LogisticTCPParameters(d50_gy=100.0, gamma50=1.0, source="test")
    # D = 200: 1 / (1 + 0.5^4) = 16/17
    assert logistic_tcp(200.0, p) == pytest.approx(16.0 / 17.0)
    assert logistic_tcp(0.0, p) == 0.0
    assert np.allclose(logistic_tcp(np.array([100.0, 50.0]), p), [0.5, 1.0 / 17.0])
