"""plan_case: prescriptions, limits, refusals and the JSON object."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensirt.errors import CaseFileError, InputError, PlanRefusedError
from opensirt.planning import PlanResult, parse_case, plan_case

REL = 1e-9
MakeCase = Callable[..., dict[str, Any]]
K_RESIN = 49.67


def _plan(data: dict[str, Any]) -> PlanResult:
    return plan_case(parse_case(data))


def _limit(result: PlanResult, name: str) -> Any:
    return next(c for c in result.limits if c.name == name)


def test_partition_single_territory_by_hand(case_dict: MakeCase) -> None:
    # 1000 mL lobe, T1 150 mL T/N 4, density 1.0: uptake = 4 * 0.15 + 0.85 = 1.45 kg
    # target 120 Gy -> D_N = 30 Gy; A = 30 * 1.45 / (49.67 * 0.92) = 0.951935 GBq
    result = _plan(case_dict())
    assert result.activity_gbq == pytest.approx(30 * 1.45 / (K_RESIN * 0.92), rel=REL)
    assert result.tumours_gy["T1"] == pytest.approx(120.0, rel=REL)
    assert result.normal_liver_gy == pytest.approx(30.0, rel=REL)
    # lung = 49.67 * 0.08 * A / 1 kg
    assert result.lung_gy == pytest.approx(K_RESIN * 0.08 * result.activity_gbq, rel=REL)
    # whole normal liver: 30 Gy * 0.85 kg / (1.5 - 0.15) kg
    assert result.whole_normal_liver_gy == pytest.approx(30 * 0.85 / 1.35, rel=REL)
    assert result.binding_limit is None
    assert result.target is not None
    assert result.target.reached
    assert result.warnings == ()
    assert result.constants.dose_constant_gy_kg_per_gbq == K_RESIN


def test_partition_two_territories_normal_liver_binds(case_dict: MakeCase) -> None:
    data = case_dict(
        territories=[
            {
                "name": "R",
                "volume_ml": 1000,
                "tumours": [
                    {"name": "T1", "volume_ml": 150, "tn_ratio": 4.0},
                    {"name": "T2", "volume_ml": 50, "tn_ratio": 2.0},
                ],
            },
            {
                "name": "L",
                "volume_ml": 400,
                "tumours": [{"name": "T3", "volume_ml": 40, "tn_ratio": 5.0}],
            },
        ],
    )
    result = _plan(data)
    # R: lowest T/N 2 -> D_N would be 60 Gy > 40: lowered to D_N = 40 Gy
    #    uptake = 4*0.15 + 2*0.05 + 0.8 = 1.5 kg; A_R = 40 * 1.5 / (49.67 * 0.92)
    # L: T/N 5 -> D_N = 24 Gy; uptake = 5*0.04 + 0.36 = 0.56 kg; A_L = 24 * 0.56 / (49.67*0.92)
    a_r = 40 * 1.5 / (K_RESIN * 0.92)
    a_l = 24 * 0.56 / (K_RESIN * 0.92)
    r, left = result.territories
    assert r.activity_gbq == pytest.approx(a_r, rel=REL)
    assert left.activity_gbq == pytest.approx(a_l, rel=REL)
    assert result.activity_gbq == pytest.approx(a_r + a_l, rel=REL)
    assert r.binding_limit == "normal_liver_max_gy"
    assert left.binding_limit is None
    assert result.tumours_gy == pytest.approx({"T1": 160.0, "T2": 80.0, "T3": 120.0}, rel=REL)
    assert _limit(result, "normal_liver_max_gy").binding
    assert result.target is not None
    assert not result.target.reached
    assert any("not reached: T1 160.0 Gy, T2 80.0 Gy" in w for w in result.warnings)


def test_lung_couples_territories(case_dict: MakeCase) -> None:
    data = case_dict(
        lung={"shunt_fraction": 0.2},
        prescription={"tumour_dose_gy": 300, "normal_liver_max_gy": 100},
        territories=[
            {
                "name": "R",
                "volume_ml": 800,
                "tumours": [{"name": "T1", "volume_ml": 200, "tn_ratio": 3.0}],
            },
            {
                "name": "L",
                "volume_ml": 600,
                "tumours": [{"name": "T2", "volume_ml": 100, "tn_ratio": 3.0}],
            },
        ],
    )
    result = _plan(data)
    # asked: D_N = 300 / 3 = 100 Gy; uptake R = 3 * 0.2 + 0.6 = 1.2 kg, L = 3 * 0.1 + 0.5 = 0.8 kg
    # A_R = 100 * 1.2 / (49.67 * 0.8) = 3.0199, A_L = 100 * 0.8 / (49.67 * 0.8) = 2.0133 GBq
    a_r = 100 * 1.2 / (K_RESIN * 0.8)
    a_l = 100 * 0.8 / (K_RESIN * 0.8)
    lung_asked = K_RESIN * 0.2 * (a_r + a_l)  # 50 Gy > 30 Gy
    assert lung_asked > 30
    scale = 30 / lung_asked
    assert result.lung_gy == pytest.approx(30.0, rel=REL)
    assert [t.activity_gbq for t in result.territories] == pytest.approx(
        [a_r * scale, a_l * scale], rel=REL
    )
    assert result.binding_limit == "lung_max_gy"
    assert result.tumours_gy["T1"] == pytest.approx(300 * scale, rel=REL)


def test_cumulative_lung_limit(case_dict: MakeCase) -> None:
    result = _plan(case_dict(lung={"shunt_fraction": 0.08, "previous_dose_gy": 48}))
    assert result.lung_cumulative_gy == pytest.approx(50.0, rel=REL)
    assert result.activity_gbq == pytest.approx(2.0 / (K_RESIN * 0.08), rel=REL)
    assert result.binding_limit == "lung_cumulative_max_gy"


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"lung": {"shunt_fraction": 0.1, "previous_dose_gy": 50}}, r"previous lung dose 50 Gy"),
        ({"lung": {"shunt_fraction": 0.25}}, r"25\.0% is above the 20%"),
        ({"method": "bsa", "lung": {"shunt_fraction": 0.21}}, r"21\.0% is above the 20%"),
        ({"lung": {"shunt_fraction": 0.05}, "prescription": {"lung_max_gy": 0}}, r"lung_max_gy"),
        ({"device": "therasphere", "lung": {"shunt_fraction": 1.0}}, r"100 %: no activity"),
    ],
)
def test_refused(case_dict: MakeCase, changes: dict[str, Any], pattern: str) -> None:
    result = _plan(case_dict(**changes))
    assert result.refused is not None
    assert result.activity_gbq is None
    assert re.search(pattern, result.refused)
    assert json.loads(json.dumps(result.to_dict()))["refused"] == result.refused
    with pytest.raises(PlanRefusedError, match=re.escape(result.refused[:20])):
        result.raise_if_refused()


def test_glass_compromised_liver_uses_whole_normal_liver(case_dict: MakeCase) -> None:
    data = case_dict(device="therasphere", prescription={"tumour_dose_gy": 400})
    data["patient"]["labs"] = {"bilirubin_umol_l": 22}  # 1.29 mg/dL > 1.1 mg/dL
    result = _plan(data)
    check = _limit(result, "normal_liver_max_gy")
    assert check.limit_gy == 50.0
    assert "bilirubin 1.29 mg/dL" in (check.source or "")
    # whole normal liver = D_N * 0.85 / 1.35 <= 50 Gy -> D_N = 50 * 1.35 / 0.85 = 79.41 Gy
    assert result.whole_normal_liver_gy == pytest.approx(50.0, rel=REL)
    assert result.normal_liver_gy == pytest.approx(50 * 1.35 / 0.85, rel=REL)
    assert result.constants.dose_constant_gy_kg_per_gbq == 50.0


def test_compromised_declared_and_override(case_dict: MakeCase) -> None:
    data = case_dict(prescription={"tumour_dose_gy": 200})
    data["patient"]["labs"] = {"bilirubin_umol_l": 30}
    assert _limit(_plan(data), "normal_liver_max_gy").limit_gy == 30.0  # resin compromised
    data["liver"]["compromised"] = False
    assert _limit(_plan(data), "normal_liver_max_gy").limit_gy == 40.0
    data["prescription"]["normal_liver_max_gy"] = 35
    check = _limit(_plan(data), "normal_liver_max_gy")
    assert check.limit_gy == 35.0
    assert check.source == "case file"


def test_bsa_plan(case_dict: MakeCase) -> None:
    result = _plan(case_dict(method="bsa", lung={"shunt_fraction": 0.12}))
    bsa = 0.20247 * 1.75**0.725 * 80**0.425
    expected = (bsa - 0.2 + 150 / 1500) * (1000 / 1500) * 0.8
    assert result.activity_gbq == pytest.approx(expected, rel=REL)
    assert result.target is None
    assert any("reduced by 20%" in w for w in result.warnings)
    assert result.tumours_gy["T1"] == pytest.approx(4 * K_RESIN * expected * 0.88 / 1.45, rel=REL)


def test_mird_plan_reports_unenforced_normal_liver(case_dict: MakeCase) -> None:
    result = _plan(case_dict(method="mird", prescription={"perfused_dose_gy": 150}))
    # A = 150 * 1.0 kg / (49.67 * 0.92)
    assert result.activity_gbq == pytest.approx(150 / (K_RESIN * 0.92), rel=REL)
    assert result.perfused_gy == pytest.approx(150.0, rel=REL)
    check = _limit(result, "normal_liver_max_gy")
    assert not check.enforced
    assert check.exceeded
    assert any("does not lower the activity" in w for w in result.warnings)


def test_mird_without_tn_warns(case_dict: MakeCase) -> None:
    data = case_dict(method="mird")
    del data["territories"][0]["tumours"][0]["tn_ratio"]
    result = _plan(data)
    assert result.normal_liver_gy is None
    assert result.tumours_gy == {}
    assert any("normal-liver dose not computed" in w for w in result.warnings)


def test_planar_counts_used(case_dict: MakeCase) -> None:
    data = case_dict(lung={"planar_counts": {"lung": [10000, 8000], "liver": [90000, 110000]}})
    result = _plan(data)
    assert result.lung_shunt_fraction == pytest.approx(0.0824790, abs=1e-7)
    assert "planar" in result.constants.lung_shunt_fraction_source


def test_holmium_whole_liver(case_dict: MakeCase) -> None:
    data = case_dict(
        device="quiremspheres",
        method="whole-liver",
        lung={"shunt_fraction": 0.03},
        territories=[{"name": "liver", "volume_ml": 1500, "tumours": []}],
    )
    result = _plan(data)
    # 60 Gy * 1.5 kg / 15.87 = 5.67108 GBq
    assert result.activity_gbq == pytest.approx(60 * 1.5 / 15.87, rel=REL)
    assert result.whole_liver_gy == pytest.approx(60.0, rel=REL)
    assert result.lung_gy == pytest.approx(15.87 * 0.03 * 60 * 1.5 / 15.87, rel=REL)


def test_holmium_partition_needs_target(case_dict: MakeCase) -> None:
    with pytest.raises(InputError, match=r"prescription\.tumour_dose_gy is not given"):
        _plan(case_dict(device="quiremspheres"))


def test_voxel_needs_pipeline(case_dict: MakeCase) -> None:
    data = case_dict(
        method="voxel",
        images={"ct": "ct", "spect": "s", "segmentation": "seg.nii", "structures": {"liver": "L"}},
    )
    with pytest.raises(InputError, match=r"method 'voxel' is planned from the images"):
        _plan(data)


def test_to_dict_contract_keys(case_dict: MakeCase, plan_json_keys: frozenset[str]) -> None:
    out = json.loads(json.dumps(_plan(case_dict()).to_dict()))
    assert plan_json_keys <= set(out)
    assert {"lung", "normal_liver", "perfused", "tumours"} <= set(out["doses_gy"])
    assert out["territories"][0]["name"] == "right lobe"
    assert "dose_constant_gy_kg_per_gbq" in out["constants"]
    assert {"value", "source", "binding"} <= set(out["limits"]["lung_max_gy"])


@settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the factory copies afresh
)
@given(
    device=st.sampled_from(["sir-spheres", "therasphere"]),
    lsf=st.floats(0.0, 0.2),
    previous=st.floats(0.0, 49.0),
    tn=st.lists(st.floats(0.8, 10.0), min_size=1, max_size=3),
    target=st.floats(50.0, 500.0),
    split=st.floats(0.2, 0.8),
    bilirubin=st.floats(5.0, 40.0),
)
def test_prescription_never_exceeds_a_limit(
    case_dict: MakeCase,
    device: str,
    lsf: float,
    previous: float,
    tn: list[float],
    target: float,
    split: float,
    bilirubin: float,
) -> None:
    tumours = [{"name": f"T{i}", "volume_ml": 40 + 30 * i, "tn_ratio": r} for i, r in enumerate(tn)]
    data = case_dict(
        device=device,
        lung={"shunt_fraction": lsf, "previous_dose_gy": previous},
        prescription={"tumour_dose_gy": target, "residual_fraction": 0.03},
        territories=[
            {"name": "A", "volume_ml": 1400 * split, "tumours": tumours},
            {
                "name": "B",
                "volume_ml": 1400 * (1 - split),
                "tumours": [{"name": "U", "volume_ml": 50, "tn_ratio": tn[0] + 1}],
            },
        ],
    )
    data["patient"]["labs"] = {"bilirubin_umol_l": bilirubin}
    result = _plan(data)
    assert result.refused is None
    for check in result.limits:
        assert not check.exceeded, check
    assert result.target is not None
    if result.binding_limit is None:
        assert result.target.reached
        assert min(result.tumours_gy.values()) == pytest.approx(target, rel=1e-9)
    else:
        assert result.warnings


def test_schedule_vial_given(case_dict: MakeCase) -> None:
    # 3 GBq calibrated 64.1 h (one half-life) before treatment holds 1.5 GBq
    data = case_dict(
        schedule={
            "treatment": "2026-11-25T10:00:00+01:00",
            "vial_activity_gbq": 3.0,
            "vial_calibration": "2026-11-22T17:54:00+01:00",
        },
        prescription={"tumour_dose_gy": 300, "normal_liver_max_gy": 80},
    )
    result = _plan(data)
    assert result.schedule is not None
    assert result.schedule.vial_activity_at_treatment_gbq == pytest.approx(1.5, rel=1e-9)
    # 300 Gy needs D_N = 75 Gy: A = 75 * 1.45 / (49.67 * 0.92) = 2.38 GBq > 1.5 GBq in the vial
    assert any("less than the" in w for w in result.warnings)
    with pytest.raises(CaseFileError, match=r"vial_activity_gbq and schedule\.vial_calibration"):
        parse_case(
            case_dict(schedule={"treatment": "2026-11-25T10:00:00+01:00", "vial_activity_gbq": 3.0})
        )
