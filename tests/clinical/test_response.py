"""RECIST 1.1, mRECIST and EASL: worked examples, boundaries, best response, bad tables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.clinical.measurements import group_patients, parse_measurements
from opensirt.clinical.response import (
    PatientResponse,
    Response,
    ResponseOptions,
    assess_measurements,
    assess_patient,
    best_overall_response,
)
from opensirt.errors import InputError

DATA = Path(__file__).parent / "data"
HEADER = (
    "patient_id,lesion_id,date,role,organ,is_node,longest_diameter_mm,short_axis_mm,"
    "viable_diameter_mm,enhancing_area_mm2,status"
)
D0, D1, D2, D3 = "2026-01-10", "2026-03-10", "2026-05-10", "2026-07-10"


def _row(lesion: str, day: str, role: str = "target", ld: object = "", sa: object = "",
         viable: object = "", area: object = "", status: str = "present", organ: str = "liver",
         node: str = "false", patient: str = "P1") -> str:  # fmt: skip
    cells = (patient, lesion, day, role, organ, node, ld, sa, viable, area, status)
    return ",".join(str(c) for c in cells)


def _assess(rows: list[str], options: ResponseOptions | None = None) -> PatientResponse:
    parsed, _ = parse_measurements("\n".join([HEADER, *rows]) + "\n")
    return assess_patient(group_patients(parsed)[0], options or ResponseOptions())


def _overall(rows: list[str], criterion: str = "recist") -> list[str]:
    return [r.overall.value for r in _assess(rows).results[criterion]]


def _two_targets(*sums: tuple[float, float]) -> list[str]:
    """Two liver targets with the same value for diameter, viable diameter and area."""
    days = (D0, D1, D2, D3)
    rows = []
    for day, (a, b) in zip(days, sums, strict=False):
        rows.append(_row("L1", day, ld=a, viable=a, area=a))
        rows.append(_row("L2", day, ld=b, viable=b, area=b))
    return rows


# --- the contract's example -----------------------------------------------------------------


def test_spec_table_hand_computed() -> None:
    # RECIST: 52 + 31 = 83 -> 40 + 28 = 68: -18.1 % -> SD; node N1 12 -> 9 mm (< 10: normal)
    # mRECIST: 48 + 25 = 73 -> 20 + 0 = 20: -72.6 % -> PR (L1 still enhancing: not CR)
    # EASL: 1800 + 600 = 2400 -> 350 + 0 = 350 mm2: -85.4 % -> PR
    patients, warnings = assess_measurements(DATA / "measurements.csv")
    assert warnings == []
    out = patients[0].as_dict()
    assert out["patient_id"] == "DEMO-001"
    assert out["timepoints"][0]["date"] == "2026-04-12"
    assert {k: out["timepoints"][0][k] for k in ("recist", "mrecist", "easl")} == {
        "recist": "SD", "mrecist": "PR", "easl": "PR"}  # fmt: skip
    assert out["best"] == {"recist": "SD", "mrecist": "PR", "easl": "PR"}
    details = out["timepoints"][0]["details"]
    assert details["recist"]["sum_mm"] == 68.0
    assert details["recist"]["non_target"] == "CR"
    assert details["recist"]["change_from_baseline_pct"] == pytest.approx(-18.07)
    assert details["mrecist"]["change_from_baseline_pct"] == pytest.approx(-72.6)
    assert details["easl"]["change_from_baseline_pct"] == pytest.approx(-85.42)


# --- RECIST 1.1 boundaries ------------------------------------------------------------------


def test_recist_partial_response_exactly_minus_30_percent() -> None:
    assert _overall(_two_targets((60, 40), (42, 28))) == ["PR"]  # 100 -> 70: -30 %
    assert _overall(_two_targets((60, 40), (42, 29))) == ["SD"]  # 100 -> 71: -29 %


def test_recist_progression_needs_20_percent_and_5_mm() -> None:
    assert _overall(_two_targets((15, 10), (18, 12))) == ["PD"]  # 25 -> 30: +20 %, +5 mm
    assert _overall(_two_targets((15, 10), (18, 11))) == ["SD"]  # 25 -> 29: +16 %
    # 20 -> 24: +20 % but only +4 mm: not PD by RECIST 1.1; PD by mRECIST and EASL (+20 %, +20 %)
    rows = _two_targets((10, 10), (12, 12))
    assert _overall(rows) == ["SD"]
    assert _overall(rows, "mrecist") == ["PD"]
    assert _overall(rows, "easl") == ["SD"]  # EASL needs +25 %


def test_recist_progression_is_measured_from_the_nadir() -> None:
    # 100 -> 60 (PR, nadir 60) -> 72: +20 % and +12 mm over the nadir -> PD, although -28 %
    assert _overall(_two_targets((60, 40), (36, 24), (43, 29))) == ["PR", "PD"]
    # 71: +18 % over the nadir (not PD), -29 % from baseline (not PR) -> SD
    assert _overall(_two_targets((60, 40), (36, 24), (43, 28))) == ["PR", "SD"]


def test_node_complete_response_by_short_axis() -> None:
    rows = [
        _row("L1", D0, ld=30, viable=30, area=900),
        _row("N1", D0, sa=18, area=300, organ="lymph node", node="true"),
        _row("L1", D1, ld=0, viable=0, area=0),
        _row("N1", D1, sa=9, area=0, organ="lymph node", node="true"),
    ]
    result = _assess(rows).results["recist"][0]
    assert (result.overall, result.sum) == (Response.CR, 9.0)  # node 9 mm < 10: CR, sum 9
    rows[-1] = _row("N1", D1, sa=10, area=0, organ="lymph node", node="true")
    assert _assess(rows).results["recist"][0].overall is Response.PR  # 10 mm is not normal


def test_non_target_and_new_lesions() -> None:
    base = [_row("L1", D0, ld=40, viable=40, area=1000),
            _row("M1", D0, role="non-target", organ="lung"),
            _row("L1", D1, ld=0, viable=0, area=0)]  # fmt: skip
    assert _overall([*base, _row("M1", D1, role="non-target", status="absent")]) == ["CR"]
    assert _overall([*base, _row("M1", D1, role="non-target")]) == ["PR"]
    assert _overall([*base]) == ["PR"]  # non-target not assessed: CR of targets gives PR
    progression = _row("M1", D1, role="non-target", status="unequivocal-progression")
    assert _overall([*base, progression], "easl") == ["PD"]
    new = _row("X1", D1, role="new", ld=8)
    assert _overall([*base, _row("M1", D1, role="non-target", status="absent"), new]) == ["PD"]


def test_missing_target_is_ne_unless_progression_is_already_shown() -> None:
    rows = _two_targets((30, 20))
    assert _overall([*rows, _row("L1", D1, ld=35)]) == ["NE"]  # L2 missing
    assert _overall([*rows, _row("L1", D1, ld=61)]) == ["PD"]  # 61 alone >= 60 and +11 mm
    absent = [*rows, _row("L1", D1, ld=0), _row("L2", D1, status="absent")]
    assert _overall(absent) == ["CR"]  # an absent lesion with an empty cell counts as 0


def test_easl_thresholds() -> None:
    assert _overall(_two_targets((300, 200), (150, 100)), "easl") == ["PR"]  # -50 %
    assert _overall(_two_targets((300, 200), (150, 100.5)), "easl") == ["SD"]  # -49.9 %
    # nadir 200 -> 250: +25 % -> PD; 249.5: not PD
    assert _overall(_two_targets((300, 200), (100, 100), (150, 100)), "easl") == ["PR", "PD"]
    assert _overall(_two_targets((300, 200), (100, 100), (149.5, 100)), "easl") == ["PR", "PR"]


def test_criterion_without_baseline_values_is_ne_with_a_warning() -> None:
    rows = [_row("L1", D0, ld=40), _row("L1", D1, ld=20)]  # no viable diameter, no area
    result = _assess(rows)
    assert [r.overall.value for r in result.results["recist"]] == ["PR"]
    assert [r.overall.value for r in result.results["mrecist"]] == ["NE"]
    assert any("mRECIST: a target lesion lacks its baseline" in w for w in result.warnings)


# --- best overall response ------------------------------------------------------------------


def test_best_response_confirmation_and_sd_duration() -> None:
    base = date(2026, 1, 1)
    days = [date(2026, 1, 29), date(2026, 3, 1), date(2026, 3, 20)]
    pr_pr_sd = [Response.PR, Response.PR, Response.SD]
    plain, confirm = ResponseOptions(), ResponseOptions(confirm=True)
    assert best_overall_response(days, pr_pr_sd, base, plain) is Response.PR
    assert best_overall_response(days, pr_pr_sd, base, confirm) is Response.PR  # 31 days later
    # CR then PR 31 days later: the CR is not confirmed, but counts as a confirmed PR
    cr_pr = [Response.CR, Response.PR, Response.PD]
    assert best_overall_response(days, cr_pr, base, confirm) is Response.PR
    # SD 28 days after baseline is too early (42); then PD
    assert best_overall_response(days[:1], [Response.SD], base, plain) is Response.NE
    assert best_overall_response(days[:2], [Response.SD, Response.PD], base, plain) is Response.PD
    # PR confirmed only 19 days later -> SD
    assert best_overall_response(days[1:], [Response.PR, Response.PR], base, confirm) is Response.SD
    assert best_overall_response([], [], base, plain) is Response.NE


def test_spec_table_with_confirmation() -> None:
    patients, _ = assess_measurements(DATA / "measurements.csv", ResponseOptions(confirm=True))
    assert patients[0].as_dict()["best"] == {"recist": "SD", "mrecist": "SD", "easl": "SD"}


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    values=st.lists(st.tuples(st.integers(1, 90), st.integers(1, 90)), min_size=2, max_size=4),
    scale=st.sampled_from([0.5, 2.0, 3.0]),
)
def test_relative_criteria_do_not_depend_on_scale(
    values: list[tuple[int, int]], scale: float
) -> None:
    rows = _two_targets(*values)
    scaled = _two_targets(*[(a * scale, b * scale) for a, b in values])
    for criterion in ("mrecist", "easl"):
        assert _overall(rows, criterion) == _overall(scaled, criterion)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.permutations(range(6)))
def test_row_order_does_not_matter(order: list[int]) -> None:
    rows = _two_targets((40, 30), (20, 15), (30, 25))
    shuffled = [rows[i] for i in order]
    assert _assess(rows).as_dict() == _assess(shuffled).as_dict()


# --- bad tables -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row("L1", D0, ld=40), _row("L9", D1, ld=10)],
         r"row 3: lesion 'L9' of patient 'P1' first appears on 2026-03-10.*expected role 'new'"),
        ([_row("L1", D0, ld=40), _row("X", D0, role="new", ld=5)],
         r"row 3: lesion 'X' .* role 'new' at the baseline"),
        ([_row("L1", D0, ld=-4)], r"row 2: longest_diameter_mm is '-4', expected a number >= 0"),
        ([_row("L1", "2026-13-01", ld=4)], r"row 2: date is '2026-13-01', expected an ISO 8601"),
        ([_row("L1", D0, role="targte", ld=4)], r"row 2: role is 'targte', expected one of target"),
        ([_row("L1", D0, ld=40, status="gone")], r"row 2: status is 'gone', expected one of"),
        ([_row("L1", D0, ld=40, status="unequivocal-progression")],
         r"status .* expected present or absent for a target"),
        ([_row("L1", D0, ld=40, node="maybe")], r"row 2: is_node is 'maybe', expected true"),
        ([_row("L1", D0, ld="abc")], r"longest_diameter_mm is 'abc', expected a decimal number"),
        ([_row(f"L{i}", D0, ld=20, organ=f"o{i}") for i in range(6)],
         r"has 6 target lesions at baseline; expected at most 5"),
        ([_row(f"L{i}", D0, ld=20) for i in range(3)],
         r"3 target lesions in organ 'liver' \(rows 2, 3, 4\); expected at most 2 per organ"),
        ([_row("L1", D0, viable=20)], r"row 2: target lesion 'L1' has no longest_diameter_mm at"),
        ([_row("L1", D0, ld=20), _row("L1", D0, ld=21)], r"row 3: lesion 'L1' .* already in row 2"),
        ([_row("L1", D0, ld=20), _row("L1", D1, role="non-target")],
         r"row 3: .* is role 'non-target'.*row 2 says role 'target'"),
        ([_row("M1", D0, role="non-target")], r"has no target lesion at baseline"),
        ([_row("M1", D0, role="non-target", status="")], r"row 2: status is ''"),
    ],
)  # fmt: skip
def test_bad_rows_are_named(rows: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _assess(rows)


def test_bad_header_and_empty_table() -> None:
    with pytest.raises(InputError, match="the header lacks column 'status'"):
        parse_measurements(HEADER.replace(",status", "") + "\n")
    with pytest.raises(InputError, match="no measurement rows"):
        parse_measurements(HEADER + "\n")
    _, warnings = parse_measurements(HEADER + ",reader\n" + _row("L1", D0, ld=20) + ",AB\n")
    assert warnings == ["measurements: column 'reader' is not used"]


def test_small_target_warns_and_missing_file_errors(tmp_path: Path) -> None:
    result = _assess([_row("L1", D0, ld=8), _row("L1", D1, ld=4)])
    assert any("below the RECIST 1.1 measurable size 10 mm" in w for w in result.warnings)
    with pytest.raises(InputError, match="cannot read the measurement table"):
        assess_measurements(tmp_path / "none.csv")
