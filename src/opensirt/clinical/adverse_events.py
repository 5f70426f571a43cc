"""Adverse events after radioembolization: CTCAE v5.0 grades, REILD, monitoring, follow-up.

* Laboratory events (bilirubin, AST, ALT, alkaline phosphatase increased; hypoalbuminemia)
  and fever are graded from the measured value [CTCAE5]_. Liver enzymes and bilirubin are
  graded against the upper limit of normal (ULN) when the baseline is normal, and against the
  baseline when the baseline is abnormal (above the ULN), as CTCAE v5.0 prescribes. Band
  limits are exclusive below and inclusive above ("> 3.0 - 5.0 x ULN").
* Clinical events (fatigue, nausea, abdominal pain, pneumonitis, gastric and duodenal ulcer)
  are graded by the clinician against the CTCAE definitions in :data:`CTCAE_TERMS`;
  :func:`record_event` checks that the grade exists for the term and returns its definition.
* REILD, radioembolization-induced liver disease, by the definition of [SANGRO2008]_.
* The 4-6 h post-procedure monitoring checklist and the follow-up schedule are data.

References
----------
.. [CTCAE5] National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
   version 5.0. US Department of Health and Human Services, 27 November 2017.
.. [SANGRO2008] Sangro B, Gil-Alzugaray B, Rodriguez J et al. Liver disease induced by
   radioembolization of liver tumors: description and possible risk factors. Cancer
   2008;112:1538-1546. doi:10.1002/cncr.23339
.. [WEBER2022] Weber M, Lam M, Chiesa C et al. EANM procedure guideline for the treatment of
   liver cancer and liver metastases with intra-arterial radioactive compounds. Eur J Nucl Med
   Mol Imaging 2022;49:1682-1699. doi:10.1007/s00259-021-05600-z
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from opensirt.errors import InputError, check_non_negative, check_positive

CTCAE_SOURCE = "CTCAE v5.0 (NCI, 27 November 2017)"
REILD_SOURCE = "Sangro et al. 2008 Cancer 112:1538 doi:10.1002/cncr.23339"
_EANM = "Weber et al. 2022 (EANM) doi:10.1007/s00259-021-05600-z"


class AdverseEvent(StrEnum):
    """Adverse events followed after SIRT (CTCAE v5.0 terms)."""

    FATIGUE = "fatigue"
    NAUSEA = "nausea"
    ABDOMINAL_PAIN = "abdominal-pain"
    FEVER = "fever"
    BILIRUBIN_INCREASED = "blood-bilirubin-increased"
    AST_INCREASED = "ast-increased"
    ALT_INCREASED = "alt-increased"
    ALP_INCREASED = "alkaline-phosphatase-increased"
    HYPOALBUMINEMIA = "hypoalbuminemia"
    PNEUMONITIS = "pneumonitis"
    GASTRIC_ULCER = "gastric-ulcer"
    DUODENAL_ULCER = "duodenal-ulcer"


_ADL_I = "limiting instrumental ADL"
_ADL_S = "limiting self-care ADL"
_ULCER = {
    1: "asymptomatic; clinical or diagnostic observations only; intervention not indicated",
    2: f"symptomatic; medical intervention indicated; {_ADL_I}",
    3: "severely altered GI function; TPN indicated; elective operative or endoscopic "
    f"intervention indicated; {_ADL_S}; disabling",
    4: "life-threatening consequences; urgent operative intervention indicated",
    5: "death",
}

# Grade definitions [CTCAE5]_, shortened; grade 0 is "none".
CTCAE_TERMS: dict[AdverseEvent, dict[int, str]] = {
    AdverseEvent.FATIGUE: {
        1: "fatigue relieved by rest",
        2: f"fatigue not relieved by rest; {_ADL_I}",
        3: f"fatigue not relieved by rest; {_ADL_S}",
    },
    AdverseEvent.NAUSEA: {
        1: "loss of appetite without alteration in eating habits",
        2: "oral intake decreased without significant weight loss, dehydration or malnutrition",
        3: "inadequate oral caloric or fluid intake; tube feeding, TPN, or hospitalization",
    },
    AdverseEvent.ABDOMINAL_PAIN: {
        1: "mild pain",
        2: f"moderate pain; {_ADL_I}",
        3: f"severe pain; {_ADL_S}",
    },
    AdverseEvent.FEVER: {
        1: "38.0 - 39.0 degC",
        2: "> 39.0 - 40.0 degC",
        3: "> 40.0 degC for <= 24 h",
        4: "> 40.0 degC for > 24 h",
        5: "death",
    },
    AdverseEvent.BILIRUBIN_INCREASED: {
        1: "> ULN - 1.5 x ULN (> 1.0 - 1.5 x baseline if baseline abnormal)",
        2: "> 1.5 - 3.0 x ULN (> 1.5 - 3.0 x baseline if baseline abnormal)",
        3: "> 3.0 - 10.0 x ULN (> 3.0 - 10.0 x baseline if baseline abnormal)",
        4: "> 10.0 x ULN (> 10.0 x baseline if baseline abnormal)",
    },
    AdverseEvent.AST_INCREASED: {
        1: "> ULN - 3.0 x ULN (1.5 - 3.0 x baseline if baseline abnormal)",
        2: "> 3.0 - 5.0 x ULN (> 3.0 - 5.0 x baseline if baseline abnormal)",
        3: "> 5.0 - 20.0 x ULN (> 5.0 - 20.0 x baseline if baseline abnormal)",
        4: "> 20.0 x ULN (> 20.0 x baseline if baseline abnormal)",
    },
    AdverseEvent.ALP_INCREASED: {
        1: "> ULN - 2.5 x ULN (2.0 - 2.5 x baseline if baseline abnormal)",
        2: "> 2.5 - 5.0 x ULN (> 2.5 - 5.0 x baseline if baseline abnormal)",
        3: "> 5.0 - 20.0 x ULN (> 5.0 - 20.0 x baseline if baseline abnormal)",
        4: "> 20.0 x ULN (> 20.0 x baseline if baseline abnormal)",
    },
    AdverseEvent.HYPOALBUMINEMIA: {
        1: "< LLN - 30 g/L",
        2: "< 30 - 20 g/L",
        3: "< 20 g/L",
        4: "life-threatening consequences; urgent intervention indicated",
        5: "death",
    },
    AdverseEvent.PNEUMONITIS: {
        1: "asymptomatic; clinical or diagnostic observations only; intervention not indicated",
        2: f"symptomatic; medical intervention indicated; {_ADL_I}",
        3: f"severe symptoms; {_ADL_S}; oxygen indicated",
        4: "life-threatening respiratory compromise; urgent intervention indicated",
        5: "death",
    },
    AdverseEvent.GASTRIC_ULCER: _ULCER,
    AdverseEvent.DUODENAL_ULCER: _ULCER,
}
CTCAE_TERMS[AdverseEvent.ALT_INCREASED] = CTCAE_TERMS[AdverseEvent.AST_INCREASED]


@dataclass(frozen=True)
class GradedEvent:
    """An adverse event with its CTCAE v5.0 grade (0: none) and the definition met."""

    event: AdverseEvent
    grade: int
    definition: str
    source: str = CTCAE_SOURCE


def _graded(event: AdverseEvent, grade: int) -> GradedEvent:
    return GradedEvent(event, grade, CTCAE_TERMS[event].get(grade, "none"))


def record_event(event: AdverseEvent | str, grade: int) -> GradedEvent:
    """Record a clinician-graded event; the grade must exist for the term [CTCAE5]_.

    Parameters
    ----------
    event : AdverseEvent | str
        The CTCAE term, as the enum or its value (``"fatigue"``, ``"gastric-ulcer"`` ...).
    grade : int
        The clinician's CTCAE v5.0 grade: 0 (none) or a grade defined for the term in
        :data:`CTCAE_TERMS`.

    Returns
    -------
    GradedEvent
        The event, its grade and the CTCAE definition of that grade (``"none"`` for 0).

    Raises
    ------
    InputError
        If the term is unknown or CTCAE v5.0 defines no such grade for it.

    Examples
    --------
    >>> record_event("fatigue", 2).definition
    'fatigue not relieved by rest; limiting instrumental ADL'
    """
    try:
        term = AdverseEvent(event)
    except ValueError:
        known = ", ".join(e.value for e in AdverseEvent)
        raise InputError(f"adverse event is {event!r}, expected one of {known}") from None
    allowed = [0, *CTCAE_TERMS[term]]
    if grade not in allowed:
        raise InputError(
            f"grade of {term.value} is {grade!r}, expected one of {allowed} (CTCAE v5.0 "
            f"defines grades up to {max(allowed)} for this term)"
        )
    return _graded(term, grade)


def grade_fever(temperature_c: float, duration_h: float | None = None) -> GradedEvent:
    """CTCAE v5.0 fever grade from the highest temperature (degC) [CTCAE5]_.

    ``duration_h`` (how long the temperature stayed above 40.0 degC) is needed only above
    40.0 degC, where it separates grade 3 (<= 24 h) from grade 4.

    Parameters
    ----------
    temperature_c : float
        Highest body temperature measured (degC).
    duration_h : float | None, optional
        Hours the temperature stayed above 40.0 degC; required only above 40.0 degC,
        ``None`` (default) otherwise.

    Returns
    -------
    GradedEvent
        The fever grade, 0 (below 38.0 degC) to 4, with its definition.

    Raises
    ------
    InputError
        If ``temperature_c`` is not > 0, or is above 40.0 degC without a ``duration_h``, or
        ``duration_h`` is negative.

    Examples
    --------
    >>> grade_fever(38.0).grade, grade_fever(39.0).grade, grade_fever(39.1).grade
    (1, 1, 2)
    """
    check_positive("temperature_c", temperature_c, "degC")
    if temperature_c < 38.0:
        return _graded(AdverseEvent.FEVER, 0)
    if temperature_c <= 39.0:
        return _graded(AdverseEvent.FEVER, 1)
    if temperature_c <= 40.0:
        return _graded(AdverseEvent.FEVER, 2)
    if duration_h is None:
        raise InputError(
            f"temperature_c is {temperature_c:g} degC (> 40.0): duration_h is needed, the hours "
            "above 40.0 degC (grade 3 if <= 24 h, grade 4 if longer)"
        )
    check_non_negative("duration_h", duration_h, "h")
    return _graded(AdverseEvent.FEVER, 3 if duration_h <= 24.0 else 4)


# Lower (exclusive) limits of grades 1-4, as multiples of the ULN (normal baseline) and of the
# baseline (abnormal baseline) [CTCAE5]_.
_LAB_BANDS: dict[AdverseEvent, tuple[tuple[float, ...], tuple[float, ...]]] = {
    AdverseEvent.BILIRUBIN_INCREASED: ((1.0, 1.5, 3.0, 10.0), (1.0, 1.5, 3.0, 10.0)),
    AdverseEvent.AST_INCREASED: ((1.0, 3.0, 5.0, 20.0), (1.5, 3.0, 5.0, 20.0)),
    AdverseEvent.ALT_INCREASED: ((1.0, 3.0, 5.0, 20.0), (1.5, 3.0, 5.0, 20.0)),
    AdverseEvent.ALP_INCREASED: ((1.0, 2.5, 5.0, 20.0), (2.0, 2.5, 5.0, 20.0)),
}


def grade_liver_lab(
    event: AdverseEvent | str, value: float, uln: float, baseline: float | None = None
) -> GradedEvent:
    """CTCAE v5.0 grade of an increased bilirubin, AST, ALT or alkaline phosphatase.

    ``value``, ``uln`` and ``baseline`` must be in the same unit (any: umol/L, mg/dL, U/L).
    When ``baseline`` is above the ULN the grade is relative to the baseline [CTCAE5]_.

    Parameters
    ----------
    event : AdverseEvent | str
        ``"blood-bilirubin-increased"``, ``"ast-increased"``, ``"alt-increased"`` or
        ``"alkaline-phosphatase-increased"`` (or the enum members).
    value : float
        The measured value after treatment (>= 0, unit of ``uln``).
    uln : float
        The laboratory's upper limit of normal (> 0, same unit).
    baseline : float | None, optional
        The value before treatment (>= 0, same unit); ``None`` (default) grades against the
        ULN as for a normal baseline.

    Returns
    -------
    GradedEvent
        The grade, 0 (not above the reference) to 4, with its definition.

    Raises
    ------
    ValueError
        If ``event`` is not an :class:`AdverseEvent` term.
    InputError
        If the term is not one of the four laboratory events, or a value is negative (the
        ULN zero or negative).

    Examples
    --------

    >>> grade_liver_lab("ast-increased", 120.0, 40.0).grade   # 3.0 x ULN: grade 1
    1
    >>> grade_liver_lab("ast-increased", 121.0, 40.0).grade   # > 3.0 x ULN: grade 2
    2
    >>> grade_liver_lab("ast-increased", 121.0, 40.0, baseline=60.0).grade  # 2.02 x baseline
    1
    """
    term = AdverseEvent(event)
    if term not in _LAB_BANDS:
        raise InputError(
            f"event is {term.value!r}, expected one of {', '.join(e.value for e in _LAB_BANDS)}"
        )
    check_non_negative("value", value, "(unit of uln)")
    check_positive("uln", uln, "(unit of value)")
    normal, abnormal = _LAB_BANDS[term]
    reference, bands = uln, normal
    if baseline is not None and check_non_negative("baseline", baseline, "(unit)") > uln:
        reference, bands = baseline, abnormal
    return _graded(term, sum(1 for limit in bands if value > limit * reference))


def grade_hypoalbuminemia(albumin_g_l: float, lln_g_l: float) -> GradedEvent:
    """CTCAE v5.0 hypoalbuminemia grade 0-3 from albumin (g/L) and its lower limit of normal.

    Grades 4-5 are clinical (life-threatening, death): use :func:`record_event`.

    Parameters
    ----------
    albumin_g_l : float
        Serum albumin after treatment (g/L, >= 0).
    lln_g_l : float
        The laboratory's lower limit of normal of albumin (g/L, > 0).

    Returns
    -------
    GradedEvent
        Grade 0 (>= LLN), 1 (< LLN, >= 30 g/L), 2 (< 30, >= 20 g/L) or 3 (< 20 g/L).

    Raises
    ------
    InputError
        If ``albumin_g_l`` is negative or ``lln_g_l`` is not > 0.

    Examples
    --------

    >>> [grade_hypoalbuminemia(a, 35.0).grade for a in (35.0, 30.0, 29.9, 20.0, 19.9)]
    [0, 1, 2, 2, 3]
    """
    check_non_negative("albumin_g_l", albumin_g_l, "g/L")
    check_positive("lln_g_l", lln_g_l, "g/L")
    if albumin_g_l >= lln_g_l:
        grade = 0
    elif albumin_g_l >= 30.0:
        grade = 1
    elif albumin_g_l >= 20.0:
        grade = 2
    else:
        grade = 3
    return _graded(AdverseEvent.HYPOALBUMINEMIA, grade)


@dataclass(frozen=True)
class Reild:
    """Whether REILD criteria are met [SANGRO2008]_, with the reasons."""

    met: bool
    reasons: tuple[str, ...]
    source: str = REILD_SOURCE


# REILD window [SANGRO2008]_: jaundice and ascites 4-8 weeks after SIRT.
REILD_WINDOW_DAYS: tuple[int, int] = (28, 56)


def assess_reild(
    *,
    days_since_sirt: int,
    jaundice: bool,
    ascites: bool,
    tumour_progression: bool,
    bile_duct_occlusion: bool,
    window_days: tuple[int, int] = REILD_WINDOW_DAYS,
) -> Reild:
    """REILD: jaundice and ascites 4-8 weeks after SIRT, without tumour progression or bile
    duct occlusion [SANGRO2008]_.

    Parameters
    ----------
    days_since_sirt : int
        Days from the treatment to the assessment (>= 0).
    jaundice : bool
        Jaundice (clinical or bilirubin increase) is present.
    ascites : bool
        Ascites is present.
    tumour_progression : bool
        Tumour progression that could explain the findings.
    bile_duct_occlusion : bool
        Bile duct occlusion that could explain the findings.
    window_days : tuple[int, int], optional
        First and last day after SIRT of the REILD window, inclusive (default
        :data:`REILD_WINDOW_DAYS`, 28-56 days, 4-8 weeks).

    Returns
    -------
    Reild
        Whether the criteria are met, with the reason, or every criterion that failed.

    Raises
    ------
    InputError
        If ``days_since_sirt`` is negative.

    Examples
    --------

    >>> assess_reild(days_since_sirt=42, jaundice=True, ascites=True,
    ...              tumour_progression=False, bile_duct_occlusion=False).met
    True
    """
    if days_since_sirt < 0:
        raise InputError(f"days_since_sirt is {days_since_sirt!r}, expected >= 0 days")
    first, last = window_days
    failed = []
    if not first <= days_since_sirt <= last:
        failed.append(f"{days_since_sirt} days after SIRT is outside {first}-{last} days")
    if not jaundice:
        failed.append("no jaundice")
    if not ascites:
        failed.append("no ascites")
    if tumour_progression:
        failed.append("tumour progression explains the findings")
    if bile_duct_occlusion:
        failed.append("bile duct occlusion explains the findings")
    if failed:
        return Reild(False, tuple(failed))
    return Reild(True, (f"jaundice and ascites {days_since_sirt} days after SIRT, without "
                        "tumour progression or bile duct occlusion",))  # fmt: skip


@dataclass(frozen=True)
class ChecklistItem:
    """One item of the post-procedure monitoring checklist."""

    item: str
    what: str
    source: str


_SEED = "centre patient information: observation for 4-6 h after the procedure"
MONITORING_HOURS: tuple[float, float] = (4.0, 6.0)
MONITORING_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem("vital signs", "blood pressure, heart rate, temperature, oxygen saturation "
                  "on arrival and regularly until discharge", f"{_SEED}; {_EANM}"),
    ChecklistItem("arterial access site", "bleeding, haematoma, distal pulses; bed rest as the "
                  "closure method requires", f"{_SEED}; {_EANM}"),
    ChecklistItem("pain", "abdominal, epigastric or shoulder pain; analgesia; severe epigastric "
                  "pain suggests non-target (gastric, duodenal) deposition", f"{_SEED}; {_EANM}"),
    ChecklistItem("nausea and vomiting", "antiemetics as needed", f"{_SEED}; {_EANM}"),
    ChecklistItem("fever and chills", "post-embolization syndrome; grade by CTCAE v5.0",
                  f"{_SEED}; {CTCAE_SOURCE}"),
    ChecklistItem("allergic reaction", "reaction to iodinated contrast or other products",
                  _SEED),
    ChecklistItem("post-treatment imaging", "Y-90 PET/CT or bremsstrahlung SPECT/CT (Ho-166: "
                  "SPECT/CT or MRI) to verify the microsphere distribution", _EANM),
    ChecklistItem("radiation protection", "written instructions for the patient and carers "
                  "before discharge", _EANM),
    ChecklistItem("discharge", "stable vital signs, stable access site, pain controlled, "
                  "drinking and eating", _SEED),
)  # fmt: skip


@dataclass(frozen=True)
class FollowUpPlan:
    """Follow-up intervals after SIRT (defaults as data; local protocols vary).

    Laboratory tests (liver function: bilirubin, albumin, AST, ALT, ALP, INR; blood count) at
    ``lab_weeks``; first response imaging between ``first_imaging_weeks`` (due at the end of
    the window), then every ``imaging_interval_months`` months up to ``horizon_months``.
    """

    lab_weeks: tuple[int, ...] = (2, 4, 8, 12)
    first_imaging_weeks: tuple[int, int] = (6, 12)
    imaging_interval_months: int = 3
    horizon_months: int = 12
    source: str = _EANM + "; intervals are common practice, set them to the local protocol"


@dataclass(frozen=True)
class Visit:
    """A follow-up visit: due date, earliest date, and what is done."""

    due: date
    earliest: date
    what: str


_DAYS_PER_MONTH = 365.25 / 12.0


def follow_up_schedule(treatment: date, plan: FollowUpPlan = FollowUpPlan()) -> tuple[Visit, ...]:
    """Follow-up visits after a treatment on ``treatment``, sorted by due date.

    Parameters
    ----------
    treatment : date
        Date of the radioembolization.
    plan : FollowUpPlan, optional
        Intervals of the follow-up (default: :class:`FollowUpPlan`'s, set them to the local
        protocol).

    Returns
    -------
    tuple[Visit, ...]
        Laboratory visits, the first response imaging (due at the end of its window), then
        imaging with laboratory tests every ``imaging_interval_months`` up to
        ``horizon_months``; sorted by due date.

    Examples
    --------

    >>> [v.what for v in follow_up_schedule(date(2026, 1, 1))][:3]
    ['liver function tests', 'liver function tests', 'liver function tests']
    """
    visits = [
        Visit(treatment + timedelta(weeks=w), treatment + timedelta(weeks=w),
              "liver function tests")
        for w in plan.lab_weeks
    ]  # fmt: skip
    first, last = plan.first_imaging_weeks
    visits.append(
        Visit(treatment + timedelta(weeks=last), treatment + timedelta(weeks=first),
              "response imaging (CT or MRI: RECIST 1.1, mRECIST, EASL)")
    )  # fmt: skip
    month = 2 * plan.imaging_interval_months
    while month <= plan.horizon_months:
        due = treatment + timedelta(days=round(month * _DAYS_PER_MONTH))
        visits.append(Visit(due, due, "response imaging and liver function tests"))
        month += plan.imaging_interval_months
    return tuple(sorted(visits, key=lambda v: (v.due, v.what)))
