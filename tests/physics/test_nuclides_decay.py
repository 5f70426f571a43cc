"""Physics data and decay, checked against hand-computed values."""

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensirt.errors import InputError
from opensirt.physics import (
    HO166,
    TC99M,
    Y90,
    activity_at,
    cumulated_activity_gbq_h,
    decay_factor,
    gbq_to_mci,
    get_device,
    get_nuclide,
    hours_between,
    mci_to_gbq,
)


def test_y90_dose_constant_from_decay_data() -> None:
    # E = 0.9324 MeV * 0.999885 + 0.1846 MeV * 0.000115 = 0.932314... MeV
    # N(1 GBq) = 1e9 /s * 64.10 h * 3600 s/h / ln 2
    energy_j = (0.9324 * 0.999885 + 0.1846 * 0.000115) * 1.602176634e-13
    decays = 1e9 * 64.10 * 3600.0 / math.log(2.0)
    assert Y90.dose_constant_gy_kg_per_gbq == pytest.approx(energy_j * decays, rel=1e-12)
    # "about 49.7-49.8 Gy kg/GBq from ICRP-107 data"
    assert 49.6 < Y90.dose_constant_gy_kg_per_gbq < 49.8


def test_ho166_dose_constant_beta_only() -> None:
    expected = 0.6651 * 1.602176634e-13 * 1e9 * 26.80 * 3600.0 / math.log(2.0)
    assert HO166.dose_constant_gy_kg_per_gbq == pytest.approx(expected, rel=1e-12)


def test_tc99m_has_no_local_deposition_constant() -> None:
    with pytest.raises(InputError, match="emits no beta"):
        _ = TC99M.dose_constant_gy_kg_per_gbq


def test_get_nuclide_tolerant_and_strict() -> None:
    assert get_nuclide("Ho166") is HO166
    assert get_nuclide("tc-99M") is TC99M
    with pytest.raises(InputError, match="nuclide is 'I-131'"):
        get_nuclide("I-131")


def test_decay_half_life_and_cumulated_activity() -> None:
    assert decay_factor("Y-90", 64.10) == pytest.approx(0.5, rel=1e-12)
    assert decay_factor(HO166, 2 * 26.80) == pytest.approx(0.25, rel=1e-12)
    # complete decay of 1 GBq: T1/2 / ln 2 = 64.10 / 0.693147... = 92.4767 GBq h
    assert cumulated_activity_gbq_h(1.0, Y90) == pytest.approx(64.10 / math.log(2), rel=1e-12)
    # first half-life holds half of all decays
    assert cumulated_activity_gbq_h(2.0, Y90, 0.0, 64.10) == pytest.approx(
        64.10 / math.log(2), rel=1e-12
    )
    with pytest.raises(InputError, match="end_h"):
        cumulated_activity_gbq_h(1.0, Y90, 5.0, 1.0)


@given(
    st.floats(min_value=-200, max_value=500),
    st.floats(min_value=-200, max_value=500),
)
def test_decay_composes(t1_h: float, t2_h: float) -> None:
    assert decay_factor(Y90, t1_h) * decay_factor(Y90, t2_h) == pytest.approx(
        decay_factor(Y90, t1_h + t2_h), rel=1e-9
    )


def test_activity_at_across_time_zones() -> None:
    cet = timezone(timedelta(hours=1))
    ref = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    when = datetime(2026, 11, 25, 10, 0, tzinfo=cet)  # 09:00 UTC: 63 h later
    assert hours_between(ref, when) == pytest.approx(63.0)
    assert activity_at(3.0, ref, when, Y90) == pytest.approx(3.0 * 2 ** (-63.0 / 64.10), rel=1e-12)
    with pytest.raises(InputError, match="no time zone"):
        hours_between(datetime(2026, 1, 1), when)


def test_units_and_devices() -> None:
    assert mci_to_gbq(27.027027027027028) == pytest.approx(1.0)
    assert gbq_to_mci(1.0) == pytest.approx(27.027027027)
    assert get_device("SIR-Spheres").dose_constant_gy_kg_per_gbq == 49.67
    assert get_device("quiremspheres").nuclide is HO166
    with pytest.raises(InputError, match="device is 'sirspheres'"):
        get_device("sirspheres")
    limits = get_device("therasphere").limits.with_overrides(lung_max_gy=25.0)
    assert limits.lung_max_gy == 25.0
    assert limits.as_dict()["lung_max_gy"]["source"] == "case file"
    with pytest.raises(InputError, match="unknown dose limit 'lung_gy'"):
        limits.with_overrides(lung_gy=1.0)
