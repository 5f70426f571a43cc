"""The pathway record as tables: one patient, and everything dated that happens to them.

SQLAlchemy 2 declarative models with typed ``Mapped[...]`` columns. Every table below
``patients`` carries the patient's id (a foreign key that deletes with the patient) and a
clinical ``date``; the timeline is the union of these rows in date order. Coded fields are the
StrEnums of :mod:`opensirt.registry.vocabulary`, stored as their string value and checked by a
constraint; structured details that are read whole (the labs of a panel, a treatment's drug and
vials) are JSON validated by the record models before they are written. Images are kept as
DICOM UIDs, never pixels; a patient is known by a pseudonym, never a name.

The schema is created and changed only by the Alembic migrations in
``opensirt/registry/migrations`` (``opensirt registry migrate``); a test fails when these
models and the migrations differ.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC
from enum import StrEnum
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from opensirt.registry.vocabulary import (
    Attribution,
    Diagnosis,
    Intent,
    OutcomeKind,
    PlanState,
    ProgressionSite,
    QolInstrument,
    ResponseCriteria,
    Sex,
    SignatureRole,
    StudyRole,
    Therapy,
)

#: Names for constraints and indexes, so that migrations can address them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A point in time, stored in UTC and read back timezone-aware on every backend.

    SQLite keeps no time zone; a naive value is refused on the way in instead of guessed.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        """Convert an aware datetime to UTC for storage.

        Parameters
        ----------
        value : datetime or None
            The time to store; it must carry a time zone.
        dialect : sqlalchemy.Dialect
            The database dialect (unused).

        Returns
        -------
        datetime or None
            ``value`` in UTC (naive for SQLite, which stores no zone).

        Raises
        ------
        ValueError
            If ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"time {value.isoformat()} has no time zone; give it with one")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        """Read a stored time back as an aware UTC datetime.

        Parameters
        ----------
        value : datetime or None
            The value as the driver returns it.
        dialect : sqlalchemy.Dialect
            The database dialect (unused).

        Returns
        -------
        datetime or None
            The time, timezone-aware in UTC.
        """
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def coded(enum: type[StrEnum]) -> sa.Enum:
    """The column type of a coded field: the enum's values as a string, checked by a named
    constraint.

    Parameters
    ----------
    enum : type of StrEnum
        The value set (:mod:`opensirt.registry.vocabulary`); its lower-cased class name names
        the constraint.

    Returns
    -------
    sqlalchemy.Enum
        A non-native enum type of at most 32 characters.
    """
    return sa.Enum(
        enum,
        name=enum.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda e: [member.value for member in e],
    )


class Base(DeclarativeBase):
    """The declarative base of every registry table."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


def _patient_fk() -> Mapped[int]:
    return mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True)


def recorded_now() -> Mapped[dt.datetime]:
    """A column of the time a row is written, set to now (UTC) on insert.

    Returns
    -------
    sqlalchemy.orm.Mapped of datetime
        The mapped column.
    """
    return mapped_column(default=lambda: dt.datetime.now(UTC))


class Patient(Base):
    """A patient, known by a pseudonym only."""

    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(sa.String(64), unique=True)
    sex: Mapped[Sex] = mapped_column(coded(Sex))
    birth_year: Mapped[int]
    diagnosis: Mapped[Diagnosis] = mapped_column(coded(Diagnosis))
    diagnosis_date: Mapped[dt.date]
    recorded_at: Mapped[dt.datetime] = recorded_now()
    row_version: Mapped[int] = mapped_column(default=1)
    #: The site (hospital) the patient belongs to, when the service scopes data by site
    #: (:mod:`opensirt.registry.sites`); ``None`` in a single-centre registry.
    site: Mapped[str | None] = mapped_column(sa.String(32), index=True)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it)
    __table_args__ = (sa.CheckConstraint("birth_year BETWEEN 1890 AND 2200", name="birth_year"),)

    plans: Mapped[list[Plan]] = relationship(back_populates="patient", cascade="all, delete-orphan")


class LabPanel(Base):
    """Laboratory values of one date (the case file's ``patient.labs``) and tumour markers."""

    __tablename__ = "lab_panels"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    labs: Mapped[dict[str, Any]]
    afp_ng_ml: Mapped[float | None]
    cea_ng_ml: Mapped[float | None]


class ClinicalFindingsRecord(Base):
    """Clinical findings of one date (the case file's ``clinical:`` keys)."""

    __tablename__ = "clinical_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    findings: Mapped[dict[str, Any]]


class QualityOfLife(Base):
    """A scored quality-of-life questionnaire: instrument, scale and score."""

    __tablename__ = "quality_of_life"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    instrument: Mapped[QolInstrument] = mapped_column(coded(QolInstrument))
    scale: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[float]


class MdtDecision(Base):
    """A multidisciplinary board's decision, with a snapshot of ``opensirt assess``."""

    __tablename__ = "mdt_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    roles_present: Mapped[list[Any]]
    options_considered: Mapped[list[Any]]
    chosen: Mapped[Therapy] = mapped_column(coded(Therapy))
    intent: Mapped[Intent] = mapped_column(coded(Intent))
    line: Mapped[int | None]
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    assessment: Mapped[dict[str, Any] | None]


class ImagingStudy(Base):
    """An imaging study or series by its DICOM UIDs, with its role in the pathway."""

    __tablename__ = "imaging_studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    study_uid: Mapped[str] = mapped_column(sa.String(64))
    series_uid: Mapped[str | None] = mapped_column(sa.String(64))
    modality: Mapped[str] = mapped_column(sa.String(16))
    role: Mapped[StudyRole] = mapped_column(coded(StudyRole))

    __table_args__ = (sa.UniqueConstraint("patient_id", "study_uid", "series_uid", "role"),)


class Workup(Base):
    """The MAA work-up: lung shunt, tumour-to-normal ratios, extrahepatic uptake, territories."""

    __tablename__ = "workups"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    lung_shunt_fraction: Mapped[float | None]
    lung_shunt_source: Mapped[str | None] = mapped_column(sa.String(64))
    tumour_to_normal: Mapped[dict[str, Any]]
    extrahepatic_uptake: Mapped[bool | None]
    perfused_territories: Mapped[list[Any]]

    __table_args__ = (
        sa.CheckConstraint("lung_shunt_fraction BETWEEN 0 AND 1", name="lung_shunt_fraction"),
    )


class Plan(Base):
    """A treatment plan of a patient; its content lives in numbered versions."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    label: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = recorded_now()

    __table_args__ = (sa.UniqueConstraint("patient_id", "label"),)

    patient: Mapped[Patient] = relationship(back_populates="plans")
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanVersion.version"
    )


class PlanVersion(Base):
    """One version of a plan: the case file, the result and the numbers read from it.

    A draft may be edited; an approved version (signed by a physicist and a physician who are
    two different users) is immutable, and a change makes a new version, which supersedes it
    when approved. ``row_version`` detects two writers editing the same version.
    """

    __tablename__ = "plan_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    state: Mapped[PlanState] = mapped_column(coded(PlanState), default=PlanState.DRAFT)
    date: Mapped[dt.date]
    case_yaml: Mapped[str] = mapped_column(sa.Text)
    result_json: Mapped[str] = mapped_column(sa.Text)
    method: Mapped[str] = mapped_column(sa.String(32))
    device: Mapped[str] = mapped_column(sa.String(32))
    activity_gbq: Mapped[float | None]
    tumour_dose_gy: Mapped[float | None]
    normal_liver_dose_gy: Mapped[float | None]
    lung_dose_gy: Mapped[float | None]
    limits: Mapped[list[Any]]
    input_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    report_path: Mapped[str | None] = mapped_column(sa.Text)
    rtdose_path: Mapped[str | None] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = recorded_now()
    updated_at: Mapped[dt.datetime | None]  # the last edit or signature
    row_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it)
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "version"),
        sa.CheckConstraint("version >= 1", name="version"),
        sa.CheckConstraint("activity_gbq IS NULL OR activity_gbq >= 0", name="activity_gbq"),
    )

    plan: Mapped[Plan] = relationship(back_populates="versions")
    signatures: Mapped[list[PlanSignature]] = relationship(
        back_populates="plan_version", cascade="all, delete-orphan"
    )


class PlanSignature(Base):
    """A signature on a plan version, by role; one per role."""

    __tablename__ = "plan_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[SignatureRole] = mapped_column(coded(SignatureRole))
    user_name: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[dt.datetime] = recorded_now()

    __table_args__ = (sa.UniqueConstraint("plan_version_id", "role"),)

    plan_version: Mapped[PlanVersion] = relationship(back_populates="signatures")


class TreatmentSession(Base):
    """A treatment given: SIRT (device, vials, delivered activity) or any other therapy.

    ``details`` holds what the therapy needs (SIRT: device, vials with assays and times,
    residual, catheter position; TACE: drug and dose; HAIC: drug and regimen; systemic: agent
    and line ...), validated by the record model of its therapy.
    """

    __tablename__ = "treatment_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    therapy: Mapped[Therapy] = mapped_column(coded(Therapy))
    plan_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("plan_versions.id", ondelete="SET NULL"), index=True
    )
    territory: Mapped[str | None] = mapped_column(sa.String(64))
    delivered_activity_gbq: Mapped[float | None]
    details: Mapped[dict[str, Any]]

    __table_args__ = (
        sa.CheckConstraint(
            "delivered_activity_gbq IS NULL OR delivered_activity_gbq >= 0",
            name="delivered_activity_gbq",
        ),
    )

    plan_version: Mapped[PlanVersion | None] = relationship()


class Monitoring(Base):
    """The 4-6 h observation after a treatment session."""

    __tablename__ = "monitoring"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("treatment_sessions.id", ondelete="CASCADE"), index=True
    )
    date: Mapped[dt.date]
    start: Mapped[dt.datetime]
    end: Mapped[dt.datetime]
    observations: Mapped[list[Any]]
    discharged: Mapped[bool]
    notes: Mapped[str] = mapped_column(sa.Text, default="")

    treatment: Mapped[TreatmentSession | None] = relationship()


class Verification(Base):
    """Post-treatment dosimetry: the verification result of a session."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("treatment_sessions.id", ondelete="SET NULL"), index=True
    )
    date: Mapped[dt.date]
    modality: Mapped[str] = mapped_column(sa.String(32))
    delivered_activity_gbq: Mapped[float | None]
    result_json: Mapped[str] = mapped_column(sa.Text)

    structures: Mapped[list[VerifiedStructure]] = relationship(
        back_populates="verification", cascade="all, delete-orphan"
    )
    treatment: Mapped[TreatmentSession | None] = relationship()


class VerifiedStructure(Base):
    """Predicted and delivered mean dose of one structure, and whether it was flagged."""

    __tablename__ = "verified_structures"

    id: Mapped[int] = mapped_column(primary_key=True)
    verification_id: Mapped[int] = mapped_column(
        sa.ForeignKey("verifications.id", ondelete="CASCADE"), index=True
    )
    structure: Mapped[str] = mapped_column(sa.String(64))
    predicted_gy: Mapped[float | None]
    predicted_scaled_gy: Mapped[float | None]
    delivered_gy: Mapped[float | None]
    difference_pct: Mapped[float | None]
    flagged: Mapped[bool]

    verification: Mapped[Verification] = relationship(back_populates="structures")


class AdverseEventRecord(Base):
    """An adverse event: CTCAE v5.0 term and grade, onset, resolution and attribution."""

    __tablename__ = "adverse_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("treatment_sessions.id", ondelete="SET NULL"), index=True
    )
    date: Mapped[dt.date]  # onset
    term: Mapped[str] = mapped_column(sa.String(128))
    grade: Mapped[int]
    resolved: Mapped[dt.date | None]
    attribution: Mapped[Attribution] = mapped_column(coded(Attribution))

    __table_args__ = (sa.CheckConstraint("grade BETWEEN 1 AND 5", name="grade"),)

    treatment: Mapped[TreatmentSession | None] = relationship()


class LesionMeasurement(Base):
    """One lesion measured on one follow-up date (the columns of ``measurements.csv``)."""

    __tablename__ = "lesion_measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    lesion_id: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(16))
    organ: Mapped[str] = mapped_column(sa.String(64), default="liver")
    is_node: Mapped[bool] = mapped_column(default=False)
    longest_diameter_mm: Mapped[float | None]
    short_axis_mm: Mapped[float | None]
    viable_diameter_mm: Mapped[float | None]
    enhancing_area_mm2: Mapped[float | None]
    status: Mapped[str] = mapped_column(sa.String(32), default="present")

    __table_args__ = (sa.UniqueConstraint("patient_id", "date", "lesion_id"),)


class ResponseAssessment(Base):
    """The response at one time point, computed by :mod:`opensirt.clinical.response`."""

    __tablename__ = "response_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    criteria: Mapped[ResponseCriteria] = mapped_column(coded(ResponseCriteria))
    criteria_version: Mapped[str] = mapped_column(sa.String(64))
    target: Mapped[str] = mapped_column(sa.String(16))
    non_target: Mapped[str] = mapped_column(sa.String(16))
    new_lesions: Mapped[bool]
    overall: Mapped[str] = mapped_column(sa.String(16))
    target_change_pct: Mapped[float | None]

    __table_args__ = (sa.UniqueConstraint("patient_id", "date", "criteria"),)


class OutcomeEvent(Base):
    """Progression (with its site), death (with its cause) or the last contact."""

    __tablename__ = "outcome_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = _patient_fk()
    date: Mapped[dt.date]
    kind: Mapped[OutcomeKind] = mapped_column(coded(OutcomeKind))
    site: Mapped[ProgressionSite | None] = mapped_column(coded(ProgressionSite))
    cause: Mapped[str | None] = mapped_column(sa.String(128))


#: The dated tables of a patient's timeline, in the order a same-day tie is shown.
TIMELINE_TABLES: tuple[type[Base], ...] = (
    ClinicalFindingsRecord,
    LabPanel,
    QualityOfLife,
    MdtDecision,
    ImagingStudy,
    Workup,
    PlanVersion,
    TreatmentSession,
    Monitoring,
    Verification,
    AdverseEventRecord,
    LesionMeasurement,
    ResponseAssessment,
    OutcomeEvent,
)

#: The dated tables that get an index on (patient, date) (migration 0007), so that the latest
#: date of a patient's records, which the patient list shows for every row, is read from the
#: index alone (one seek per table instead of reading each of the patient's rows); the lesion
#: measurements and the responses have one already (their unique constraints).
DATE_INDEXED_TABLES: tuple[type[Base], ...] = (
    ClinicalFindingsRecord,
    LabPanel,
    QualityOfLife,
    MdtDecision,
    ImagingStudy,
    Workup,
    TreatmentSession,
    Monitoring,
    Verification,
    AdverseEventRecord,
    OutcomeEvent,
)


def _date_indexes() -> None:
    for model in DATE_INDEXED_TABLES:
        table: Any = model.__table__
        sa.Index(f"ix_{table.name}_patient_id_date", table.c.patient_id, table.c.date)
    versions: Any = PlanVersion.__table__
    sa.Index("ix_plan_versions_plan_id_date", versions.c.plan_id, versions.c.date)


_date_indexes()


# the users and the audit log live in a module of their own; importing it here puts their
# tables in Base.metadata wherever the models are used (the migrations, the tests), and
# importing the audit module switches its flush hook on wherever rows are written
from opensirt.registry import audit as _audit  # noqa: E402, F401
from opensirt.registry import models_access as _models_access  # noqa: E402, F401
from opensirt.registry import models_jobs as _models_jobs  # noqa: E402, F401
from opensirt.registry import models_redose as _models_redose  # noqa: E402, F401
from opensirt.registry import models_sessions as _models_sessions  # noqa: E402, F401
