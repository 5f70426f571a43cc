"""Activity methods against hand-computed values, published values and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.errors import InputError, PlanRefusedError
from opensirt.planning import (
    TerritoryCompartments,
    activity_for_normal_dose_gbq,
    activity_for_tumour_dose_gbq,
    body_surface_area_m2,
    bsa_activity,
    bsa_lung_shunt_factor,
    lung_dose_gy,
    lung_shunt_fraction_from_counts,
    mird_activity_gbq,
    mird_dose_gy,
    partition_doses,
    whole_liver_activity_gbq,
    whole_liver_dose_gy,
)

REL = 1e-9
fractions = st.floats(0.0, 0.6)
activities = st.floats(0.01, 20.0)


# ---------------------------------------------------------------- lung shunt
def test_lsf_geometric_mean_by_hand() -> None:
    # GM_lung = sqrt(10000 * 8000) = 8944.2719; GM_liver = sqrt(90000 * 110000) = 99498.7437
    # LSF = 8944.2719 / (8944.2719 + 99498.7437) = 0.0824790
    gm_lung = math.sqrt(10000 * 8000)
    gm_liver = math.sqrt(90000 * 110000)
    expected = gm_lung / (gm_lung + gm_liver)
    got = lung_shunt_fraction_from_counts((10000, 8000), (90000, 110000))
    assert got == pytest.approx(expected, rel=REL)
    assert got == pytest.approx(0.0824790, abs=1e-7)


def test_lsf_counts_errors() -> None:
    with pytest.raises(InputError, match=r"all zero"):
        lung_shunt_fraction_from_counts((0, 0), (0, 0))
    with pytest.raises(InputError, match=r"anterior counts is -1"):
        lung_shunt_fraction_from_counts((-1, 5), (10, 10))


def test_lung_dose_by_hand() -> None:
    # 49.67 Gy kg/GBq * 0.15 * (1 - 0.05) * 2.5 GBq / 0.9 kg = 19.6610... Gy
    assert lung_dose_gy(2.5, 0.15, 49.67, lung_mass_kg=0.9, residual_fraction=0.05) == (
        pytest.approx(49.67 * 0.15 * 0.95 * 2.5 / 0.9, rel=REL)
    )
    with pytest.raises(InputError, match=r"did you pass a percentage\? 8 % is 0\.08"):
        lung_dose_gy(1.0, 8, 49.67)


# ---------------------------------------------------------------- BSA
def test_du_bois_by_hand_and_original_form() -> None:
    # 0.20247 * 1.75^0.725 * 80^0.425 = 0.20247 * 1.500051 * 6.440400 = 1.95603
    assert body_surface_area_m2(1.75, 80) == pytest.approx(
        0.20247 * 1.75**0.725 * 80**0.425, rel=REL
    )
    # the published form (Du Bois & Du Bois 1916): 0.007184 * H[cm]^0.725 * W^0.425
    assert body_surface_area_m2(1.75, 80) == pytest.approx(
        0.007184 * 175**0.725 * 80**0.425, rel=1e-4
    )
    with pytest.raises(InputError, match=r"did you give centimetres\? 175 cm is 1\.75 m"):
        body_surface_area_m2(175, 80)


@pytest.mark.parametrize(
    ("lsf", "factor"),
    [(0.0, 1.0), (0.0999, 1.0), (0.10, 0.8), (0.1499, 0.8), (0.15, 0.6), (0.20, 0.6)],
)
def test_bsa_lung_shunt_factors(lsf: float, factor: float) -> None:
    assert bsa_lung_shunt_factor(lsf) == factor


def test_bsa_refuses_above_20_percent() -> None:
    with pytest.raises(PlanRefusedError, match=r"20\.1% is above 20 %"):
        bsa_lung_shunt_factor(0.201)


def test_bsa_activity_by_hand() -> None:
    # BSA(1.70 m, 72 kg) = 0.20247 * 1.70^0.725 * 72^0.425
    bsa = 0.20247 * 1.70**0.725 * 72**0.425
    # tumour 160 mL in a 1600 mL liver: involvement 0.1; right lobe 1100 of 1600 mL;
    # LSF 12 % -> 20 % reduction: A = (BSA - 0.2 + 0.1) * (1100 / 1600) * 0.8
    expected = (bsa - 0.2 + 0.1) * 1100 / 1600 * 0.8
    plan = bsa_activity(
        height_m=1.70,
        weight_kg=72,
        tumour_volume_ml=160,
        liver_volume_ml=1600,
        perfused_volume_ml=1100,
        lung_shunt_fraction=0.12,
    )
    assert plan.activity_gbq == pytest.approx(expected, rel=REL)
    assert plan.tumour_involvement == pytest.approx(0.1, rel=REL)
    assert plan.lung_shunt_factor == 0.8


def test_bsa_whole_liver_example() -> None:
    # BSA 2.0 m2 (H, W chosen so), 25 % involvement, whole liver, LSF 5 %:
    # A = 2.0 - 0.2 + 0.25 = 2.05 GBq (the usual worked example of the BSA formula)
    weight = (2.0 / (0.20247 * 1.80**0.725)) ** (1 / 0.425)
    plan = bsa_activity(
        height_m=1.80,
        weight_kg=weight,
        tumour_volume_ml=400,
        liver_volume_ml=1600,
        perfused_volume_ml=1600,
        lung_shunt_fraction=0.05,
    )
    assert plan.bsa_m2 == pytest.approx(2.0, rel=REL)
    assert plan.activity_gbq == pytest.approx(2.05, rel=REL)


def test_bsa_input_errors() -> None:
    kwargs = {"height_m": 1.7, "weight_kg": 70, "liver_volume_ml": 1500, "lung_shunt_fraction": 0}
    with pytest.raises(InputError, match=r"perfused_volume_ml is 1600 mL, expected at most"):
        bsa_activity(tumour_volume_ml=10, perfused_volume_ml=1600, **kwargs)
    with pytest.raises(InputError, match=r"tumour_volume_ml is 1500 mL"):
        bsa_activity(tumour_volume_ml=1500, perfused_volume_ml=1000, **kwargs)


# ---------------------------------------------------------------- MIRD
def test_mird_glass_by_hand() -> None:
    # 150 Gy to 900 mL * 1.03 g/mL = 0.927 kg, LSF 0.06, R 0.02, k 50:
    # A = 150 * 0.927 / (50 * 0.94 * 0.98) = 139.05 / 46.06 = 3.018888... GBq
    got = mird_activity_gbq(150, 0.927, 50.0, lung_shunt_fraction=0.06, residual_fraction=0.02)
    assert got == pytest.approx(139.05 / 46.06, rel=REL)
    assert mird_dose_gy(
        got, 0.927, 50.0, lung_shunt_fraction=0.06, residual_fraction=0.02
    ) == pytest.approx(150.0, rel=REL)


def test_mird_glass_ifu_convention() -> None:
    # TheraSphere IFU convention: 1 GBq in 1 kg without shunt or residual gives 50 Gy
    assert mird_dose_gy(1.0, 1.0, 50.0) == pytest.approx(50.0, rel=REL)


def test_mird_no_liver_activity() -> None:
    with pytest.raises(InputError, match=r"leave no activity in the liver"):
        mird_activity_gbq(100, 1.0, 50.0, lung_shunt_fraction=1.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(activities, st.floats(0.05, 3.0), fractions, st.floats(0.0, 0.3), st.floats(1.5, 4.0))
def test_mird_linear_and_inverse(a: float, m: float, lsf: float, r: float, c: float) -> None:
    d = mird_dose_gy(a, m, 49.67, lung_shunt_fraction=lsf, residual_fraction=r)
    assert mird_dose_gy(c * a, m, 49.67, lung_shunt_fraction=lsf, residual_fraction=r) == (
        pytest.approx(c * d, rel=REL)
    )
    back = mird_activity_gbq(d, m, 49.67, lung_shunt_fraction=lsf, residual_fraction=r)
    assert back == pytest.approx(a, rel=REL)


# ---------------------------------------------------------------- partition
def _two_tumour_territory() -> TerritoryCompartments:
    # 1150 mL with T1 150 mL (T/N 4) and T2 35 mL (T/N 2.5), density 1.03 g/mL
    return TerritoryCompartments.from_volumes(
        "right lobe", 1150, (("T1", 150, 4.0), ("T2", 35, 2.5)), 1.03
    )


def test_partition_masses_by_hand() -> None:
    t = _two_tumour_territory()
    # M_N = (1150 - 185) * 1.03e-3 = 0.99395 kg; uptake = 0.99395 + 4*0.1545 + 2.5*0.03605
    assert t.normal_mass_kg == pytest.approx(0.99395, rel=REL)
    assert t.uptake_mass_kg == pytest.approx(0.99395 + 4 * 0.1545 + 2.5 * 0.03605, rel=REL)
    assert t.perfused_mass_kg == pytest.approx(1.1845, rel=REL)


def test_partition_doses_by_hand() -> None:
    t = _two_tumour_territory()
    # D_N = 49.67 * 1.5 * (1 - 0.08) * (1 - 0.02) / 1.7019 (uptake mass, kg)
    uptake = 0.99395 + 4 * 0.1545 + 2.5 * 0.03605
    d_n = 49.67 * 1.5 * 0.92 * 0.98 / uptake
    d = partition_doses(t, 1.5, 49.67, lung_shunt_fraction=0.08, residual_fraction=0.02)
    assert d.normal_liver_gy == pytest.approx(d_n, rel=REL)
    assert d.tumours_gy["T1"] == pytest.approx(4 * d_n, rel=REL)
    assert d.tumours_gy["T2"] == pytest.approx(2.5 * d_n, rel=REL)
    assert d.perfused_gy == pytest.approx(49.67 * 1.5 * 0.92 * 0.98 / 1.1845, rel=REL)


def test_partition_single_tumour_ho1996_form() -> None:
    # Ho et al. 1996 with one tumour: D_N = k A (1 - LSF) / (TN M_T + M_N)
    t = TerritoryCompartments.from_volumes("liver", 1500, (("T", 300, 3.0),), 1.0)
    d = partition_doses(t, 2.0, 49.67, lung_shunt_fraction=0.1)
    assert d.normal_liver_gy == pytest.approx(49.67 * 2.0 * 0.9 / (3.0 * 0.3 + 1.2), rel=REL)


def test_partition_tumour_rule_lowest_tn_gets_target() -> None:
    t = _two_tumour_territory()
    a = activity_for_tumour_dose_gbq(t, 120.0, 49.67, lung_shunt_fraction=0.08)
    d = partition_doses(t, a, 49.67, lung_shunt_fraction=0.08)
    assert min(d.tumours_gy.values()) == pytest.approx(120.0, rel=REL)
    assert d.tumours_gy["T2"] == pytest.approx(120.0, rel=REL)  # T/N 2.5 is the lowest
    assert d.tumours_gy["T1"] == pytest.approx(120.0 * 4 / 2.5, rel=REL)


def test_partition_no_tumour_error() -> None:
    t = TerritoryCompartments("left", 0.5)
    with pytest.raises(InputError, match=r"territory 'left' has no tumours"):
        activity_for_tumour_dose_gbq(t, 120.0, 49.67, lung_shunt_fraction=0.1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    activities,
    st.floats(0.1, 50.0),
    st.floats(10.0, 400.0),
    st.floats(300.0, 2000.0),
    fractions,
    st.floats(1.5, 4.0),
)
def test_partition_linear_and_inverse(
    a: float, tn: float, v_t: float, v_n: float, lsf: float, c: float
) -> None:
    t = TerritoryCompartments.from_volumes("t", v_t + v_n, (("T", v_t, tn),), 1.03)
    d = partition_doses(t, a, 49.67, lung_shunt_fraction=lsf)
    d2 = partition_doses(t, c * a, 49.67, lung_shunt_fraction=lsf)
    assert d2.normal_liver_gy == pytest.approx(c * d.normal_liver_gy, rel=REL)
    assert d2.tumours_gy["T"] == pytest.approx(c * d.tumours_gy["T"], rel=REL)
    back = activity_for_normal_dose_gbq(t, d.normal_liver_gy, 49.67, lung_shunt_fraction=lsf)
    assert back == pytest.approx(a, rel=REL)
    back_t = activity_for_tumour_dose_gbq(t, d.tumours_gy["T"], 49.67, lung_shunt_fraction=lsf)
    assert back_t == pytest.approx(a, rel=REL)
    # energy balance: every GBq reaching the liver ends up in tumour + normal liver
    energy = d.tumours_gy["T"] * t.tumours[0].mass_kg + d.normal_liver_gy * t.normal_mass_kg
    assert energy == pytest.approx(49.67 * a * (1 - lsf), rel=1e-9)


# ---------------------------------------------------------------- Ho-166
def test_holmium_published_3781_mbq_per_kg() -> None:
    # QuiremSpheres IFU / Smits 2012: 60 Gy whole liver = 3781 MBq per kg of liver
    assert whole_liver_activity_gbq(60.0, 1.0) == pytest.approx(3.781, abs=5e-4)
    # 1650 mL * 1.03 g/mL = 1.6995 kg: 60 * 1.6995 / 15.87 = 6.42533 GBq
    assert whole_liver_activity_gbq(60.0, 1.6995) == pytest.approx(60 * 1.6995 / 15.87, rel=REL)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(activities, st.floats(0.5, 4.0), st.floats(0.0, 0.3))
def test_holmium_inverse(a: float, m: float, r: float) -> None:
    d = whole_liver_dose_gy(a, m, residual_fraction=r)
    assert whole_liver_activity_gbq(d, m, residual_fraction=r) == pytest.approx(a, rel=REL)
