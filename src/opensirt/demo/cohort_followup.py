"""Follow-up of a synthetic patient: the verification of a SIRT, target lesions over time and
the response computed from them by :mod:`opensirt.clinical.response` (RECIST 1.1; for HCC also
mRECIST and EASL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from opensirt.clinical.measurements import LesionStatus, Measurement, Role, group_patients
from opensirt.clinical.response import CRITERIA, assess_patient
from opensirt.registry.vocabulary import ResponseCriteria

#: Days per month (365.25 / 12).
_DAYS_PER_MONTH = 30.4375

#: The registry's code and the version of each criterion of :data:`CRITERIA`.
_CRITERIA = {
    "recist": (ResponseCriteria.RECIST_1_1, "1.1"),
    "mrecist": (ResponseCriteria.MRECIST, "2010"),
    "easl": (ResponseCriteria.EASL, "2001/2012"),
}


def lesion_series(
    pseudonym: str,
    diameters_mm: tuple[float, ...],
    scan_days: list[dt.date],
    treated: dt.date,
    progression: dt.date,
    shrink: float,
) -> list[Measurement]:
    """The target lesions on every scan: shrinking after the treatment, growing at progression.

    Parameters
    ----------
    pseudonym : str
        The patient.
    diameters_mm : tuple of float
        Longest diameter (mm) of each target lesion at baseline (at most two: RECIST 1.1 per
        organ).
    scan_days : list of datetime.date
        Baseline first, then the follow-up scans.
    treated : datetime.date
        The SIRT date; the shrinkage reaches ``shrink`` three months after it.
    progression : datetime.date
        The scan on this date shows progression: every lesion 30 % and 6 mm above its nadir.
    shrink : float
        Fractional decrease of the diameters at three months (negative: growth).

    Returns
    -------
    list of Measurement
        Longest, viable (arterially enhancing) diameter and enhancing area of each lesion.
    """
    rows: list[Measurement] = []
    nadir = list(diameters_mm)
    for k, scan in enumerate(scan_days):
        ramp = min(max((scan - treated).days / _DAYS_PER_MONTH, 0.0) / 3.0, 1.0)
        grown = k > 0 and scan == progression
        for j, d0 in enumerate(diameters_mm):
            d = nadir[j] * 1.3 + 6.0 if grown else d0 * (1.0 - shrink * ramp)
            nadir[j] = min(nadir[j], d)
            # the enhancing (viable) part shrinks more than the lesion; regrowth is viable
            viable = d * (0.9 if grown else 0.9 - 0.6 * max(shrink, 0.0) * ramp)
            rows.append(
                Measurement(
                    len(rows), pseudonym, f"L{j + 1}", scan, Role.TARGET, "liver", False,
                    round(d, 1), None, round(viable, 1), round(viable * viable * 0.8, 1),
                    LesionStatus.PRESENT,
                )
            )  # fmt: skip
    return rows


def response_records(
    pseudonym: str, rows: list[Measurement], *, hcc: bool
) -> list[tuple[dt.date, dict[str, Any]]]:
    """The response of every follow-up scan, as ``ResponseIn`` fields by date.

    Parameters
    ----------
    pseudonym : str
        The patient.
    rows : list of Measurement
        From :func:`lesion_series`.
    hcc : bool
        Also mRECIST and EASL (criteria for HCC); otherwise RECIST 1.1 only.

    Returns
    -------
    list of (datetime.date, dict)
        Date and the fields of :class:`opensirt.registry.records.ResponseIn` (criteria,
        version, target, non-target, new lesions, overall, change of the target sum in %).
    """
    if len({m.date for m in rows}) < 2:
        return []
    result = assess_patient(group_patients(rows, source=pseudonym)[0])
    out = []
    for criterion in CRITERIA:
        if not hcc and criterion.name != "recist":
            continue
        code, version = _CRITERIA[criterion.name]
        for day, point in zip(result.dates, result.results[criterion.name], strict=True):
            change = None
            if point.sum is not None and point.baseline_sum:
                change = round(100.0 * (point.sum - point.baseline_sum) / point.baseline_sum, 1)
            fields = {
                "criteria": code, "criteria_version": version, "target": point.target.value,
                "non_target": point.non_target.value, "new_lesions": point.new_lesions,
                "overall": point.overall.value, "target_change_pct": change,
            }  # fmt: skip
            out.append((day, fields))
    return out


#: Log-normal spread of the delivered over the predicted dose of each structure, and the bias
#: of the lung (a choice: Y-90 PET usually finds a lower lung dose than the MAA predicts).
_SPREAD = {"tumour": (0.0, 0.20), "normal liver": (0.0, 0.12), "lung": (-0.5, 0.5)}

#: Difference (percent) of delivered from predicted dose that flags a structure.
FLAG_DIFFERENCE_PCT = 20.0


def verified_structures(
    rng: np.random.Generator, predicted_gy: dict[str, float | None], scale: float
) -> tuple[dict[str, Any], ...]:
    """Predicted and post-treatment doses of the structures of one SIRT.

    Parameters
    ----------
    rng : numpy.random.Generator
        The patient's generator.
    predicted_gy : dict
        The plan's mean dose (Gy) of ``tumour``, ``normal liver`` and ``lung`` (``None``:
        not predicted, left out).
    scale : float
        Delivered over planned activity (the predictions scaled to what was given).

    Returns
    -------
    tuple of dict
        The fields of :class:`opensirt.registry.records.VerifiedStructureIn`.
    """
    out = []
    for name, predicted in predicted_gy.items():
        if predicted is None:
            continue
        expected = predicted * scale
        bias, spread = _SPREAD[name]
        measured = expected * float(rng.lognormal(bias, spread))
        diff = 100.0 * (measured - expected) / expected if expected > 0 else None
        out.append(
            {
                "structure": name,
                "predicted_gy": round(predicted, 2),
                "predicted_scaled_gy": round(expected, 2),
                "delivered_gy": round(measured, 2),
                "difference_pct": None if diff is None else round(diff, 1),
                "flagged": diff is not None and abs(diff) > FLAG_DIFFERENCE_PCT,
            }
        )
    return tuple(out)
