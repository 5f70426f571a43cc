"""Validated records into rows: the one path by which anything enters the registry.

``opensirt registry add``, the ``--record`` options of the pathway commands, the bundle import
and the synthetic cohort all write through :func:`add_patient` and :func:`write_record`, so
the rules of :mod:`opensirt.registry.store` hold whatever the source. Links between records are
made by what a person knows: a session by its date, a plan by its label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
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
    exists = session.scalar(sa.select(Patient.id).where(Patient.pseudonym == record.patient))
    if exists is not None:
        raise InputError(
            f"patient {record.patient!r} is already in the registry; add records to it, or "
            "choose another pseudonym"
        )
    if record.diagnosis_date > dt.date.today():
        raise InputError(
            f"patient {record.patient}: diagnosis_date {record.diagnosis_date.isoformat()} is in "
            "the future; give the date of the diagnosis"
        )
    patient = Patient(
        pseudonym=record.patient,
        sex=record.sex,
        birth_year=record.birth_year,
        diagnosis=record.diagnosis,
        diagnosis_date=record.diagnosis_date,
    )
    session.add(patient)
    session.flush()
    return patient


def _session_on(session: Session, patient: Patient, day: dt.date, field: str) -> TreatmentSession:
    """The patient's treatment session on ``day`` (SIRT first if there are several)."""
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


def _approved_version(session: Session, patient: Patient, label: str) -> PlanVersion:
    version = session.scalar(
        sa.select(PlanVersion)
        .join(Plan)
        .where(
            Plan.patient_id == patient.id,
            Plan.label == label,
            PlanVersion.state == PlanState.APPROVED,
        )
    )
    if version is None:
        raise InputError(
            f"plan {label!r} of {patient.pseudonym} has no approved version; a session delivers "
            "an approved plan: sign it first (`opensirt registry sign`) or correct the label"
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
    version = _approved_version(session, patient, r.plan) if r.plan is not None else None
    return TreatmentSession(
        date=r.date,
        therapy=r.therapy,
        territory=r.territory,
        delivered_activity_gbq=r.delivered_activity_gbq,
        plan_version_id=None if version is None else version.id,
        details=dict(r.details),
    )


def _monitoring(session: Session, patient: Patient, r: MonitoringIn) -> Base:
    treated = _session_on(session, patient, r.date, "monitoring date")
    return Monitoring(
        date=r.date,
        session_id=treated.id,
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
        store.check_event_date(session, patient, r.resolved, AdverseEventRecord, field="resolved")
    return AdverseEventRecord(
        date=r.date,
        session_id=None if treated is None else treated.id,
        term=r.term,
        grade=r.grade,
        resolved=r.resolved,
        attribution=r.attribution,
    )


def _outcome(session: Session, patient: Patient, r: OutcomeIn) -> Base:
    if r.kind is OutcomeKind.DEATH:
        died = store.death_date(session, patient)
        if died is not None:
            raise InputError(
                f"{patient.pseudonym}: a death is recorded already ({died.isoformat()}); "
                "correct that record instead of adding a second"
            )
        latest = _latest_event(session, patient)
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
        session_id=None if treated is None else treated.id,
        modality=r.modality,
        delivered_activity_gbq=r.delivered_activity_gbq,
        result_json=r.result_json,
        structures=[VerifiedStructure(**s.model_dump()) for s in r.structures],
    )


def _plan_version(session: Session, patient: Patient, r: PlanVersionIn) -> Base:
    """A plan version as recorded elsewhere (a bundle): number, state and signatures kept."""
    plan = session.scalar(
        sa.select(Plan).where(Plan.patient_id == patient.id, Plan.label == r.label)
    )
    if plan is None:
        plan = Plan(patient_id=patient.id, label=r.label)
        session.add(plan)
        session.flush()
    taken = session.scalar(
        sa.select(PlanVersion.id).where(
            PlanVersion.plan_id == plan.id, PlanVersion.version == r.version
        )
    )
    if taken is not None:
        raise InputError(
            f"plan {r.label!r} of {patient.pseudonym} has a version {r.version} already; "
            "versions are never overwritten"
        )
    fields = r.model_dump(exclude={"patient", "label", "signatures"})
    fields["limits"] = list(r.limits)
    return PlanVersion(
        plan_id=plan.id,
        signatures=[PlanSignature(**s.model_dump()) for s in r.signatures],
        **fields,
    )


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


def write_record(session: Session, record: BaseModel, *, patient: Patient | None = None) -> Base:
    """Write one validated record of an existing patient.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    record : pydantic.BaseModel
        One of :data:`RECORD_TYPES`; its ``patient`` field names the patient.
    patient : Patient, optional
        The patient row, when the caller has it already (saves a lookup).

    Returns
    -------
    Base
        The row written (flushed).

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
    store.add_rows(session, patient, [row])
    return row


def write_records(
    session: Session, records: Iterable[BaseModel], *, patient: Patient | None = None
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
        write_record(session, record, patient=patient)
        count += 1
    return count
