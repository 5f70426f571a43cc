"""Child-Pugh, ALBI, MELD/MELD-Na and ECOG against hand-computed values and cut-offs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from opensirt.clinical.liver_function import (
    ChildPughClass,
    EcogStatus,
    albi,
    albi_grade,
    child_pugh,
    ecog_status,
    meld,
)
from opensirt.errors import InputError
from opensirt.patient import units
from opensirt.patient.inputs import Labs

_NORMAL = {"bilirubin_mg_dl": 1.0, "albumin_g_dl": 4.0, "ascites": "none",
           "encephalopathy_grade": 0, "inr": 1.0}  # fmt: skip


def _cp(**changes: object) -> int:
    args = {**_NORMAL, **changes}
    return child_pugh(**args).item_points  # type: ignore[arg-type]


# --- Child-Pugh ---------------------------------------------------------------------------


@pytest.mark.parametrize(("bilirubin_mg_dl", "points"), [(1.99, 1), (2.0, 2), (3.0, 2), (3.01, 3)])
def test_child_pugh_bilirubin_bands_middle_closed(bilirubin_mg_dl: float, points: int) -> None:
    assert _cp(bilirubin_mg_dl=bilirubin_mg_dl)["bilirubin"] == points


@pytest.mark.parametrize(("albumin_g_dl", "points"), [(3.51, 1), (3.5, 2), (2.8, 2), (2.79, 3)])
def test_child_pugh_albumin_bands(albumin_g_dl: float, points: int) -> None:
    assert _cp(albumin_g_dl=albumin_g_dl)["albumin"] == points


@pytest.mark.parametrize(("inr", "points"), [(1.69, 1), (1.7, 2), (2.3, 2), (2.31, 3)])
def test_child_pugh_inr_bands(inr: float, points: int) -> None:
    assert _cp(inr=inr)["coagulation"] == points


@pytest.mark.parametrize(("seconds", "points"), [(3.9, 1), (4.0, 2), (6.0, 2), (6.1, 3)])
def test_child_pugh_prothrombin_time_when_no_inr(seconds: float, points: int) -> None:
    assert _cp(inr=None, prothrombin_prolongation_s=seconds)["coagulation"] == points


@pytest.mark.parametrize(
    ("ascites", "grade", "expected"),
    [("none", 0, (1, 1)), ("mild", 1, (2, 2)), ("moderate", 2, (3, 2)), ("severe", 3, (3, 3))],
)
def test_child_pugh_ascites_and_encephalopathy(
    ascites: str, grade: int, expected: tuple[int, int]
) -> None:
    items = _cp(ascites=ascites, encephalopathy_grade=grade)
    assert (items["ascites"], items["encephalopathy"]) == expected


def test_child_pugh_class_cut_offs() -> None:
    # 1+1+1+1+2 = 6 -> A; 2+1+1+1+2 = 7 -> B; 3+3+1+1+1 = 9 -> B; 3+3+2+1+1 = 10 -> C
    a = child_pugh(**{**_NORMAL, "ascites": "mild"})  # type: ignore[arg-type]
    b = child_pugh(**{**_NORMAL, "ascites": "mild", "bilirubin_mg_dl": 2.5})  # type: ignore[arg-type]
    b9 = child_pugh(**{**_NORMAL, "bilirubin_mg_dl": 4.0, "albumin_g_dl": 2.5})  # type: ignore[arg-type]
    c = child_pugh(**{**_NORMAL, "bilirubin_mg_dl": 4.0, "albumin_g_dl": 2.5, "inr": 2.0})  # type: ignore[arg-type]
    assert (a.points, a.child_pugh_class) == (6, ChildPughClass.A)
    assert (b.points, b.label()) == (7, "B7")
    assert (b9.points, b9.child_pugh_class) == (9, ChildPughClass.B)
    assert (c.points, c.child_pugh_class) == (10, ChildPughClass.C)


def test_child_pugh_si_bilirubin_boundary_after_conversion() -> None:
    # 34 umol/L / 17.1 = 1.988 mg/dL -> 1 point; 34.2 umol/L = 2.0 mg/dL -> 2 points
    assert _cp(bilirubin_mg_dl=units.bilirubin_umol_l_to_mg_dl(34.0))["bilirubin"] == 1
    assert _cp(bilirubin_mg_dl=units.bilirubin_umol_l_to_mg_dl(34.2))["bilirubin"] == 2


def test_child_pugh_bad_input_messages() -> None:
    with pytest.raises(InputError, match="encephalopathy_grade is 5, expected a West Haven"):
        _cp(encephalopathy_grade=5)
    with pytest.raises(InputError, match="needs inr or prothrombin_prolongation_s"):
        _cp(inr=None)
    with pytest.raises(InputError, match=r"albumin_g_dl is -1\.0 g/dL"):
        _cp(albumin_g_dl=-1.0)
    with pytest.raises(ValueError, match="'cloudy' is not a valid Ascites"):
        _cp(ascites="cloudy")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    bili=st.floats(0.1, 20.0),
    extra=st.floats(0.0, 10.0),
    alb=st.floats(1.5, 5.5),
    inr=st.floats(0.8, 4.0),
    grade=st.integers(0, 4),
)
def test_child_pugh_points_range_and_monotone_in_bilirubin(
    bili: float, extra: float, alb: float, inr: float, grade: int
) -> None:
    args = {"albumin_g_dl": alb, "ascites": "mild", "encephalopathy_grade": grade, "inr": inr}
    low = child_pugh(bilirubin_mg_dl=bili, **args)  # type: ignore[arg-type]
    high = child_pugh(bilirubin_mg_dl=bili + extra, **args)  # type: ignore[arg-type]
    assert 5 <= low.points <= high.points <= 15


# --- units and Labs -----------------------------------------------------------------------


def test_labs_convert_either_unit() -> None:
    labs = Labs(bilirubin_mg_dl=2.0, albumin_g_dl=3.5, creatinine_umol_l=176.8)
    assert labs.bilirubin_in_umol_l() == pytest.approx(34.2)  # 2 * 17.1
    assert labs.albumin_in_g_l() == pytest.approx(35.0)  # 3.5 * 10
    assert labs.creatinine_in_mg_dl() == pytest.approx(2.0)  # 176.8 / 88.4
    si = Labs(bilirubin_umol_l=51.3, albumin_g_l=28)
    assert si.bilirubin_in_mg_dl() == pytest.approx(3.0)  # 51.3 / 17.1
    assert si.albumin_in_g_l() == 28


def test_labs_reject_both_units_and_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="either bilirubin_umol_l or bilirubin_mg_dl"):
        Labs(bilirubin_umol_l=18, bilirubin_mg_dl=1.0)
    with pytest.raises(ValidationError, match="albumin_gl"):
        Labs(albumin_gl=38)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="greater than 0"):
        Labs(inr=0)


# --- ALBI ---------------------------------------------------------------------------------


def test_albi_hand_computed() -> None:
    # 0.66 * log10(18) - 0.085 * 38 = 0.66 * 1.255273 - 3.23 = -2.401520
    a = albi(bilirubin_umol_l=18.0, albumin_g_l=38.0)
    assert a.score == pytest.approx(0.66 * math.log10(18.0) - 3.23)
    assert a.score == pytest.approx(-2.40152, abs=1e-5)
    assert a.grade == 2
    # 0.66 * log10(100) - 0.085 * 25 = 1.32 - 2.125 = -0.805 -> grade 3
    assert albi(bilirubin_umol_l=100.0, albumin_g_l=25.0).score == pytest.approx(-0.805)
    assert albi(bilirubin_umol_l=100.0, albumin_g_l=25.0).grade == 3


@pytest.mark.parametrize(
    ("score", "grade"), [(-2.61, 1), (-2.60, 1), (-2.5999, 2), (-1.39, 2), (-1.3899, 3)]
)
def test_albi_grade_cut_offs(score: float, grade: int) -> None:
    assert albi_grade(score) == grade


def test_albi_needs_positive_bilirubin() -> None:
    with pytest.raises(InputError, match=r"bilirubin_umol_l is 0\.0 umol/L, expected a positive"):
        albi(bilirubin_umol_l=0.0, albumin_g_l=40.0)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(bili=st.floats(1.0, 500.0), alb=st.floats(10.0, 60.0), more=st.floats(0.1, 20.0))
def test_albi_worse_with_higher_bilirubin_lower_albumin(
    bili: float, alb: float, more: float
) -> None:
    base = albi(bilirubin_umol_l=bili, albumin_g_l=alb)
    assert albi(bilirubin_umol_l=bili * (1 + more), albumin_g_l=alb).score > base.score
    assert albi(bilirubin_umol_l=bili, albumin_g_l=alb - 1.0).grade >= base.grade


# --- MELD ---------------------------------------------------------------------------------


def test_meld_worked_example() -> None:
    # MELD(i) = 0.957 ln 1 + 0.378 ln 1.5 + 1.120 ln 1.5 + 0.643 = 1.2504 -> 13
    # MELD-Na = 13 + 1.32 * 2 - 0.033 * 13 * 2 = 14.782 -> 15
    m = meld(bilirubin_mg_dl=1.5, inr=1.5, creatinine_mg_dl=1.0, sodium_mmol_l=135)
    assert (m.meld, m.meld_na) == (13, 15)


def test_meld_hand_computed_with_sodium() -> None:
    # 0.957 ln 2 + 0.378 ln 3 + 1.120 ln 2 + 0.643 = 0.6633 + 0.4153 + 0.7763 + 0.643 = 2.4979
    # -> 25; MELD-Na = 25 + 1.32 * 7 - 0.033 * 25 * 7 = 25 + 9.24 - 5.775 = 28.465 -> 28
    m = meld(bilirubin_mg_dl=3.0, inr=2.0, creatinine_mg_dl=2.0, sodium_mmol_l=130)
    assert (m.meld, m.meld_na) == (25, 28)


def test_meld_bounds() -> None:
    low = meld(bilirubin_mg_dl=0.5, inr=0.9, creatinine_mg_dl=0.6)  # all set to 1: 6.43 -> 6
    assert low.meld == 6
    assert low.bounded_inputs == {"bilirubin_mg_dl": 1.0, "inr": 1.0, "creatinine_mg_dl": 1.0}
    assert len(low.notes) == 3
    capped = meld(bilirubin_mg_dl=1.0, inr=1.0, creatinine_mg_dl=6.0)
    four = meld(bilirubin_mg_dl=1.0, inr=1.0, creatinine_mg_dl=4.0)
    dialysis = meld(
        bilirubin_mg_dl=1.0, inr=1.0, creatinine_mg_dl=1.2, dialysis_twice_past_week=True
    )
    # 0.957 ln 4 + 0.643 = 1.9697 -> 20
    assert capped.meld == four.meld == dialysis.meld == 20
    top = meld(bilirubin_mg_dl=40.0, inr=10.0, creatinine_mg_dl=4.0, sodium_mmol_l=110)
    assert (top.meld, top.meld_na) == (40, 40)


def test_meld_na_sodium_bounds_and_low_meld() -> None:
    # MELD 13; sodium 140 bounded to 137 -> MELD-Na = MELD
    assert meld(bilirubin_mg_dl=1.5, inr=1.5, creatinine_mg_dl=1.0, sodium_mmol_l=140).meld_na == 13
    a = meld(bilirubin_mg_dl=1.5, inr=1.5, creatinine_mg_dl=1.0, sodium_mmol_l=120)
    b = meld(bilirubin_mg_dl=1.5, inr=1.5, creatinine_mg_dl=1.0, sodium_mmol_l=125)
    assert a.meld_na == b.meld_na == 24  # sodium 125: 13 + 1.32 * 12 - 0.033 * 13 * 12 = 23.692
    # MELD(i) <= 11: no sodium term. bilirubin 1, INR 1.1, creat 1: 1.12 ln 1.1 + 0.643 -> 7
    assert meld(bilirubin_mg_dl=1.0, inr=1.1, creatinine_mg_dl=1.0, sodium_mmol_l=125).meld_na == 7


def test_meld_bad_input() -> None:
    with pytest.raises(InputError, match=r"creatinine_mg_dl is 0\.0 mg/dL"):
        meld(bilirubin_mg_dl=1.0, inr=1.0, creatinine_mg_dl=0.0)


# --- ECOG ---------------------------------------------------------------------------------


def test_ecog() -> None:
    assert ecog_status(0) is EcogStatus.FULLY_ACTIVE
    assert ecog_status(4).description.startswith("completely disabled")
    with pytest.raises(InputError, match="ecog is 6, expected an ECOG performance status 0-5"):
        ecog_status(6)
