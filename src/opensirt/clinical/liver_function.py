"""Liver function scores: Child-Pugh, ALBI, MELD and MELD-Na; ECOG performance status.

Each score takes explicit values in named units and raises
:class:`~opensirt.errors.InputError` for values outside their physical range. Cut-offs are
data (:class:`ChildPughCutoffs`, :data:`ALBI_GRADE_CUTOFFS`), with their source.

References
----------
.. [PUGH1973] Pugh RNH, Murray-Lyon IM, Dawson JL, Pietroni MC, Williams R. Transection of the
   oesophagus for bleeding oesophageal varices. Br J Surg 1973;60:646-649.
   doi:10.1002/bjs.1800600817
.. [JOHNSON2015] Johnson PJ, Berhane S, Kagebayashi C et al. Assessment of liver function in
   patients with hepatocellular carcinoma: a new evidence-based approach - the ALBI grade.
   J Clin Oncol 2015;33:550-558. doi:10.1200/JCO.2014.57.9151
.. [KAMATH2001] Kamath PS, Wiesner RH, Malinchoc M et al. A model to predict survival in
   patients with end-stage liver disease. Hepatology 2001;33:464-470. doi:10.1053/jhep.2001.22172
.. [KIM2008] Kim WR, Biggins SW, Kremers WK et al. Hyponatremia and mortality among patients on
   the liver-transplant waiting list. N Engl J Med 2008;359:1018-1026.
   doi:10.1056/NEJMoa0801209
.. [OPTN2016] OPTN/UNOS Policy 9.1 (MELD-Na, effective 11 January 2016): lab values < 1.0 set
   to 1.0; creatinine capped at 4.0 mg/dL and set to 4.0 after dialysis twice (or CVVHD 24 h)
   in the past week; MELD(i) rounded to the tenth and multiplied by 10; if MELD(i) > 11,
   MELD = MELD(i) + 1.32 (137 - Na) - 0.033 MELD(i) (137 - Na), sodium bounded to 125-137;
   scores capped at 40.
.. [OKEN1982] Oken MM, Creech RH, Tormey DC et al. Toxicity and response criteria of the
   Eastern Cooperative Oncology Group. Am J Clin Oncol 1982;5:649-655.
   doi:10.1097/00000421-198212000-00014
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from opensirt.errors import InputError, check_non_negative, check_positive
from opensirt.patient.inputs import Ascites


class ChildPughClass(StrEnum):
    """Child-Pugh class: A 5-6 points, B 7-9, C 10-15 [PUGH1973]_."""

    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class ChildPughCutoffs:
    """Band limits of the Child-Pugh score; the middle band is closed at both ends.

    Boundary convention: a value equal to a limit scores the middle band (bilirubin exactly
    2.0 or 3.0 mg/dL scores 2 points; albumin exactly 3.5 or 2.8 g/dL scores 2; INR exactly 1.7
    or 2.3 scores 2; prothrombin prolongation exactly 4 or 6 s scores 2), as the bands are
    written "2-3", "2.8-3.5" and "4-6" in the table of [PUGH1973]_. Bilirubin and albumin are
    compared in mg/dL and g/dL, the units of that table (34 umol/L = 1.99 mg/dL scores 1 point).
    The INR bands are the usual substitution for the prothrombin-time bands (not in Pugh 1973).
    """

    bilirubin_mg_dl: tuple[float, float] = (2.0, 3.0)
    albumin_g_dl: tuple[float, float] = (2.8, 3.5)
    inr: tuple[float, float] = (1.7, 2.3)
    prothrombin_prolongation_s: tuple[float, float] = (4.0, 6.0)
    class_b_min_points: int = 7
    class_c_min_points: int = 10
    source: str = "Pugh et al. 1973 doi:10.1002/bjs.1800600817"


def _band_rising(value: float, limits: tuple[float, float]) -> int:
    """1, 2 or 3 points for a value that is worse when higher (middle band closed)."""
    low, high = limits
    return 1 if value < low else (2 if value <= high else 3)


def _band_falling(value: float, limits: tuple[float, float]) -> int:
    """1, 2 or 3 points for a value that is worse when lower (middle band closed)."""
    low, high = limits
    return 1 if value > high else (2 if value >= low else 3)


@dataclass(frozen=True)
class ChildPugh:
    """Child-Pugh points per item, total points (5-15) and class."""

    points: int
    child_pugh_class: ChildPughClass
    item_points: dict[str, int]
    source: str

    def label(self) -> str:
        """Class and points, e.g. ``"B7"``.

        Returns
        -------
        str
            The class letter followed by the total points.
        """
        return f"{self.child_pugh_class.value}{self.points}"


def child_pugh(
    *,
    bilirubin_mg_dl: float,
    albumin_g_dl: float,
    ascites: Ascites | str,
    encephalopathy_grade: int,
    inr: float | None = None,
    prothrombin_prolongation_s: float | None = None,
    cutoffs: ChildPughCutoffs = ChildPughCutoffs(),
) -> ChildPugh:
    """Child-Pugh score [PUGH1973]_ (INR is used when both INR and prothrombin time are given).

    Parameters
    ----------
    bilirubin_mg_dl : float
        Total bilirubin (mg/dL; from umol/L divide by 17.1).
    albumin_g_dl : float
        Albumin (g/dL; from g/L divide by 10).
    ascites : Ascites or str
        ``none`` 1 point, ``mild`` 2, ``moderate`` or ``severe`` 3.
    encephalopathy_grade : int
        West Haven grade: 0 scores 1 point, 1-2 score 2, 3-4 score 3.
    inr, prothrombin_prolongation_s : float, optional
        Coagulation: one of the two is required. INR is a dimensionless ratio; the
        prothrombin prolongation is the time above the control (s).
    cutoffs : ChildPughCutoffs, optional
        Band limits and class limits (default: those of [PUGH1973]_, INR bands by the usual
        substitution).

    Returns
    -------
    ChildPugh
        Points per item, total points (5-15) and class (A 5-6, B 7-9, C 10-15).

    Raises
    ------
    InputError
        If a value is outside its physical range (bilirubin negative, albumin or INR not
        > 0, encephalopathy grade not 0-4) or neither coagulation value is given.
    ValueError
        If ``ascites`` is not one of ``none``, ``mild``, ``moderate``, ``severe``.

    Examples
    --------
    >>> cp = child_pugh(bilirubin_mg_dl=2.5, albumin_g_dl=3.0, ascites="none",
    ...                 encephalopathy_grade=0, inr=1.2)
    >>> cp.points, cp.child_pugh_class.value   # 2 + 2 + 1 + 1 + 1
    (7, 'B')
    """
    check_non_negative("bilirubin_mg_dl", bilirubin_mg_dl, "mg/dL")
    check_positive("albumin_g_dl", albumin_g_dl, "g/dL")
    if not 0 <= encephalopathy_grade <= 4:
        raise InputError(
            f"encephalopathy_grade is {encephalopathy_grade!r}, expected a West Haven grade 0-4"
        )
    items = {
        "bilirubin": _band_rising(bilirubin_mg_dl, cutoffs.bilirubin_mg_dl),
        "albumin": _band_falling(albumin_g_dl, cutoffs.albumin_g_dl),
        "coagulation": _coagulation_points(inr, prothrombin_prolongation_s, cutoffs),
        "ascites": {Ascites.NONE: 1, Ascites.MILD: 2}.get(Ascites(ascites), 3),
        "encephalopathy": 1
        if encephalopathy_grade == 0
        else (2 if encephalopathy_grade <= 2 else 3),
    }
    points = sum(items.values())
    if points >= cutoffs.class_c_min_points:
        klass = ChildPughClass.C
    elif points >= cutoffs.class_b_min_points:
        klass = ChildPughClass.B
    else:
        klass = ChildPughClass.A
    return ChildPugh(points, klass, items, cutoffs.source)


def _coagulation_points(
    inr: float | None, prothrombin_prolongation_s: float | None, cutoffs: ChildPughCutoffs
) -> int:
    if inr is not None:
        return _band_rising(check_positive("inr", inr, "(ratio)"), cutoffs.inr)
    if prothrombin_prolongation_s is not None:
        check_non_negative("prothrombin_prolongation_s", prothrombin_prolongation_s, "s")
        return _band_rising(prothrombin_prolongation_s, cutoffs.prothrombin_prolongation_s)
    raise InputError("child_pugh needs inr or prothrombin_prolongation_s; neither was given")


# ALBI grade limits [JOHNSON2015]_: grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3.
ALBI_GRADE_CUTOFFS: tuple[float, float] = (-2.60, -1.39)
ALBI_SOURCE = "Johnson et al. 2015 J Clin Oncol 33:550 doi:10.1200/JCO.2014.57.9151"


@dataclass(frozen=True)
class Albi:
    """ALBI score (dimensionless) and grade 1-3."""

    score: float
    grade: int
    source: str = ALBI_SOURCE


def albi(
    *,
    bilirubin_umol_l: float,
    albumin_g_l: float,
    cutoffs: tuple[float, float] = ALBI_GRADE_CUTOFFS,
) -> Albi:
    """ALBI = 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L [JOHNSON2015]_.

    Grade 1 for a score <= -2.60, grade 2 for > -2.60 and <= -1.39, grade 3 for > -1.39.

    Parameters
    ----------
    bilirubin_umol_l : float
        Total serum bilirubin (umol/L, > 0; from mg/dL multiply by 17.1).
    albumin_g_l : float
        Serum albumin (g/L, > 0; from g/dL multiply by 10).
    cutoffs : tuple[float, float], optional
        Upper limits of grades 1 and 2 (dimensionless score; default
        :data:`ALBI_GRADE_CUTOFFS`, -2.60 and -1.39).

    Returns
    -------
    Albi
        The score (dimensionless, lower is better) and its grade 1-3.

    Raises
    ------
    InputError
        If bilirubin or albumin is not > 0.

    Examples
    --------

    >>> a = albi(bilirubin_umol_l=10.0, albumin_g_l=40.0)  # 0.66 * 1 - 0.085 * 40 = -2.74
    >>> round(a.score, 6), a.grade
    (-2.74, 1)
    """
    check_positive("bilirubin_umol_l", bilirubin_umol_l, "umol/L")
    check_positive("albumin_g_l", albumin_g_l, "g/L")
    score = 0.66 * math.log10(bilirubin_umol_l) - 0.085 * albumin_g_l
    return Albi(score=score, grade=albi_grade(score, cutoffs))


def albi_grade(score: float, cutoffs: tuple[float, float] = ALBI_GRADE_CUTOFFS) -> int:
    """ALBI grade of a score: 1 if <= -2.60, 2 if <= -1.39, else 3 [JOHNSON2015]_.

    Parameters
    ----------
    score : float
        ALBI score (dimensionless).
    cutoffs : tuple[float, float], optional
        Upper limits (inclusive) of grades 1 and 2 (default :data:`ALBI_GRADE_CUTOFFS`).

    Returns
    -------
    int
        ALBI grade 1 (best liver function) to 3.

    Examples
    --------

    >>> albi_grade(-2.60), albi_grade(-1.39), albi_grade(-1.38)
    (1, 2, 3)
    """
    return 1 if score <= cutoffs[0] else (2 if score <= cutoffs[1] else 3)


@dataclass(frozen=True)
class Meld:
    """MELD (UNOS 2016 rounding, 6-40) and, when sodium is known, MELD-Na.

    Attributes
    ----------
    meld : int
        MELD: 10 x MELD(i), MELD(i) rounded to the tenth, capped at 40 [OPTN2016]_.
    meld_na : int | None
        MELD-Na [KIM2008]_ in the OPTN 2016 form, or None without sodium.
    bounded_inputs : dict[str, float]
        The values entered in the formula after the bounds.
    notes : tuple[str, ...]
        Which bounds were applied.
    """

    meld: int
    meld_na: int | None
    bounded_inputs: dict[str, float]
    notes: tuple[str, ...]
    source: str = (
        "Kamath et al. 2001 doi:10.1053/jhep.2001.22172; Kim et al. 2008 NEJM 359:1018 "
        "doi:10.1056/NEJMoa0801209; OPTN/UNOS policy 9.1 (2016)"
    )


MELD_MAX = 40


def _floor_one(name: str, value: float, notes: list[str]) -> float:
    if value < 1.0:
        notes.append(f"{name} {value:g} < 1 set to 1")
        return 1.0
    return value


def meld(
    *,
    bilirubin_mg_dl: float,
    inr: float,
    creatinine_mg_dl: float,
    dialysis_twice_past_week: bool = False,
    sodium_mmol_l: float | None = None,
) -> Meld:
    """MELD [KAMATH2001]_ and MELD-Na [KIM2008]_ with the OPTN/UNOS 2016 bounds [OPTN2016]_.

    MELD(i) = 0.957 ln(creatinine) + 0.378 ln(bilirubin) + 1.120 ln(INR) + 0.643 (mg/dL).

    Parameters
    ----------
    bilirubin_mg_dl : float
        Total serum bilirubin (mg/dL, >= 0; from umol/L divide by 17.1); below 1 set to 1.
    inr : float
        International normalised ratio (dimensionless, > 0); below 1 set to 1.
    creatinine_mg_dl : float
        Serum creatinine (mg/dL, > 0; from umol/L divide by 88.4); below 1 set to 1, above
        4 capped at 4.
    dialysis_twice_past_week : bool, optional
        Dialysis at least twice (or CVVHD for 24 h) in the past week: creatinine is set to
        4 mg/dL. Default False.
    sodium_mmol_l : float | None, optional
        Serum sodium (mmol/L, > 0), bounded to 125-137 for MELD-Na; ``None`` (default):
        MELD-Na is not computed.

    Returns
    -------
    Meld
        MELD (6-40), MELD-Na (``None`` without sodium), the bounded inputs and which bounds
        were applied.

    Raises
    ------
    InputError
        If bilirubin is negative, or INR, creatinine or sodium is not > 0.

    Examples
    --------
    Creatinine 1.0, bilirubin 1.5 mg/dL, INR 1.5, sodium 135 mmol/L: MELD(i) = 0 + 0.1533 +
    0.4541 + 0.643 = 1.2504 -> 1.3 -> MELD 13; MELD-Na = 13 + 1.32*2 - 0.033*13*2 = 14.78 -> 15.

    >>> m = meld(bilirubin_mg_dl=1.5, inr=1.5, creatinine_mg_dl=1.0, sodium_mmol_l=135)
    >>> m.meld, m.meld_na
    (13, 15)
    """
    check_non_negative("bilirubin_mg_dl", bilirubin_mg_dl, "mg/dL")
    check_positive("inr", inr, "(ratio)")
    check_positive("creatinine_mg_dl", creatinine_mg_dl, "mg/dL")
    notes: list[str] = []
    bili = _floor_one("bilirubin_mg_dl", bilirubin_mg_dl, notes)
    inr_b = _floor_one("inr", inr, notes)
    creat = _floor_one("creatinine_mg_dl", creatinine_mg_dl, notes)
    if dialysis_twice_past_week:
        notes.append("dialysis twice in the past week: creatinine set to 4 mg/dL")
        creat = 4.0
    elif creat > 4.0:
        notes.append(f"creatinine_mg_dl {creat:g} > 4 capped at 4")
        creat = 4.0
    meld_i = 0.957 * math.log(creat) + 0.378 * math.log(bili) + 1.120 * math.log(inr_b) + 0.643
    meld_10 = float(_round_half_up(meld_i * 10.0))  # MELD(i) to the tenth, times 10
    bounded = {"bilirubin_mg_dl": bili, "inr": inr_b, "creatinine_mg_dl": creat}
    meld_na = None
    if sodium_mmol_l is not None:
        na = min(max(check_positive("sodium_mmol_l", sodium_mmol_l, "mmol/L"), 125.0), 137.0)
        if na != sodium_mmol_l:
            notes.append(f"sodium_mmol_l {sodium_mmol_l:g} bounded to {na:g}")
        bounded["sodium_mmol_l"] = na
        value = meld_10
        if meld_10 > 11.0:
            value = meld_10 + 1.32 * (137.0 - na) - 0.033 * meld_10 * (137.0 - na)
        meld_na = min(_round_half_up(value), MELD_MAX)
    return Meld(min(_round_half_up(meld_10), MELD_MAX), meld_na, bounded, tuple(notes))


def _round_half_up(value: float) -> int:
    """Round to the nearest integer, halves up (not Python's round-half-to-even)."""
    return math.floor(value + 0.5 + 1e-9)


class EcogStatus(IntEnum):
    """ECOG performance status [OKEN1982]_."""

    FULLY_ACTIVE = 0
    RESTRICTED_STRENUOUS = 1
    AMBULATORY_SELF_CARE = 2
    LIMITED_SELF_CARE = 3
    DISABLED = 4
    DEAD = 5

    @property
    def description(self) -> str:
        """The ECOG definition, shortened."""
        return _ECOG_TEXT[self.value]


_ECOG_TEXT = (
    "fully active, able to carry on all pre-disease performance without restriction",
    "restricted in strenuous activity but ambulatory and able to do light work",
    "ambulatory and capable of all self-care, unable to work; up more than 50 % of waking hours",
    "capable of only limited self-care; confined to bed or chair more than 50 % of waking hours",
    "completely disabled; no self-care; totally confined to bed or chair",
    "dead",
)


def ecog_status(value: int) -> EcogStatus:
    """Return the ECOG status for 0-5, else raise :class:`InputError`.

    Parameters
    ----------
    value : int
        ECOG performance status, 0 (fully active) to 5 (dead) [OKEN1982]_.

    Returns
    -------
    EcogStatus
        The status, with its definition in ``description``.

    Raises
    ------
    InputError
        If ``value`` is not an integer 0-5.

    Examples
    --------

    >>> ecog_status(1).description
    'restricted in strenuous activity but ambulatory and able to do light work'
    """
    try:
        return EcogStatus(int(value))
    except ValueError:
        raise InputError(f"ecog is {value!r}, expected an ECOG performance status 0-5") from None
