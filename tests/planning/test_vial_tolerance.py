"""The vial's activity at the treatment time beside the planned activity, and the tolerance
of the vial advice (``schedule.vial_tolerance_fraction``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from opensirt.errors import CaseFileError
from opensirt.planning import PlanResult, parse_case, plan_case
from opensirt.planning.schedule import VIAL_TOLERANCE_FRACTION_DEFAULT

MakeCase = Callable[..., dict[str, Any]]

# A 3 GBq vial calibrated 48 h before the treatment; Y-90 T1/2 = 64.1 h:
# 3 * exp(-ln 2 * 48 / 64.1) = 3 * exp(-0.519049) = 3 * 0.595086 = 1.78526 GBq
VIAL_AT_TREATMENT_GBQ = 1.78526
SCHEDULE = {
    "treatment": "2026-11-25T10:00:00+01:00",
    "vial_activity_gbq": 3.0,
    "vial_calibration": "2026-11-23T10:00:00+01:00",
}


def _glass(case_dict: MakeCase, **schedule: Any) -> PlanResult:
    # 200 Gy to T1 plans about 1.58 GBq of TheraSphere: the vial holds about 13 % more
    data = case_dict(
        device="therasphere",
        schedule={**SCHEDULE, **schedule},
        prescription={"tumour_dose_gy": 200, "normal_liver_max_gy": 80},
    )
    return plan_case(parse_case(data))


def test_vial_decay_and_difference_by_hand(case_dict: MakeCase) -> None:
    result = _glass(case_dict)
    sched = result.schedule
    assert sched is not None
    assert result.activity_gbq is not None
    assert sched.vial_activity_at_treatment_gbq == pytest.approx(VIAL_AT_TREATMENT_GBQ, rel=1e-5)
    assert sched.planned_activity_gbq == result.activity_gbq
    expected = 100.0 * (VIAL_AT_TREATMENT_GBQ / result.activity_gbq - 1.0)
    assert sched.vial_difference_percent == pytest.approx(expected, rel=1e-4)
    assert 10.0 < expected < 15.0
    out = sched.to_dict()
    assert out["vial_activity_at_treatment_gbq"] == pytest.approx(VIAL_AT_TREATMENT_GBQ, rel=1e-5)
    assert out["planned_activity_gbq"] == result.activity_gbq
    assert out["vial_difference_percent"] == pytest.approx(expected, rel=1e-4)


def test_default_tolerance_is_ten_percent(case_dict: MakeCase) -> None:
    assert VIAL_TOLERANCE_FRACTION_DEFAULT == 0.10
    sched = _glass(case_dict).schedule
    assert sched is not None
    assert sched.tolerance_fraction == 0.10
    assert sched.within_tolerance is False
    assert sched.to_dict()["vial_within_tolerance"] is False
    assert "more than 10 % above it" in sched.note
    assert "draw" not in sched.note  # a glass vial is injected whole
    # the whole vial is within 10 % once it has decayed to 1.1 x the plan:
    # t = t_cal + 64.1 h / ln 2 * ln(3 / (1.1 A)), given to the minute
    planned = sched.planned_activity_gbq
    assert planned is not None
    start_h = 64.1 / math.log(2.0) * math.log(3.0 / (1.1 * planned)) - 48.0
    assert 0.0 < start_h < 24.0
    hh, mm = divmod(math.floor(start_h * 60.0) + 10 * 60, 60)  # isoformat truncates
    assert f"between 2026-11-25T{hh:02d}:{mm:02d}+01:00" in sched.note


def test_override_changes_advice(case_dict: MakeCase) -> None:
    sched = _glass(case_dict, vial_tolerance_fraction=0.15).schedule
    assert sched is not None
    assert sched.tolerance_fraction == 0.15
    assert sched.within_tolerance is True
    assert "within 15 %: inject the whole vial" in sched.note


def test_chosen_vial_note_states_tolerance(case_dict: MakeCase) -> None:
    data = case_dict(
        device="therasphere",
        schedule={"treatment": "2026-11-25T10:00:00+01:00"},
        prescription={"tumour_dose_gy": 200, "normal_liver_max_gy": 80},
    )
    sched = plan_case(parse_case(data)).schedule
    assert sched is not None
    assert sched.planned_activity_gbq is not None
    # calibrated Sunday 22 Nov 12:00 ET, 64 h before: 3 GBq holds 1.502 GBq, below the
    # ~1.58 GBq planned, so the 5 GBq vial: 5 * 2^(-64/64.1) = 2.504 GBq
    available = 5.0 * 2 ** (-64 / 64.1)
    assert sched.vial_activity_gbq == 5.0
    assert sched.vial_activity_at_treatment_gbq == pytest.approx(available, rel=1e-9)
    diff = 100.0 * (available / sched.planned_activity_gbq - 1.0)
    assert sched.vial_difference_percent == pytest.approx(diff, rel=1e-9)
    assert f"it holds {available:.3f} GBq at the treatment time, {diff:+.1f} %" in sched.note
    assert "more than 10 % above it" in sched.note


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (0.0, r"vial_tolerance_fraction.*greater than 0"),
        (0.6, r"vial_tolerance_fraction.*less than or equal to 0.5"),
        (-0.1, r"vial_tolerance_fraction.*greater than 0"),
        ("10 %", r"vial_tolerance_fraction"),
    ],
)
def test_tolerance_validated(case_dict: MakeCase, value: object, match: str) -> None:
    data = case_dict(schedule={**SCHEDULE, "vial_tolerance_fraction": value})
    with pytest.raises(CaseFileError, match=match):
        parse_case(data)
