"""Validated records into rows: the one path by which anything enters the registry.

``opensirt registry add``, the ``--record`` options of the pathway commands, the bundle import
and the synthetic cohort all write through :func:`add_patient` and :func:`write_record`, so
the rules of :mod:`opensirt.registry.store` hold whatever the source. Links between records are
made by what a person knows: a session by its date, a plan by its label.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import event
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.registry import store
from opensirt.registry.models import (
    AdverseEventRecord,
    Base,
    ClinicalFindingsRecord,
    ImagingStudy,
    LabPanel,
    LesionMeasurement,
    MdtDecision,
    Monitoring,
    OutcomeEvent,
    Patient,
    Plan,
    PlanSignature,
    PlanVersion,
    QualityOfLife,
    ResponseAssessment,
    TreatmentSession,
    Verification,
    VerifiedStructure,
    Workup,
)
from opensirt.registry.records import (
    AdverseEventIn,
    FindingsIn,
    ImagingStudyIn,
    LabsIn,
    LesionMeasurementIn,
    MdtDecisionIn,
    MonitoringIn,
    OutcomeIn,
    PatientIn,
    PlanVersionIn,
    QualityOfLifeIn,
    ResponseIn,
    SessionIn,
    VerificationIn,
    WorkupIn,
)
from opensirt.registry.vocabulary import OutcomeKind, PlanState, Therapy

_R = TypeVar("_R", bound=BaseModel)

#: ``Session.info`` key of the ledgers of the patients added in the transaction.
_LEDGERS = "opensirt.registry.writer.ledgers"


@dataclass
class _Ledger:
    """What the writer wrote for a patient that :func:`add_patient` added in this transaction.

    Such a patient has no rows but those written here (sessions and deaths enter the registry
    only through this module), so its sessions by date, its death and its latest date are
    known without a query, and rows need no flush until a link needs an id. Plans and plan
    versions may also come from :mod:`opensirt.registry.store`: a label missing here is
    looked up in the database.
    """

    died: dt.date | None = None
    latest: dt.date | None = None
    sessions: dict[dt.date, list[TreatmentSession]] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    approved: dict[str, PlanVersion] = field(default_factory=dict)
    versions: set[tuple[str, int]] = field(default_factory=set)


def _ledger(session: Session, patient: Patient) -> _Ledger | None:
    ledgers: dict[int, _Ledger] = session.info.get(_LEDGERS, {})
    return ledgers.get(patient.id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_ledgers(session: Session, previous_transaction: Any) -> None:
    """A rollback (of the transaction or a savepoint) makes the ledgers stale: drop them."""
    session.info.pop(_LEDGERS, None)


def _unflushed(session: Session, ledger: _Ledger | None) -> AbstractContextManager[Any]:
    """No autoflush for a lookup of a ledger's patient: what the writer holds unflushed is in
    the ledger, and what :mod:`~opensirt.registry.store` wrote it flushed already."""
    return session.no_autoflush if ledger is not None else nullcontext()


def add_patient(session: Session, record: PatientIn) -> Patient:
    """Add a new patient.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    record : PatientIn
        The validated patient record.

    Returns
    -------
    Patient
        The new row (flushed: it has its id).

    Raises
    ------
    InputError
        If a patient with this pseudonym exists, or the diagnosis date is in the future.
    """
    return add_patients(session, [record])[0]


def add_patients(session: Session, records: Sequence[PatientIn]) -> list[Patient]:
    """Add new patients at once (one lookup, one flush): :func:`add_patient` for many.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    records : sequence of PatientIn
        The validated patient records, each pseudonym once.

    Returns
    -------
    list of Patient
        The new rows, in the order of ``records`` (flushed: they have their ids).

    Raises
    ------
    InputError
        If a pseudonym is in the registry already or twice in ``records``, or a diagnosis
        date is in the future; nothing is added then.
    """
    pseudonyms = [r.patient for r in records]
    twice = [p for p, times in Counter(pseudonyms).items() if times > 1]
    exists = (
        twice
        or session.scalars(
            sa.select(Patient.pseudonym).where(Patient.pseudonym.in_(pseudonyms))
        ).all()
    )
    if exists:
        raise InputError(
            f"patient {exists[0]!r} is already in the registry; add records to it, or "
            "choose another pseudonym"
        )
    today = dt.date.today()
    for record in records:
        if record.diagnosis_date > today:
            raise InputError(
                f"patient {record.patient}: diagnosis_date {record.diagnosis_date.isoformat()} "
                "is in the future; give the date of the diagnosis"
            )
    patients = [
        Patient(
            pseudonym=r.patient,
            sex=r.sex,
            birth_year=r.birth_year,
            diagnosis=r.diagnosis,
            diagnosis_date=r.diagnosis_date,
            site=r.site,
        )
        for r in records
    ]
    session.add_all(patients)
    session.flush()
    ledgers = session.info.setdefault(_LEDGERS, {})
    for patient in patients:
        ledgers[patient.id] = _Ledger()
    return patients


def _session_on(session: Session, patient: Patient, day: dt.date, field: str) -> TreatmentSession:
    """The patient's treatment session on ``day`` (SIRT first if there are several)."""
    ledger = _ledger(session, patient)
    if ledger is not None:
        found: Sequence[TreatmentSession] = ledger.sessions.get(day, [])
    else:
        found = session.scalars(
            sa.select(TreatmentSession)
            .where(TreatmentSession.patient_id == patient.id, TreatmentSession.date == day)
            .order_by(TreatmentSession.id)
        ).all()
    if not found:
        raise InputError(
            f"{field} {day.isoformat()}: {patient.pseudonym} has no treatment session on that "
            "date; record the session first, or correct the date"
        )
    sirt = [s for s in found if s.therapy is Therapy.SIRT]
    return (sirt or found)[0]


def _delivered_version(
    session: Session, patient: Patient, label: str, number: int | None
) -> PlanVersion:
    """The plan version a session delivers: version ``number`` of plan ``label`` (approved
    then, superseded perhaps since), or without a number the plan's approved version."""
    ledger = _ledger(session, patient)
    known = None if ledger is None else ledger.approved.get(label)
    if known is not None and known.state is PlanState.APPROVED and number in (None, known.version):
        return known
    query = (
        sa.select(PlanVersion).join(Plan).where(Plan.patient_id == patient.id, Plan.label == label)
    )
    with _unflushed(session, ledger):
        if number is None:
            version = session.scalar(query.where(PlanVersion.state == PlanState.APPROVED))
        else:
            version = session.scalar(
                query.where(
                    PlanVersion.version == number,
                    PlanVersion.state.in_([PlanState.APPROVED, PlanState.SUPERSEDED]),
                )
            )
    what = "has no approved version" if number is None else f"has no approved version {number}"
    if version is None:
        raise InputError(
            f"plan {label!r} of {patient.pseudonym} {what}; a session delivers an approved plan: "
            "sign it first (`opensirt registry sign`) or correct the label / plan_version"
        )
    return version


def _json(model: BaseModel) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", exclude_none=True)
    return data


def _labs(session: Session, patient: Patient, r: LabsIn) -> Base:
    return LabPanel(date=r.date, labs=_json(r.labs), afp_ng_ml=r.afp_ng_ml, cea_ng_ml=r.cea_ng_ml)


def _findings(session: Session, patient: Patient, r: FindingsIn) -> Base:
    return ClinicalFindingsRecord(date=r.date, findings=_json(r.findings))


def _qol(session: Session, patient: Patient, r: QualityOfLifeIn) -> Base:
    return QualityOfLife(date=r.date, instrument=r.instrument, scale=r.scale, score=r.score)


def _mdt(session: Session, patient: Patient, r: MdtDecisionIn) -> Base:
    return MdtDecision(
        date=r.date,
        roles_present=list(r.roles_present),
        options_considered=[o.value for o in r.options_considered],
        chosen=r.chosen,
        intent=r.intent,
        line=r.line,
        rationale=r.rationale,
        assessment=r.assessment,
    )


def _imaging(session: Session, patient: Patient, r: ImagingStudyIn) -> Base:
    return ImagingStudy(
        date=r.date,
        study_uid=r.study_uid,
        series_uid=r.series_uid,
        modality=r.modality,
        role=r.role,
    )


def _workup(session: Session, patient: Patient, r: WorkupIn) -> Base:
    return Workup(
        date=r.date,
        lung_shunt_fraction=r.lung_shunt_fraction,
        lung_shunt_source=r.lung_shunt_source,
        tumour_to_normal=dict(r.tumour_to_normal),
        extrahepatic_uptake=r.extrahepatic_uptake,
        perfused_territories=list(r.perfused_territories),
    )


def _session(session: Session, patient: Patient, r: SessionIn) -> Base:
    version = (
        None if r.plan is None else _delivered_version(session, patient, r.plan, r.plan_version)
    )
    row = TreatmentSession(
        date=r.date,
        therapy=r.therapy,
        territory=r.territory,
        delivered_activity_gbq=r.delivered_activity_gbq,
        plan_version=version,
        details=dict(r.details),
    )
    ledger = _ledger(session, patient)
    if ledger is not None:
        ledger.sessions.setdefault(r.date, []).append(row)
    return row


def _monitoring(session: Session, patient: Patient, r: MonitoringIn) -> Base:
    treated = _session_on(session, patient, r.date, "monitoring date")
    return Monitoring(
        date=r.date,
        treatment=treated,
        start=r.start,
        end=r.end,
        observations=[dict(o) for o in r.observations],
        discharged=r.discharged,
        notes=r.notes,
    )


def _adverse_event(session: Session, patient: Patient, r: AdverseEventIn) -> Base:
    treated = (
        None
        if r.session_date is None
        else _session_on(session, patient, r.session_date, "session_date")
    )
    if r.resolved is not None:
        ledger = _ledger(session, patient)
        if ledger is None:
            store.check_event_date(
                session, patient, r.resolved, AdverseEventRecord, field="resolved"
            )
        else:
            store.check_date(
                patient, r.resolved, AdverseEventRecord, died=ledger.died, field="resolved"
            )
    return AdverseEventRecord(
        date=r.date,
        treatment=treated,
        term=r.term,
        grade=r.grade,
        resolved=r.resolved,
        attribution=r.attribution,
    )


def _outcome(session: Session, patient: Patient, r: OutcomeIn) -> Base:
    ledger = _ledger(session, patient)
    if r.kind is OutcomeKind.DEATH:
        died = store.death_date(session, patient) if ledger is None else ledger.died
        if died is not None:
            raise InputError(
                f"{patient.pseudonym}: a death is recorded already ({died.isoformat()}); "
                "correct that record instead of adding a second"
            )
        latest = _latest_event(session, patient) if ledger is None else ledger.latest
        if latest is not None and latest > r.date:
            raise InputError(
                f"{patient.pseudonym}: death on {r.date.isoformat()} is before recorded events "
                f"(the latest on {latest.isoformat()}); correct the date"
            )
    return OutcomeEvent(date=r.date, kind=r.kind, site=r.site, cause=r.cause)


def _latest_event(session: Session, patient: Patient) -> dt.date | None:
    """The latest date of any record of the patient (outcomes aside)."""
    dates = []
    for table in (
        LabPanel,
        ClinicalFindingsRecord,
        QualityOfLife,
        MdtDecision,
        ImagingStudy,
        Workup,
        TreatmentSession,
        Monitoring,
        Verification,
        AdverseEventRecord,
        LesionMeasurement,
        ResponseAssessment,
    ):
        column: Any = table.date
        owner: Any = table.patient_id
        dates.append(sa.select(sa.func.max(column)).where(owner == patient.id).scalar_subquery())
    values = [v for v in session.execute(sa.select(*dates)).one() if v is not None]
    return max(values) if values else None


def _response(session: Session, patient: Patient, r: ResponseIn) -> Base:
    return ResponseAssessment(
        date=r.date,
        criteria=r.criteria,
        criteria_version=r.criteria_version,
        target=r.target,
        non_target=r.non_target,
        new_lesions=r.new_lesions,
        overall=r.overall,
        target_change_pct=r.target_change_pct,
    )


def _lesion(session: Session, patient: Patient, r: LesionMeasurementIn) -> Base:
    return LesionMeasurement(
        date=r.date,
        lesion_id=r.lesion_id,
        role=r.role.value,
        organ=r.organ,
        is_node=r.is_node,
        longest_diameter_mm=r.longest_diameter_mm,
        short_axis_mm=r.short_axis_mm,
        viable_diameter_mm=r.viable_diameter_mm,
        enhancing_area_mm2=r.enhancing_area_mm2,
        status=r.status.value,
    )


def _verification(session: Session, patient: Patient, r: VerificationIn) -> Base:
    treated = (
        None
        if r.session_date is None
        else _session_on(session, patient, r.session_date, "session_date")
    )
    return Verification(
        date=r.date,
        treatment=treated,
        modality=r.modality,
        delivered_activity_gbq=r.delivered_activity_gbq,
        result_json=r.result_json,
        structures=[VerifiedStructure(**s.model_dump()) for s in r.structures],
    )


def _plan_version(session: Session, patient: Patient, r: PlanVersionIn) -> Base:
    """A plan version as recorded elsewhere (a bundle): number, state and signatures kept."""
    ledger = _ledger(session, patient)
    plan = None if ledger is None else ledger.plans.get(r.label)
    if plan is not None and ledger is not None:
        taken: bool = (r.label, r.version) in ledger.versions
    else:
        with _unflushed(session, ledger):
            plan = session.scalar(
                sa.select(Plan).where(Plan.patient_id == patient.id, Plan.label == r.label)
            )
        if plan is None:
            plan = Plan(patient_id=patient.id, label=r.label)
            session.add(plan)
            if ledger is not None:
                ledger.plans[r.label] = plan
            taken = False
        else:
            taken = (
                session.scalar(
                    sa.select(PlanVersion.id).where(
                        PlanVersion.plan_id == plan.id, PlanVersion.version == r.version
                    )
                )
                is not None
            )
    if taken:
        raise InputError(
            f"plan {r.label!r} of {patient.pseudonym} has a version {r.version} already; "
            "versions are never overwritten"
        )
    fields = r.model_dump(exclude={"patient", "label", "signatures"})
    fields["limits"] = list(r.limits)
    version = PlanVersion(
        plan=plan,
        signatures=[PlanSignature(**s.model_dump()) for s in r.signatures],
        **fields,
    )
    if ledger is not None:
        ledger.versions.add((r.label, r.version))
        if r.state is PlanState.APPROVED:
            ledger.approved[r.label] = version
    return version


_WRITERS: dict[type[BaseModel], Callable[[Session, Patient, Any], Base]] = {
    LabsIn: _labs,
    FindingsIn: _findings,
    QualityOfLifeIn: _qol,
    MdtDecisionIn: _mdt,
    ImagingStudyIn: _imaging,
    WorkupIn: _workup,
    SessionIn: _session,
    MonitoringIn: _monitoring,
    AdverseEventIn: _adverse_event,
    OutcomeIn: _outcome,
    ResponseIn: _response,
    LesionMeasurementIn: _lesion,
    VerificationIn: _verification,
    PlanVersionIn: _plan_version,
}

#: The record models that :func:`write_record` accepts.
RECORD_TYPES: tuple[type[BaseModel], ...] = tuple(_WRITERS)


def write_record(
    session: Session, record: BaseModel, *, patient: Patient | None = None, flush: bool = True
) -> Base:
    """Write one validated record of an existing patient.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    record : pydantic.BaseModel
        One of :data:`RECORD_TYPES`; its ``patient`` field names the patient.
    patient : Patient, optional
        The patient row, when the caller has it already (saves a lookup).
    flush : bool, optional
        Send the row to the database now (default). ``False`` lets a caller writing many
        records of a patient added in this transaction flush once (:func:`write_records`);
        the rules are checked either way.

    Returns
    -------
    Base
        The row written (flushed unless ``flush`` is false).

    Raises
    ------
    InputError
        If the patient does not exist, a date is not plausible for the patient
        (:func:`opensirt.registry.store.check_event_date`), or a linked session or plan is
        missing.
    TypeError
        If ``record`` is not a record model.
    """
    writer = _WRITERS.get(type(record))
    if writer is None:
        raise TypeError(f"{type(record).__name__} is not a registry record")
    pseudonym: str = getattr(record, "patient")  # noqa: B009 (every record model has it)
    if patient is None or patient.pseudonym != pseudonym:
        patient = store.get_patient(session, pseudonym)
    row = writer(session, patient, record)
    ledger = _ledger(session, patient)
    if ledger is None:
        store.add_rows(session, patient, [row])
        return row
    # a patient added in this transaction: the same rules, from the ledger; flushed later
    day: dt.date = getattr(row, "date")  # noqa: B009 (every dated row has it)
    store.check_date(patient, day, type(row), died=ledger.died)
    if "patient_id" in row.__table__.columns:
        row.patient_id = patient.id  # type: ignore[attr-defined]
    session.add(row)
    if isinstance(row, OutcomeEvent):
        if row.kind is OutcomeKind.DEATH:
            ledger.died = day
    elif not isinstance(row, PlanVersion):
        ledger.latest = day if ledger.latest is None else max(ledger.latest, day)
    if flush:
        store.flush(session, f"records of {patient.pseudonym}")
    return row


def write_records(
    session: Session,
    records: Iterable[BaseModel],
    *,
    patient: Patient | None = None,
    flush: bool = True,
) -> int:
    """Write several validated records, in order, by :func:`write_record`.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    records : iterable of pydantic.BaseModel
        Records of :data:`RECORD_TYPES`, in an order whose links hold (a plan before the
        session that delivers it, a session before its monitoring, a death last).
    patient : Patient, optional
        The patient row when every record is of this patient (saves the lookups).
    flush : bool, optional
        Send the rows to the database at the end (default); ``False`` leaves that to the
        caller (:func:`opensirt.registry.store.flush`), so that the rows of many patients
        added by :func:`add_patients` go in few statements. The rules are checked either way.

    Returns
    -------
    int
        How many records were written.

    Raises
    ------
    InputError
        As :func:`write_record`, for the first record that breaks a rule.
    """
    count = 0
    for record in records:
        write_record(session, record, patient=patient, flush=False)
        count += 1
    if flush:
        store.flush(session, "records")
    return count
