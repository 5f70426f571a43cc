"""A patient's pathway in date order, and the list of patients: reading the registry.

:func:`timeline` gathers every dated record of one patient (the tables of
:data:`~opensirt.registry.models.TIMELINE_TABLES`) into :class:`TimelineEntry` items, each
with its date, its kind, a one-line summary with units and its structured details. Entries of
the same day keep the order of ``TIMELINE_TABLES`` (findings and labs before the board's
decision, the plan before the session, the session before its monitoring and verification),
then the order in which they were recorded. The lesion measurements of one date form one entry.

Reading costs one indexed query per table (every table is indexed by its patient id), the
signatures of the plan versions and the structures of the verifications one extra query each:
no query per row. The rows are read as plain rows (SQLAlchemy Core statements built once), not
as ORM objects, whose loading cost most of a timeline's time in the web service.
:func:`list_patients` pages through the patients with their diagnosis, first SIRT, number of
sessions, latest plan state and vital status in two queries.

>>> TimelineKind.ADVERSE_EVENT.value
'adverse-event'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.registry import store
from opensirt.registry.models import (
    TIMELINE_TABLES,
    Base,
    LesionMeasurement,
    OutcomeEvent,
    Patient,
    Plan,
    PlanSignature,
    PlanVersion,
    TreatmentSession,
    Verification,
    VerifiedStructure,
)
from opensirt.registry.summaries import SUMMARIES, Context
from opensirt.registry.vocabulary import Diagnosis, OutcomeKind, Sex

#: The version of the ``opensirt registry timeline --json`` structure.
TIMELINE_FORMAT = 1


class TimelineKind(StrEnum):
    """What a timeline entry records; one kind per table of ``TIMELINE_TABLES``."""

    FINDINGS = "findings"
    LABS = "labs"
    QUALITY_OF_LIFE = "quality-of-life"
    MDT = "mdt"
    IMAGING = "imaging"
    WORKUP = "work-up"
    PLAN = "plan"
    SESSION = "session"
    MONITORING = "monitoring"
    VERIFICATION = "verification"
    ADVERSE_EVENT = "adverse-event"
    LESIONS = "lesions"
    RESPONSE = "response"
    OUTCOME = "outcome"


#: The kind of each dated table, in the order of ``TIMELINE_TABLES``.
KIND_OF_TABLE: dict[type[Base], TimelineKind] = dict(
    zip(TIMELINE_TABLES, TimelineKind, strict=True)
)


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event of a patient's pathway.

    Parameters
    ----------
    date : datetime.date
        The clinical date (for an adverse event its onset, for a plan version its date).
    kind : TimelineKind
        What the entry records.
    summary : str
        One line for a person, with units (``"SIRT, right lobe: 1.70 GBq delivered"``).
    details : mapping
        The structured record, JSON-ready (numbers, strings, booleans, ISO dates, lists, maps).
    record_id : int
        The row id in the kind's table (for lesion measurements, the smallest of the date).
    """

    date: dt.date
    kind: TimelineKind
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)
    record_id: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The entry as the JSON object of ``opensirt registry timeline --json``.

        Returns
        -------
        dict
            ``date`` (ISO), ``kind``, ``summary``, ``id`` and ``details``.
        """
        return {
            "date": self.date.isoformat(),
            "kind": self.kind.value,
            "summary": self.summary,
            "id": self.record_id,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class Timeline:
    """A patient and the dated entries of the pathway, in date order.

    Parameters
    ----------
    pseudonym : str
        The patient's pseudonymised id.
    sex : Sex
        Administrative sex.
    birth_year : int
        Year of birth.
    diagnosis : Diagnosis
        The primary liver malignancy.
    diagnosis_date : datetime.date
        Date of the diagnosis.
    entries : tuple of TimelineEntry
        The pathway, by date, then table order, then record id.
    """

    pseudonym: str
    sex: Sex
    birth_year: int
    diagnosis: Diagnosis
    diagnosis_date: dt.date
    entries: tuple[TimelineEntry, ...] = ()

    def of_kind(self, kind: TimelineKind) -> tuple[TimelineEntry, ...]:
        """The entries of one kind, in date order.

        Parameters
        ----------
        kind : TimelineKind
            The kind wanted.

        Returns
        -------
        tuple of TimelineEntry
            The entries of that kind.
        """
        return tuple(entry for entry in self.entries if entry.kind is kind)

    def to_dict(self) -> dict[str, Any]:
        """The timeline as the JSON document of ``opensirt registry timeline --json``.

        Returns
        -------
        dict
            ``{"format": 1, "patient": {pseudonym, sex, birth_year, diagnosis,
            diagnosis_date}, "entries": [...]}`` with entries as :meth:`TimelineEntry.to_dict`.
        """
        return {
            "format": TIMELINE_FORMAT,
            "patient": {
                "pseudonym": self.pseudonym,
                "sex": self.sex.value,
                "birth_year": self.birth_year,
                "diagnosis": self.diagnosis.value,
                "diagnosis_date": self.diagnosis_date.isoformat(),
            },
            "entries": [entry.to_dict() for entry in self.entries],
        }


#: The tables whose summaries also read child rows: the child table, its key to the parent
#: and the attribute under which the parent carries them.
_CHILDREN: dict[type[Base], tuple[type[Base], str, str]] = {
    Verification: (VerifiedStructure, "verification_id", "structures"),
    PlanVersion: (PlanSignature, "plan_version_id", "signatures"),
}


@cache
def _rows_query(table: type[Base]) -> sa.Select[Any]:
    """The rows of one dated table for the patient id ``:patient_id``, built once per table;
    plan versions with their plan's label."""
    if table is PlanVersion:
        versions: Any = PlanVersion.__table__
        return (
            sa.select(versions, Plan.label)
            .join(Plan, versions.c.plan_id == Plan.id)
            .where(Plan.patient_id == sa.bindparam("patient_id"))
        )
    columns: Any = table.__table__
    return sa.select(columns).where(columns.c.patient_id == sa.bindparam("patient_id"))


@cache
def _children_query(table: type[Base]) -> sa.Select[Any]:
    """The child rows of the patient's rows of ``table`` (see ``_CHILDREN``)."""
    child, key, _ = _CHILDREN[table]
    columns: Any = child.__table__
    parents = _rows_query(table).with_only_columns(table.__table__.c.id)
    return sa.select(columns).where(columns.c[key].in_(parents.scalar_subquery()))


def _rows(session: Session, table: type[Base], patient_id: int) -> list[Any]:
    """The rows of one dated table of the patient (an indexed lookup).

    The summaries read only columns, so the rows are read as plain rows (the same attributes
    and types as the mapped objects) by statements built once: a fraction of the cost of
    loading ORM objects. A verification or plan version becomes a namespace of its columns
    with its structures or signatures (one more query for all of them).
    """
    rows = list(session.execute(_rows_query(table), {"patient_id": patient_id}))
    if table not in _CHILDREN:
        return rows
    _, key, name = _CHILDREN[table]
    children: dict[int, list[Any]] = {}
    for child in session.execute(_children_query(table), {"patient_id": patient_id}):
        children.setdefault(getattr(child, key), []).append(child)
    return [SimpleNamespace(**row._asdict(), **{name: children.get(row.id, [])}) for row in rows]


def timeline(session: Session, pseudonym: str) -> Timeline:
    """The pathway of one patient in date order.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        An open (read-only) transaction.
    pseudonym : str
        The patient's pseudonymised id.

    Returns
    -------
    Timeline
        The patient and every dated record as entries, ordered by date, then by the order of
        ``TIMELINE_TABLES``, then by record id; the lesion measurements of a date are one entry.

    Raises
    ------
    opensirt.registry.store.PatientNotFoundError
        If no patient has this pseudonym (an :class:`~opensirt.errors.InputError`).
    """
    patient = store.get_patient(session, pseudonym)
    rows = {table: _rows(session, table, patient.id) for table in TIMELINE_TABLES}
    versions = [(version, version.label) for version in rows[PlanVersion]]
    context = Context(
        plans={version.id: (label, version.version) for version, label in versions},
        sessions={s.id: s.date for s in rows[TreatmentSession]},
    )
    entries: list[tuple[int, TimelineEntry]] = []
    for order, table in enumerate(TIMELINE_TABLES):
        kind = KIND_OF_TABLE[table]
        describe = SUMMARIES[table]
        if table is PlanVersion:
            for version, label in versions:
                text, details = describe((version, label), context)
                entries.append(
                    (order, TimelineEntry(version.date, kind, text, details, version.id))
                )
        elif table is LesionMeasurement:
            for day, group in _by_date(rows[table]).items():
                text, details = describe(group, context)
                first = min(row.id for row in group)
                entries.append((order, TimelineEntry(day, kind, text, details, first)))
        else:
            for row in rows[table]:
                text, details = describe(row, context)
                entries.append((order, TimelineEntry(row.date, kind, text, details, row.id)))
    entries.sort(key=lambda item: (item[1].date, item[0], item[1].record_id))
    return Timeline(
        pseudonym=patient.pseudonym,
        sex=patient.sex,
        birth_year=patient.birth_year,
        diagnosis=patient.diagnosis,
        diagnosis_date=patient.diagnosis_date,
        entries=tuple(entry for _, entry in entries),
    )


def _by_date(rows: Iterable[LesionMeasurement]) -> dict[dt.date, list[LesionMeasurement]]:
    groups: dict[dt.date, list[LesionMeasurement]] = {}
    for row in sorted(rows, key=lambda r: (r.date, r.id)):
        groups.setdefault(row.date, []).append(row)
    return groups


@dataclass(frozen=True)
class PatientRow:
    """One line of ``opensirt registry list``.

    Parameters
    ----------
    pseudonym : str
        The patient's pseudonymised id.
    diagnosis : Diagnosis
        The primary liver malignancy.
    diagnosis_date : datetime.date
        Date of the diagnosis.
    first_sirt : datetime.date or None
        Date of the first SIRT session, ``None`` before any.
    sessions : int
        Number of treatment sessions of every therapy.
    latest_plan_state : str or None
        State of the most recent plan version (by date, then record), ``None`` without plans.
    last_record : datetime.date
        The latest date of any record of the patient (the diagnosis date if none).
    died : datetime.date or None
        The date of death, ``None`` while none is recorded.
    """

    pseudonym: str
    diagnosis: Diagnosis
    diagnosis_date: dt.date
    first_sirt: dt.date | None
    sessions: int
    latest_plan_state: str | None
    last_record: dt.date
    died: dt.date | None

    @property
    def vital_status(self) -> str:
        """``"dead"`` with a recorded death, else ``"alive"`` (at the last record).

        Returns
        -------
        str
            The vital status as the list shows it.
        """
        return "alive" if self.died is None else "dead"

    def to_dict(self) -> dict[str, Any]:
        """The row as a JSON object of ``opensirt registry list --json``.

        Returns
        -------
        dict
            The fields above (dates as ISO text) and ``vital_status``.
        """
        return {
            "pseudonym": self.pseudonym,
            "diagnosis": self.diagnosis.value,
            "diagnosis_date": self.diagnosis_date.isoformat(),
            "first_sirt": None if self.first_sirt is None else self.first_sirt.isoformat(),
            "sessions": self.sessions,
            "latest_plan_state": self.latest_plan_state,
            "last_record": self.last_record.isoformat(),
            "vital_status": self.vital_status,
            "died": None if self.died is None else self.died.isoformat(),
        }


@dataclass(frozen=True)
class PatientList:
    """A page of patients and how many match in all.

    Parameters
    ----------
    rows : tuple of PatientRow
        The patients of the page, by pseudonym.
    total : int
        How many patients match the filters (all pages).
    offset : int
        How many matching patients precede the page.
    """

    rows: tuple[PatientRow, ...]
    total: int
    offset: int


def list_patients(
    session: Session,
    *,
    diagnosis: Diagnosis | None = None,
    therapy: str | None = None,
    search: str | None = None,
    alive: bool | None = None,
    diagnosed_from: dt.date | None = None,
    diagnosed_to: dt.date | None = None,
    limit: int | None = 50,
    offset: int = 0,
    scope: str | None = None,
) -> PatientList:
    """The patients of the registry, by pseudonym, a page at a time.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        An open (read-only) transaction.
    diagnosis : Diagnosis, optional
        Only patients with this diagnosis.
    therapy : str, optional
        Only patients with at least one treatment session of this therapy
        (a :class:`~opensirt.registry.vocabulary.Therapy` value).
    search : str, optional
        Only patients whose pseudonym contains this text (case-insensitive, taken literally:
        ``%`` and ``_`` match themselves).
    alive : bool, optional
        Only living patients (``True``) or only those with a recorded death (``False``).
    diagnosed_from, diagnosed_to : datetime.date, optional
        Only patients diagnosed on or after, on or before these dates.
    limit : int or None, optional
        At most this many patients (default 50); ``None`` for all.
    offset : int, optional
        Skip this many matching patients first (default 0).
    scope : str or None, optional
        Only the patients of this site (:func:`opensirt.registry.sites.scope_of`); default
        every patient.

    Returns
    -------
    PatientList
        The page and the number of matching patients.
    """
    where: list[Any] = []
    if diagnosis is not None:
        where.append(Patient.diagnosis == diagnosis)
    if therapy is not None:
        treated = sa.select(TreatmentSession.patient_id).where(TreatmentSession.therapy == therapy)
        where.append(Patient.id.in_(treated))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Patient.pseudonym.ilike(f"%{escaped}%", escape="\\"))
    if alive is not None:
        dead = sa.select(OutcomeEvent.patient_id).where(OutcomeEvent.kind == OutcomeKind.DEATH)
        where.append(Patient.id.not_in(dead) if alive else Patient.id.in_(dead))
    if diagnosed_from is not None:
        where.append(Patient.diagnosis_date >= diagnosed_from)
    if diagnosed_to is not None:
        where.append(Patient.diagnosis_date <= diagnosed_to)
    if scope is not None:
        where.append(Patient.site == scope)  # the site condition of sites.restrict
    total = session.scalar(sa.select(sa.func.count(Patient.id)).where(*where)) or 0
    query = (
        sa.select(Patient.pseudonym, Patient.diagnosis, Patient.diagnosis_date, *_page_columns())
        .where(*where)
        .order_by(Patient.pseudonym)
        .offset(offset)
        .limit(limit)
    )
    rows = []
    for pseudonym, diagnosis, diagnosed, first, count, state, death, *dates in session.execute(
        query
    ):
        known = [d for d in dates if d is not None]
        rows.append(
            PatientRow(
                pseudonym=pseudonym,
                diagnosis=diagnosis,
                diagnosis_date=diagnosed,
                first_sirt=first,
                sessions=int(count),
                latest_plan_state=None if state is None else str(getattr(state, "value", state)),
                last_record=max([diagnosed, *known]),
                died=death,
            )
        )
    return PatientList(rows=tuple(rows), total=int(total), offset=offset)


@cache
def _page_columns() -> tuple[Any, ...]:
    """The columns of a list row computed per patient (correlated to the outer query's
    patient): first SIRT, number of sessions, latest plan state, death, then the latest date
    of each dated table. Built once: building them took as long as running the query."""
    pid = Patient.id
    first_sirt = (
        sa.select(sa.func.min(TreatmentSession.date))
        .where(TreatmentSession.patient_id == pid, TreatmentSession.therapy == "sirt")
        .scalar_subquery()
    )
    sessions = (
        sa.select(sa.func.count(TreatmentSession.id))
        .where(TreatmentSession.patient_id == pid)
        .scalar_subquery()
    )
    plan_state = (
        sa.select(PlanVersion.state)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .where(Plan.patient_id == pid)
        .order_by(PlanVersion.date.desc(), PlanVersion.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    died = (
        sa.select(sa.func.min(OutcomeEvent.date))
        .where(OutcomeEvent.patient_id == pid, OutcomeEvent.kind == OutcomeKind.DEATH)
        .scalar_subquery()
    )
    latest = [_latest_date(table, pid) for table in TIMELINE_TABLES]
    return (first_sirt, sessions, plan_state, died, *latest)


def _latest_date(table: type[Base], patient_id: Any) -> Any:
    """The latest date of one dated table for the patient of the outer query."""
    if table is PlanVersion:
        return (
            sa.select(sa.func.max(PlanVersion.date))
            .join(Plan, PlanVersion.plan_id == Plan.id)
            .where(Plan.patient_id == patient_id)
            .scalar_subquery()
        )
    model: Any = table
    return (
        sa.select(sa.func.max(model.date)).where(model.patient_id == patient_id).scalar_subquery()
    )


__all__ = [
    "KIND_OF_TABLE",
    "TIMELINE_FORMAT",
    "PatientList",
    "PatientRow",
    "Timeline",
    "TimelineEntry",
    "TimelineKind",
    "list_patients",
    "timeline",
]
