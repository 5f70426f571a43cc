"""The cohort table built from the registry (``opensirt registry export-cohort``).

One row per patient with at least one SIRT session, from the first SIRT (time zero):

- ``os_months``, ``death``: to the recorded death, else to the patient's last record of any
  kind (censored);
- ``pfs_months``, ``progression``: to the first progression or death after time zero, else
  censored at the last response assessment; empty without either;
- ``best_response``: the best overall response of the chosen criteria after time zero
  (:func:`opensirt.clinical.response.best_overall_response`, baseline the first lesion
  measurement, SD counted from 6 weeks, no confirmation), empty without an assessment;
- ``tumour_dose_gy``, ``normal_liver_dose_gy``: the delivered mean doses of the first SIRT's
  verification; else the planned doses of the plan version that session delivers (the extra
  column ``dose_source`` says which);
- ``liver_toxicity_grade``: the worst CTCAE grade of a liver adverse event (:data:`LIVER_TERMS`)
  after time zero, 0 when none is recorded;
- extra columns ``age_years`` (at time zero, from the birth year), ``sex``, ``device`` and
  ``dose_source``.

The patients are chosen with ``--where`` filters (:func:`parse_where`), which are those of
``opensirt registry list``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.analytics.cohort import DAYS_PER_MONTH, Cohort, from_records
from opensirt.clinical.response import Response, ResponseOptions, best_overall_response
from opensirt.errors import InputError
from opensirt.registry.models import (
    AdverseEventRecord,
    LesionMeasurement,
    OutcomeEvent,
    Patient,
    PlanVersion,
    ResponseAssessment,
    TreatmentSession,
    Verification,
    VerifiedStructure,
)
from opensirt.registry.timeline import list_patients
from opensirt.registry.vocabulary import Diagnosis, OutcomeKind, ResponseCriteria

#: CTCAE v5.0 terms (and REILD, Sangro et al. 2008, doi:10.1002/cncr.23339) counted as liver
#: toxicity, compared lower-case with ``-`` and ``_`` read as spaces.
LIVER_TERMS = frozenset(
    {
        "blood bilirubin increased",
        "aspartate aminotransferase increased",
        "ast increased",
        "alanine aminotransferase increased",
        "alt increased",
        "alkaline phosphatase increased",
        "hypoalbuminemia",
        "ascites",
        "hepatic failure",
        "portal hypertension",
        "hepatobiliary disorders other",
        "hepatobiliary disorders - other, specify",
        "reild",
        "radioembolization induced liver disease",
    }
)

#: The keys of ``--where`` and what each accepts.
WHERE_KEYS = {
    "diagnosis": "a diagnosis code: hcc, icc, crc, net, breast, other",
    "alive": "yes (no recorded death) or no",
    "diagnosed-from": "a date YYYY-MM-DD: diagnosed on or after it",
    "diagnosed-to": "a date YYYY-MM-DD: diagnosed on or before it",
    "pseudonym": "text the pseudonym contains",
}

#: The grouping a registry cohort can carry in its ``group`` column.
GROUP_BY = ("none", "diagnosis", "device", "sex")


@dataclass(frozen=True)
class CohortFilter:
    """Which patients of the registry form the cohort (all SIRT patients by default).

    Parameters
    ----------
    diagnosis : Diagnosis or None
        Only this diagnosis.
    alive : bool or None
        Only living (``True``) or only deceased (``False``) patients.
    diagnosed_from, diagnosed_to : datetime.date or None
        Diagnosed on or after, on or before.
    pseudonym : str or None
        Pseudonym contains this text.
    """

    diagnosis: Diagnosis | None = None
    alive: bool | None = None
    diagnosed_from: dt.date | None = None
    diagnosed_to: dt.date | None = None
    pseudonym: str | None = None


def _where_value(key: str, value: str) -> Any:
    try:
        if key == "diagnosis":
            return Diagnosis(value.lower())
        if key == "alive":
            return {"yes": True, "true": True, "no": False, "false": False}[value.lower()]
        if key.startswith("diagnosed-"):
            return dt.date.fromisoformat(value)
    except (ValueError, KeyError):
        raise InputError(f"--where {key}={value!r}: expected {WHERE_KEYS[key]}") from None
    return value


def parse_where(clauses: Sequence[str]) -> CohortFilter:
    """Read ``--where KEY=VALUE`` clauses (all must hold).

    Parameters
    ----------
    clauses : sequence of str
        ``diagnosis=hcc``, ``alive=no``, ``diagnosed-from=2024-01-01``,
        ``diagnosed-to=2025-12-31``, ``pseudonym=SYN-1`` (:data:`WHERE_KEYS`).

    Returns
    -------
    CohortFilter
        The filter.

    Raises
    ------
    InputError
        For a clause without ``=``, an unknown or repeated key, or a bad value.

    Examples
    --------
    >>> parse_where(["diagnosis=hcc", "alive=no"]).alive
    False
    """
    values: dict[str, Any] = {}
    for clause in clauses:
        key, sep, value = clause.partition("=")
        key = key.strip().lower().replace("_", "-")
        if not sep or key not in WHERE_KEYS:
            accepted = "; ".join(f"{k}=({v})" for k, v in WHERE_KEYS.items())
            raise InputError(f"--where {clause!r}: expected KEY=VALUE with KEY one of {accepted}")
        field = key.replace("-", "_")
        if field in values:
            raise InputError(f"--where {key} is given twice; give each key once")
        values[field] = _where_value(key, value.strip())
    return CohortFilter(**values)


def _months(start: dt.date, end: dt.date) -> float:
    return max((end - start).days, 0) / DAYS_PER_MONTH


def _by_patient(session: Session, query: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        out[row[0]].append(row)
    return out


@dataclass(frozen=True)
class _Records:
    """The rows of every table the cohort reads, by patient id."""

    outcomes: dict[int, list[Any]]
    responses: dict[int, list[Any]]
    any_response: dict[int, list[Any]]
    baselines: dict[int, list[Any]]
    sessions: dict[int, list[Any]]
    events: dict[int, list[Any]]


def _load(session: Session, criteria: ResponseCriteria) -> _Records:
    ra = ResponseAssessment
    first_lesion = sa.select(LesionMeasurement.patient_id, sa.func.min(LesionMeasurement.date))
    return _Records(
        outcomes=_by_patient(
            session,
            sa.select(OutcomeEvent.patient_id, OutcomeEvent.date, OutcomeEvent.kind).order_by(
                OutcomeEvent.date, OutcomeEvent.id
            ),
        ),
        responses=_by_patient(
            session,
            sa.select(ra.patient_id, ra.date, ra.overall)
            .where(ra.criteria == criteria)
            .order_by(ra.date),
        ),
        any_response=_by_patient(session, sa.select(ra.patient_id, ra.date)),
        baselines=_by_patient(session, first_lesion.group_by(LesionMeasurement.patient_id)),
        sessions=_by_patient(
            session,
            sa.select(
                TreatmentSession.patient_id,
                TreatmentSession.id,
                TreatmentSession.date,
                TreatmentSession.plan_version_id,
            )
            .where(TreatmentSession.therapy == "sirt")
            .order_by(TreatmentSession.date, TreatmentSession.id),
        ),
        events=_by_patient(
            session,
            sa.select(
                AdverseEventRecord.patient_id,
                AdverseEventRecord.date,
                AdverseEventRecord.term,
                AdverseEventRecord.grade,
            ),
        ),
    )


def _doses(
    session: Session, session_ids: list[int], plan_ids: list[int]
) -> tuple[dict[int, dict[str, float | None]], dict[int, tuple[Any, ...]]]:
    """Delivered doses by treatment session, planned doses and device by plan version."""
    delivered: dict[int, dict[str, float | None]] = defaultdict(dict)
    vs = VerifiedStructure
    query = (
        sa.select(Verification.session_id, vs.structure, vs.delivered_gy)
        .join(VerifiedStructure, VerifiedStructure.verification_id == Verification.id)
        .where(Verification.session_id.in_(session_ids))
        .order_by(Verification.date, Verification.id)
    )  # fmt: skip
    for session_id, structure, dose in session.execute(query):
        if session_id is not None:  # the query selects linked verifications only
            delivered[session_id].setdefault(structure, dose)
    planned = {
        row[0]: row[1:]
        for row in session.execute(
            sa.select(PlanVersion.id, PlanVersion.tumour_dose_gy, PlanVersion.normal_liver_dose_gy,
                      PlanVersion.device).where(PlanVersion.id.in_(plan_ids))
        )
    }  # fmt: skip
    return delivered, planned


def _best(records: _Records, pid: int, start: dt.date) -> str:
    points = [(d, o) for _, d, o in records.responses.get(pid, []) if d >= start]
    if not points:
        return ""
    known = {r.value for r in Response}
    values = [Response(o) if o in known else Response.NE for _, o in points]
    baselines = records.baselines.get(pid, [])
    baseline = min(baselines[0][1], start) if baselines else start
    best = best_overall_response([d for d, _ in points], values, baseline, ResponseOptions())
    return best.value if best.value in ("CR", "PR", "SD", "PD") else "NE"


def _pfs(records: _Records, pid: int, start: dt.date, death: dt.date | None) -> tuple[Any, Any]:
    progressed = [d for _, d, kind in records.outcomes.get(pid, [])
                  if kind == OutcomeKind.PROGRESSION and d >= start]  # fmt: skip
    ends = [*progressed[:1], *([death] if death is not None else [])]
    if ends:
        return _months(start, min(ends)), 1
    assessed = [d for _, d in records.any_response.get(pid, []) if d >= start]
    return (_months(start, max(assessed)), 0) if assessed else (None, None)


def _toxicity(records: _Records, pid: int, start: dt.date) -> int:
    grades = [
        grade
        for _, day, term, grade in records.events.get(pid, [])
        if day >= start and term.lower().replace("-", " ").replace("_", " ") in LIVER_TERMS
    ]
    return max(grades, default=0)


def export_cohort(
    session: Session,
    where: CohortFilter = CohortFilter(),
    *,
    criteria: ResponseCriteria | str = ResponseCriteria.RECIST_1_1,
    group_by: str = "none",
) -> Cohort:
    """Build the cohort table of the registry's SIRT patients (see the module notes).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        An open transaction.
    where : CohortFilter
        Which patients (default: every patient with a SIRT session).
    criteria : ResponseCriteria or str
        The response criteria of ``best_response`` (default RECIST 1.1).
    group_by : str
        What fills the ``group`` column: ``"none"`` (empty), ``"diagnosis"``, ``"device"``
        or ``"sex"``.

    Returns
    -------
    Cohort
        The checked table, by pseudonym, with source ``"registry"``.

    Raises
    ------
    InputError
        For an unknown ``criteria`` or ``group_by``, or when no patient matches.
    """
    try:
        chosen = ResponseCriteria(str(criteria).lower())
    except ValueError:
        raise InputError(
            f"criteria is {criteria!r}, expected one of {[c.value for c in ResponseCriteria]}"
        ) from None
    if group_by not in GROUP_BY:
        raise InputError(f"group_by is {group_by!r}, expected one of {list(GROUP_BY)}")
    listed = list_patients(
        session, therapy="sirt", limit=None, diagnosis=where.diagnosis, alive=where.alive,
        diagnosed_from=where.diagnosed_from, diagnosed_to=where.diagnosed_to,
        search=where.pseudonym,
    ).rows  # fmt: skip
    if not listed:
        raise InputError("no SIRT patient of the registry matches --where; check the filters")
    people = {p.pseudonym: p for p in session.scalars(sa.select(Patient))}
    records = _load(session, chosen)
    firsts = {pid: rows[0] for pid, rows in records.sessions.items()}
    delivered, planned = _doses(
        session, [s[1] for s in firsts.values()], [s[3] for s in firsts.values() if s[3]]
    )
    rows = []
    for row in listed:
        person = people[row.pseudonym]
        _, session_id, start, plan_id = firsts[person.id]
        verified = delivered.get(session_id, {})
        plan = planned.get(plan_id, (None, None, None))
        if verified.get("tumour") is not None:
            doses = (verified.get("tumour"), verified.get("normal liver"), "verification")
        else:
            doses = (plan[0], plan[1], "plan" if plan[0] is not None else "")
        end = row.died or row.last_record
        pfs, progression = _pfs(records, person.id, start, row.died)
        extra = {"age_years": start.year - person.birth_year, "sex": person.sex.value,
                 "device": plan[2] or "", "dose_source": doses[2]}  # fmt: skip
        group = {"none": "", "diagnosis": person.diagnosis.value}.get(group_by, extra.get(group_by))
        best = _best(records, person.id, start)
        rows.append({
            "patient_id": row.pseudonym, "group": group, "diagnosis": person.diagnosis.value,
            "os_months": round(_months(start, end), 4), "death": int(row.died is not None),
            "pfs_months": None if pfs is None else round(pfs, 4), "progression": progression,
            "best_response": best, "response_criteria": chosen.value if best else "",
            "tumour_dose_gy": doses[0], "normal_liver_dose_gy": doses[1],
            "liver_toxicity_grade": _toxicity(records, person.id, start), **extra,
        })  # fmt: skip
    return from_records(rows, source="registry")
