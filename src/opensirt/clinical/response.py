"""Tumour response per time point and best overall response: RECIST 1.1, mRECIST and EASL.

Every date after a patient's baseline is a time point. For each criterion the target lesions
(chosen at baseline) are summed, the sum compared with the baseline sum (response) and with
the smallest sum so far, the nadir (progression); non-target lesions and new lesions are
combined as in Table 1 of RECIST 1.1 [EISENHAUER2009]_:

==============  =====================  ===========  =======
target          non-target             new lesion   overall
==============  =====================  ===========  =======
CR              CR (or none)           no           CR
CR              non-CR/non-PD or NE    no           PR
PR              non-PD or NE           no           PR
SD              non-PD or NE           no           SD
NE              non-PD                 no           NE
PD              any                    any          PD
any             PD                     any          PD
any             any                    yes          PD
==============  =====================  ===========  =======

The three criteria differ in what is measured and in the thresholds (:data:`CRITERIA`):

* RECIST 1.1 [EISENHAUER2009]_: longest diameter (nodes: short axis); PR <= -30 % from the
  baseline sum; PD >= +20 % over the nadir *and* >= +5 mm absolute; CR when every non-nodal
  target has disappeared and every nodal target is < 10 mm short axis.
* mRECIST [LENCIONI2010]_: longest diameter of the viable (arterially enhancing) part (nodes
  as RECIST 1.1); PR <= -30 %; PD >= +20 % over the nadir (no absolute minimum).
* EASL [BRUIX2001]_ [EASL2012]_: bidimensional enhancing area; PR <= -50 % from baseline;
  PD >= +25 % over the nadir (the smallest sum, as for WHO criteria).

A target lesion that is not measured at a time point makes the target response NE, unless
the measured lesions alone already show progression (RECIST 1.1 section 4.3.5). A lesion
whose status is ``absent`` and whose cell is empty counts as 0.

Best overall response [EISENHAUER2009]_ (section 4.4): the best time-point response, SD only
if at least ``sd_min_days`` after baseline; with ``confirm=True`` a CR (PR) counts only if a
later time point at least ``confirmation_min_days`` after it is CR (CR or PR) with no PD in
between (a CR followed by PR counts as PR), otherwise it counts as SD.

References
----------
.. [EISENHAUER2009] Eisenhauer EA, Therasse P, Bogaerts J et al. New response evaluation
   criteria in solid tumours: revised RECIST guideline (version 1.1). Eur J Cancer
   2009;45:228-247. doi:10.1016/j.ejca.2008.10.026
.. [LENCIONI2010] Lencioni R, Llovet JM. Modified RECIST (mRECIST) assessment for
   hepatocellular carcinoma. Semin Liver Dis 2010;30:52-60. doi:10.1055/s-0030-1247132
.. [BRUIX2001] Bruix J, Sherman M, Llovet JM et al. Clinical management of hepatocellular
   carcinoma. Conclusions of the Barcelona-2000 EASL conference. J Hepatol 2001;35:421-430.
   doi:10.1016/S0168-8278(01)00130-1
.. [EASL2012] European Association for the Study of the Liver, European Organisation for
   Research and Treatment of Cancer. EASL-EORTC clinical practice guidelines: management of
   hepatocellular carcinoma. J Hepatol 2012;56:908-943. doi:10.1016/j.jhep.2011.12.001
.. [FORNER2009] Forner A, Ayuso C, Varela M et al. Evaluation of tumor response after
   locoregional therapies in hepatocellular carcinoma: are response evaluation criteria in
   solid tumors reliable? Cancer 2009;115:616-623. doi:10.1002/cncr.24050
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from opensirt.clinical.measurements import (
    LesionStatus,
    Measurement,
    PatientSeries,
    Role,
    group_patients,
    read_measurements,
)

NODE_NORMAL_SHORT_AXIS_MM = 10.0  # RECIST 1.1: a node < 10 mm short axis is normal
_REL_TOL = 1e-9  # a boundary value (exactly -30 %, +20 %) meets the criterion


class Response(StrEnum):
    """Response codes. ``NON_CR_NON_PD`` is for non-target disease only."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "non-CR/non-PD"
    NONE = "none"


@dataclass(frozen=True)
class Criterion:
    """What a response criterion measures and its thresholds (fractions of the sum)."""

    name: str
    label: str
    measure: Callable[[Measurement], float | None]
    unit: str
    pr_decrease: float
    pd_increase: float
    pd_min_increase: float
    source: str


def _recist_value(m: Measurement) -> float | None:
    return m.short_axis_mm if m.is_node else m.longest_diameter_mm


def _mrecist_value(m: Measurement) -> float | None:
    return m.short_axis_mm if m.is_node else m.viable_diameter_mm


def _easl_value(m: Measurement) -> float | None:
    return m.enhancing_area_mm2


RECIST = Criterion(
    "recist", "RECIST 1.1", _recist_value, "mm", 0.30, 0.20, 5.0,
    "Eisenhauer et al. 2009 doi:10.1016/j.ejca.2008.10.026",
)  # fmt: skip
MRECIST = Criterion(
    "mrecist", "mRECIST", _mrecist_value, "mm", 0.30, 0.20, 0.0,
    "Lencioni & Llovet 2010 doi:10.1055/s-0030-1247132",
)  # fmt: skip
EASL = Criterion(
    "easl", "EASL", _easl_value, "mm2", 0.50, 0.25, 0.0,
    "Bruix et al. 2001 doi:10.1016/S0168-8278(01)00130-1; EASL-EORTC 2012 "
    "doi:10.1016/j.jhep.2011.12.001; Forner et al. 2009 doi:10.1002/cncr.24050",
)  # fmt: skip
CRITERIA: tuple[Criterion, ...] = (RECIST, MRECIST, EASL)


@dataclass(frozen=True)
class ResponseOptions:
    """Best-overall-response rules [EISENHAUER2009]_ (section 4.4).

    ``sd_min_days``: smallest interval from baseline for SD to count (the protocol sets it;
    6-8 weeks is usual). ``confirmation_min_days``: 4 weeks in RECIST 1.1.
    """

    confirm: bool = False
    confirmation_min_days: int = 28
    sd_min_days: int = 42


@dataclass(frozen=True)
class TimepointResult:
    """One criterion at one time point: overall response and its parts."""

    overall: Response
    target: Response
    non_target: Response
    new_lesions: bool
    sum: float | None
    baseline_sum: float | None
    nadir_sum: float | None

    def as_dict(self, unit: str) -> dict[str, Any]:
        """For JSON: parts, sums (in ``unit``) and changes in percent.

        Parameters
        ----------
        unit : str
            The criterion's unit (``"mm"`` for RECIST 1.1 and mRECIST, ``"mm2"`` for EASL),
            written into the names of the sum keys (``sum_mm`` ...).

        Returns
        -------
        dict[str, Any]
            Target and non-target responses, whether new lesions appeared, the sum, baseline
            sum and nadir sum (in ``unit``; ``None`` where not measured), and the changes from
            baseline and from nadir (percent of the reference sum).
        """
        return {
            "target": self.target.value,
            "non_target": self.non_target.value,
            "new_lesions": self.new_lesions,
            f"sum_{unit}": self.sum,
            f"baseline_sum_{unit}": self.baseline_sum,
            f"nadir_sum_{unit}": self.nadir_sum,
            "change_from_baseline_pct": _pct(self.sum, self.baseline_sum),
            "change_from_nadir_pct": _pct(self.sum, self.nadir_sum),
        }


def _pct(value: float | None, ref: float | None) -> float | None:
    if value is None or not ref:
        return None
    return round(100.0 * (value - ref) / ref, 2)


def _value(m: Measurement | None, criterion: Criterion) -> float | None:
    if m is None:
        return None
    value = criterion.measure(m)
    if value is None and m.status is LesionStatus.ABSENT:
        return 0.0
    return value


def _target_sum(series: PatientSeries, day: date, criterion: Criterion) -> tuple[float, bool, bool]:
    """Sum of the measured targets, whether all were measured, and whether CR holds."""
    total, complete, all_gone = 0.0, True, True
    for lesion in series.lesions(Role.TARGET):
        m = series.rows[day].get(lesion)
        value = _value(m, criterion)
        if m is None or value is None:
            complete = all_gone = False
            continue
        total += value
        all_gone = all_gone and _lesion_gone(m, value)
    return total, complete, all_gone


def _lesion_gone(m: Measurement, value: float) -> bool:
    """A non-nodal lesion has disappeared (0); a node is normal (< 10 mm short axis)."""
    if m.is_node:
        short_axis = 0.0 if m.status is LesionStatus.ABSENT else m.short_axis_mm
        return short_axis is not None and short_axis < NODE_NORMAL_SHORT_AXIS_MM
    return value == 0.0


def _is_progression(total: float, nadir: float, criterion: Criterion) -> bool:
    increase = total - nadir
    tol = _REL_TOL * max(1.0, nadir)
    return (
        increase > tol
        and increase >= criterion.pd_increase * nadir - tol
        and increase >= criterion.pd_min_increase - tol
    )


def _target_response(
    total: float, complete: bool, all_gone: bool, baseline: float, nadir: float, c: Criterion
) -> Response:
    if _is_progression(total, nadir, c):
        return Response.PD
    if not complete:
        return Response.NE
    if all_gone:
        return Response.CR
    if total <= baseline * (1.0 - c.pr_decrease) + _REL_TOL * max(1.0, baseline):
        return Response.PR
    return Response.SD


def _non_target_response(series: PatientSeries, day: date) -> Response:
    lesions = series.lesions(Role.NON_TARGET)
    if not lesions:
        return Response.NONE
    rows = [series.rows[day].get(lesion) for lesion in lesions]
    present = [m for m in rows if m is not None]
    if any(m.status is LesionStatus.UNEQUIVOCAL_PROGRESSION for m in present):
        return Response.PD
    if len(present) < len(rows):
        return Response.NE
    if all(_non_target_gone(m) for m in present):
        return Response.CR
    return Response.NON_CR_NON_PD


def _non_target_gone(m: Measurement) -> bool:
    if m.status is LesionStatus.ABSENT:
        return True
    return m.is_node and m.short_axis_mm is not None and m.short_axis_mm < NODE_NORMAL_SHORT_AXIS_MM


def _new_lesions(series: PatientSeries, day: date) -> bool:
    return any(
        m.role is Role.NEW and m.status is not LesionStatus.ABSENT
        for m in series.rows[day].values()
    )


def _overall(target: Response, non_target: Response, new: bool) -> Response:
    """Combine target, non-target and new lesions (RECIST 1.1 Table 1)."""
    if new or Response.PD in (target, non_target):
        return Response.PD
    if target is Response.CR:
        return Response.CR if non_target in (Response.CR, Response.NONE) else Response.PR
    return target


def assess_criterion(series: PatientSeries, criterion: Criterion) -> list[TimepointResult]:
    """Time-point responses of one patient by one criterion, in date order.

    A criterion whose baseline target measurements are incomplete, or whose baseline sum is
    0, cannot be assessed: every time point is NE for that criterion.

    Parameters
    ----------
    series : PatientSeries
        One patient's checked measurements (:func:`~opensirt.clinical.measurements.group_patients`).
    criterion : Criterion
        :data:`RECIST`, :data:`MRECIST` or :data:`EASL`.

    Returns
    -------
    list[TimepointResult]
        One result per follow-up date (the baseline excluded), sums in the criterion's unit
        (mm or mm2).
    """
    baseline, complete, _ = _target_sum(series, series.baseline, criterion)
    assessable = complete and baseline > 0.0
    nadir = baseline
    results = []
    for day in series.followups:
        total, complete_now, all_gone = _target_sum(series, day, criterion)
        if assessable:
            target = _target_response(total, complete_now, all_gone, baseline, nadir, criterion)
        else:
            target = Response.NE
        non_target = _non_target_response(series, day)
        new = _new_lesions(series, day)
        results.append(
            TimepointResult(
                overall=_overall(target, non_target, new),
                target=target,
                non_target=non_target,
                new_lesions=new,
                sum=total if complete_now else None,
                baseline_sum=baseline if complete else None,
                nadir_sum=nadir if assessable else None,
            )
        )
        if assessable and complete_now:
            nadir = min(nadir, total)
    return results


def criterion_warnings(series: PatientSeries, criterion: Criterion) -> list[str]:
    """Why a criterion cannot be assessed for this patient (empty when it can).

    Parameters
    ----------
    series : PatientSeries
        One patient's checked measurements.
    criterion : Criterion
        :data:`RECIST`, :data:`MRECIST` or :data:`EASL`.

    Returns
    -------
    list[str]
        A sentence naming the criterion when a baseline target measurement is missing or
        the baseline sum is 0; empty otherwise.
    """
    baseline, complete, _ = _target_sum(series, series.baseline, criterion)
    if not complete:
        return [
            f"{criterion.label}: a target lesion lacks its baseline measurement; "
            "every time point is NE"
        ]
    if baseline == 0.0:
        return [
            f"{criterion.label}: the baseline sum of the target lesions is 0 {criterion.unit}; "
            "every time point is NE"
        ]
    return []


_RANK = {Response.CR: 0, Response.PR: 1, Response.SD: 2}


def best_overall_response(
    dates: list[date], responses: list[Response], baseline: date, options: ResponseOptions
) -> Response:
    """Best overall response [EISENHAUER2009]_ (section 4.4), see the module notes.

    SD counts only from ``options.sd_min_days`` after baseline; with ``options.confirm``, a
    CR or PR counts only when a later assessment confirms it (unconfirmed: SD).

    Parameters
    ----------
    dates : list[date]
        Follow-up dates, in order.
    responses : list[Response]
        Overall response at each date (same length as ``dates``).
    baseline : date
        Date of the baseline imaging.
    options : ResponseOptions
        Confirmation and minimum-interval rules (days).

    Returns
    -------
    Response
        The best counted of CR, PR, SD; else PD if any time point is PD; else NE.

    Examples
    --------

    >>> d = [date(2026, 3, 1), date(2026, 4, 1)]
    >>> best_overall_response(d, [Response.PR, Response.SD], date(2026, 1, 1), ResponseOptions())
    <Response.PR: 'PR'>
    >>> opts = ResponseOptions(confirm=True)
    >>> best_overall_response(d, [Response.PR, Response.SD], date(2026, 1, 1), opts)
    <Response.SD: 'SD'>
    """
    counted: list[Response] = []
    for i, (day, response) in enumerate(zip(dates, responses, strict=True)):
        value = response
        if options.confirm and value in (Response.CR, Response.PR):
            value = _confirmed(i, dates, responses, options)
        if value is Response.SD and (day - baseline).days < options.sd_min_days:
            continue
        counted.append(value)
    ranked = [r for r in counted if r in _RANK]
    if ranked:
        return min(ranked, key=_RANK.__getitem__)
    return Response.PD if Response.PD in responses else Response.NE


def _confirmed(
    i: int, dates: list[date], responses: list[Response], o: ResponseOptions
) -> Response:
    """The response at ``i`` as confirmed by the next assessment at least
    ``confirmation_min_days`` later (no PD before it): CR by CR; PR by CR or PR; a CR followed
    by PR counts as PR (RECIST 1.1 Table 3, footnote). Unconfirmed: SD."""
    for day, later in zip(dates[i + 1 :], responses[i + 1 :], strict=True):
        if later is Response.PD:
            break
        if later is Response.NE or (day - dates[i]).days < o.confirmation_min_days:
            continue
        if later in (Response.CR, Response.PR):
            both_cr = responses[i] is Response.CR and later is Response.CR
            return Response.CR if both_cr else Response.PR
        break
    return Response.SD


@dataclass(frozen=True)
class PatientResponse:
    """All criteria for one patient: per time point and best overall response."""

    patient_id: str
    baseline: date
    dates: tuple[date, ...]
    results: dict[str, list[TimepointResult]]
    best: dict[str, Response]
    warnings: tuple[str, ...]
    options: ResponseOptions

    def as_dict(self) -> dict[str, Any]:
        """For JSON: ``{"patient_id", "baseline", "timepoints": [...], "best": {...}}``.

        Returns
        -------
        dict[str, Any]
            Patient id, baseline date (ISO 8601), one entry per follow-up date (overall
            response per criterion and details as :meth:`TimepointResult.as_dict`), best
            overall response per criterion, whether confirmation was required, warnings and
            each criterion's source.
        """
        units = {c.name: c.unit for c in CRITERIA}
        timepoints = []
        for i, day in enumerate(self.dates):
            point: dict[str, Any] = {"date": day.isoformat()}
            point.update({name: res[i].overall.value for name, res in self.results.items()})
            point["details"] = {
                name: res[i].as_dict(units[name]) for name, res in self.results.items()
            }
            timepoints.append(point)
        return {
            "patient_id": self.patient_id,
            "baseline": self.baseline.isoformat(),
            "timepoints": timepoints,
            "best": {name: r.value for name, r in self.best.items()},
            "confirmation": self.options.confirm,
            "warnings": list(self.warnings),
            "sources": {c.name: c.source for c in CRITERIA},
        }


def assess_patient(
    series: PatientSeries, options: ResponseOptions = ResponseOptions()
) -> PatientResponse:
    """RECIST 1.1, mRECIST and EASL for one patient's checked measurement series.

    Parameters
    ----------
    series : PatientSeries
        One patient's checked measurements (:func:`~opensirt.clinical.measurements.group_patients`).
    options : ResponseOptions, optional
        Best-overall-response rules (default: no confirmation, SD from 42 days).

    Returns
    -------
    PatientResponse
        Time-point and best overall responses by every criterion of :data:`CRITERIA`, with
        the series' warnings and the criteria that cannot be assessed.
    """
    results = {c.name: assess_criterion(series, c) for c in CRITERIA}
    dates = list(series.followups)
    best = {
        name: best_overall_response(dates, [r.overall for r in res], series.baseline, options)
        for name, res in results.items()
    }
    warnings = list(series.warnings)
    for c in CRITERIA:
        warnings.extend(criterion_warnings(series, c))
    if not dates:
        warnings.append("no follow-up after the baseline: no time point to assess")
    return PatientResponse(
        series.patient_id, series.baseline, tuple(dates), results, best, tuple(warnings), options
    )


def assess_measurements(
    path: str | Path, options: ResponseOptions = ResponseOptions()
) -> tuple[list[PatientResponse], list[str]]:
    """Read a measurement table and assess every patient; also return the file's warnings.

    Parameters
    ----------
    path : str | Path
        The measurement CSV file (see :mod:`opensirt.clinical.measurements`).
    options : ResponseOptions, optional
        Best-overall-response rules (default: no confirmation, SD from 42 days).

    Returns
    -------
    tuple[list[PatientResponse], list[str]]
        One response per patient, in order of first appearance, and the table's warnings
        (columns not used).

    Raises
    ------
    InputError
        If the table cannot be read or breaks the table contract; the message names the row,
        the column and the fix.
    """
    rows, warnings = read_measurements(path)
    patients = [assess_patient(s, options) for s in group_patients(rows, source=str(path))]
    return patients, warnings
