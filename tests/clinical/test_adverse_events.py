"""CTCAE v5.0 grading, REILD, the monitoring checklist and the follow-up schedule."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.clinical.adverse_events import (
    CTCAE_TERMS,
    MONITORING_CHECKLIST,
    MONITORING_HOURS,
    AdverseEvent,
    FollowUpPlan,
    assess_reild,
    follow_up_schedule,
    grade_fever,
    grade_hypoalbuminemia,
    grade_liver_lab,
    record_event,
)
from opensirt.errors import InputError


@pytest.mark.parametrize(
    ("temperature_c", "duration_h", "grade"),
    [(37.9, None, 0), (38.0, None, 1), (39.0, None, 1), (39.01, None, 2), (40.0, None, 2),
     (40.1, 24.0, 3), (40.1, 24.5, 4)],
)  # fmt: skip
def test_fever_bands(temperature_c: float, duration_h: float | None, grade: int) -> None:
    assert grade_fever(temperature_c, duration_h).grade == grade


def test_fever_above_40_needs_duration() -> None:
    with pytest.raises(InputError, match=r"temperature_c is 40.5 degC \(> 40.0\): duration_h"):
        grade_fever(40.5)


@pytest.mark.parametrize(
    ("event", "value", "grade"),
    [
        # bilirubin, ULN 20 umol/L: > ULN-1.5x G1, > 1.5-3x G2, > 3-10x G3, > 10x G4
        ("blood-bilirubin-increased", 20.0, 0),
        ("blood-bilirubin-increased", 30.0, 1),  # exactly 1.5 x ULN is still grade 1
        ("blood-bilirubin-increased", 30.1, 2),
        ("blood-bilirubin-increased", 60.0, 2),
        ("blood-bilirubin-increased", 200.0, 3),
        ("blood-bilirubin-increased", 200.1, 4),
        # AST/ALT, ULN 20 U/L: > ULN-3x G1, > 3-5x G2, > 5-20x G3, > 20x G4
        ("ast-increased", 60.0, 1),
        ("alt-increased", 60.1, 2),
        ("alt-increased", 100.1, 3),
        ("alt-increased", 400.1, 4),
        # ALP, ULN 20 U/L: > ULN-2.5x G1, > 2.5-5x G2
        ("alkaline-phosphatase-increased", 50.0, 1),
        ("alkaline-phosphatase-increased", 50.1, 2),
    ],
)
def test_liver_labs_normal_baseline(event: str, value: float, grade: int) -> None:
    assert grade_liver_lab(event, value, uln=20.0).grade == grade
    assert grade_liver_lab(event, value, uln=20.0, baseline=15.0).grade == grade  # normal


def test_liver_labs_abnormal_baseline_grade_against_baseline() -> None:
    # baseline 30 > ULN 20: bilirubin G1 > 1.0-1.5 x baseline (30-45), G2 > 45-90
    assert grade_liver_lab("blood-bilirubin-increased", 30.0, 20.0, baseline=30.0).grade == 0
    assert grade_liver_lab("blood-bilirubin-increased", 45.0, 20.0, baseline=30.0).grade == 1
    assert grade_liver_lab("blood-bilirubin-increased", 45.1, 20.0, baseline=30.0).grade == 2
    # AST G1 starts above 1.5 x baseline: 45 is grade 0, 45.1 grade 1
    assert grade_liver_lab("ast-increased", 45.0, 20.0, baseline=30.0).grade == 0
    assert grade_liver_lab("ast-increased", 45.1, 20.0, baseline=30.0).grade == 1
    # ALP G1 starts above 2.0 x baseline
    assert grade_liver_lab("alkaline-phosphatase-increased", 60.0, 20.0, baseline=30.0).grade == 0
    assert grade_liver_lab("alkaline-phosphatase-increased", 60.1, 20.0, baseline=30.0).grade == 1


def test_liver_lab_bad_input() -> None:
    with pytest.raises(InputError, match="event is 'fever', expected one of"):
        grade_liver_lab("fever", 1.0, 1.0)
    with pytest.raises(InputError, match=r"uln is 0\.0"):
        grade_liver_lab("ast-increased", 1.0, 0.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(value=st.floats(0.0, 1000.0), more=st.floats(0.0, 500.0))
def test_lab_grade_is_monotone(value: float, more: float) -> None:
    for event in ("blood-bilirubin-increased", "ast-increased", "alkaline-phosphatase-increased"):
        low = grade_liver_lab(event, value, 17.0).grade
        assert 0 <= low <= grade_liver_lab(event, value + more, 17.0).grade <= 4


def test_hypoalbuminemia() -> None:
    grades = [grade_hypoalbuminemia(a, 35.0).grade for a in (36.0, 34.9, 30.0, 29.9, 20.0, 19.9)]
    assert grades == [0, 1, 1, 2, 2, 3]
    assert grade_hypoalbuminemia(19.0, 35.0).definition == "< 20 g/L"


def test_clinical_events_and_their_grades() -> None:
    assert record_event(AdverseEvent.PNEUMONITIS, 3).definition.endswith("oxygen indicated")
    assert record_event("gastric-ulcer", 0).definition == "none"
    assert record_event("abdominal-pain", 1).source.startswith("CTCAE v5.0")
    with pytest.raises(InputError, match=r"grade of fatigue is 4, expected one of \[0, 1, 2, 3\]"):
        record_event("fatigue", 4)
    with pytest.raises(InputError, match="adverse event is 'headache', expected one of fatigue"):
        record_event("headache", 1)
    assert set(CTCAE_TERMS) == set(AdverseEvent)


def test_reild_definition() -> None:
    args = {"jaundice": True, "ascites": True, "tumour_progression": False,
            "bile_duct_occlusion": False}  # fmt: skip
    assert assess_reild(days_since_sirt=28, **args).met
    assert assess_reild(days_since_sirt=56, **args).met
    late = assess_reild(days_since_sirt=57, **args)
    assert not late.met
    assert late.reasons == ("57 days after SIRT is outside 28-56 days",)
    other = assess_reild(
        days_since_sirt=40, **{**args, "tumour_progression": True, "ascites": False}
    )
    assert other.reasons == ("no ascites", "tumour progression explains the findings")
    assert "doi:10.1002/cncr.23339" in other.source
    with pytest.raises(InputError, match="days_since_sirt is -1"):
        assess_reild(days_since_sirt=-1, **args)


def test_monitoring_checklist_is_sourced() -> None:
    assert MONITORING_HOURS == (4.0, 6.0)
    items = [c.item for c in MONITORING_CHECKLIST]
    assert {"vital signs", "arterial access site", "pain", "fever and chills"} <= set(items)
    assert all(c.source for c in MONITORING_CHECKLIST)


def test_follow_up_schedule_dates() -> None:
    visits = follow_up_schedule(date(2026, 1, 1))
    labs = [v.due for v in visits if v.what == "liver function tests"]
    # 2, 4, 8, 12 weeks after 1 January 2026
    assert labs == [date(2026, 1, 15), date(2026, 1, 29), date(2026, 2, 26), date(2026, 3, 26)]
    first = next(v for v in visits if v.what.startswith("response imaging (CT"))
    assert (first.earliest, first.due) == (date(2026, 2, 12), date(2026, 3, 26))  # 6-12 weeks
    later = [v.due for v in visits if v.what == "response imaging and liver function tests"]
    # months 6, 9, 12: 183, 274 and 365 days (30.4375 days a month, rounded)
    assert later == [date(2026, 7, 3), date(2026, 10, 2), date(2027, 1, 1)]
    short = follow_up_schedule(date(2026, 1, 1), FollowUpPlan(horizon_months=3))
    assert len(short) == 5
