"""The rules every write to the registry keeps, whichever command or import makes it.

* A record belongs to a patient who exists (:func:`get_patient`).
* Clinical dates are not in the future, and the treatment pathway (MDT decisions, plans,
  sessions, monitoring, verification, adverse events, responses, outcomes) does not start
  before the patient's diagnosis; nothing is recorded after a recorded death
  (:func:`check_event_date`). Labs, findings, quality of life and imaging may precede the
  diagnosis (the scan that found the tumour does).
* Plans are versioned (:func:`add_plan_version`): a version is a draft until a physicist and a
  physician, two different users, sign it (:func:`sign_plan_version`); then it is approved and
  immutable, and the approved version it replaces becomes superseded. A change to an approved
  plan is a new version. Two users editing or signing the same version at once: the second
  gets :class:`~opensirt.registry.database.ConflictError`, never a silent overwrite.

Every function works inside the caller's transaction (a ``Session`` from
:meth:`opensirt.registry.database.Registry.transaction`) and raises before anything of the
caller's unit of work is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from opensirt.errors import InputError
from opensirt.registry import sites
from opensirt.registry.database import ConflictError
from opensirt.registry.models import (
    Base,
    ClinicalFindingsRecord,
    ImagingStudy,
    LabPanel,
    OutcomeEvent,
    Patient,
    Plan,
    PlanSignature,
    PlanVersion,
    QualityOfLife,
)
from opensirt.registry.vocabulary import OutcomeKind, PlanState, SignatureRole

#: Records that may be dated before the diagnosis (the work-up that led to it).
MAY_PRECEDE_DIAGNOSIS: tuple[type[Base], ...] = (
    LabPanel,
    ClinicalFindingsRecord,
    QualityOfLife,
    ImagingStudy,
)


class PatientNotFoundError(InputError):
    """No patient with that pseudonym is in the registry."""


def get_patient(session: Session, pseudonym: str, *, scope: str | None = None) -> Patient:
    """The patient with this pseudonym.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    pseudonym : str
        The patient's pseudonymised id.
    scope : str or None, optional
        Only a patient of this site (:func:`opensirt.registry.sites.scope_of`); another
        site's patient is answered as if there were none. Default: any patient.

    Returns
    -------
    Patient
        The patient row.

    Raises
    ------
    PatientNotFoundError
        If there is none; the message says how to add one.
    """
    query = sites.restrict(sa.select(Patient).where(Patient.pseudonym == pseudonym), scope)
    patient = session.scalar(query)
    if patient is None:
        raise PatientNotFoundError(
            f"patient {pseudonym!r} is not in the registry; add the patient first "
            "(`opensirt registry add patient FILE`) or check the id"
        )
    return patient


def death_date(session: Session, patient: Patient) -> dt.date | None:
    """The recorded date of death of a patient, if any.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    patient : Patient
        The patient.

    Returns
    -------
    datetime.date or None
        The date of the patient's death event, or ``None`` while none is recorded.
    """
    return session.scalar(
        sa.select(sa.func.min(OutcomeEvent.date)).where(
            OutcomeEvent.patient_id == patient.id, OutcomeEvent.kind == OutcomeKind.DEATH
        )
    )


def check_event_date(
    session: Session,
    patient: Patient,
    when: dt.date,
    kind: type[Base],
    *,
    field: str = "date",
    today: dt.date | None = None,
) -> None:
    """Refuse a clinical date that cannot be right for this patient.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    patient : Patient
        The patient the record belongs to.
    when : datetime.date
        The record's date.
    kind : type
        The model class of the record (decides whether it may precede the diagnosis).
    field : str, optional
        The name of the date field, for the message.
    today : datetime.date, optional
        Today's date (default: the system date), the latest date accepted.

    Raises
    ------
    InputError
        If the date is in the future, lies before the diagnosis for a pathway record, or after
        the patient's recorded death.
    """
    check_date(patient, when, kind, died=death_date(session, patient), field=field, today=today)


def check_date(
    patient: Patient,
    when: dt.date,
    kind: type[Base],
    *,
    died: dt.date | None,
    field: str = "date",
    today: dt.date | None = None,
) -> None:
    """:func:`check_event_date` for a caller that knows the patient's date of death already.

    Parameters
    ----------
    patient : Patient
        The patient the record belongs to.
    when : datetime.date
        The record's date.
    kind : type
        The model class of the record (decides whether it may precede the diagnosis).
    died : datetime.date or None
        The patient's recorded date of death (:func:`death_date`), ``None`` while alive.
    field : str, optional
        The name of the date field, for the message.
    today : datetime.date, optional
        Today's date (default: the system date), the latest date accepted.

    Raises
    ------
    InputError
        If the date is in the future, lies before the diagnosis for a pathway record, or after
        the patient's death.
    """
    today = today or dt.date.today()
    what = f"{kind.__tablename__} of {patient.pseudonym}: {field}"
    if when > today:
        raise InputError(f"{what} is {when.isoformat()}, in the future; give the date it happened")
    if kind not in MAY_PRECEDE_DIAGNOSIS and when < patient.diagnosis_date:
        raise InputError(
            f"{what} is {when.isoformat()}, before the diagnosis on "
            f"{patient.diagnosis_date.isoformat()}; correct the date (or the diagnosis date)"
        )
    if died is not None and when > died and kind is not OutcomeEvent:
        raise InputError(
            f"{what} is {when.isoformat()}, after the patient's death on {died.isoformat()}; "
            "correct the date"
        )


def latest_version(session: Session, plan: Plan) -> PlanVersion | None:
    """The newest version of a plan.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    plan : Plan
        The plan.

    Returns
    -------
    PlanVersion or None
        The version with the highest number, or ``None`` for a plan with none.
    """
    return session.scalar(
        sa.select(PlanVersion)
        .where(PlanVersion.plan_id == plan.id)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def add_plan_version(session: Session, patient: Patient, label: str, **content: Any) -> PlanVersion:
    """Record a plan: a new plan, or a new draft version of the patient's plan ``label``.

    A draft that is the newest version is replaced in place (its number kept, its
    ``row_version`` checked); after an approved version a new number is made.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    patient : Patient
        The patient.
    label : str
        The plan's name within the patient (e.g. ``"right lobe"``); 1-64 characters.
    **content
        The :class:`~opensirt.registry.models.PlanVersion` columns: ``date``, ``case_yaml``,
        ``result_json``, ``method``, ``device``, ``activity_gbq``, doses, ``limits``,
        ``input_fingerprint``, report paths and ``created_by``.

    Returns
    -------
    PlanVersion
        The version written (state draft).

    Raises
    ------
    InputError
        If the label is empty or too long, or the date is not plausible
        (:func:`check_event_date`).
    ConflictError
        If another user changed the same draft meanwhile.
    """
    if not 1 <= len(label.strip()) <= 64:
        raise InputError(f"plan label {label!r} must have 1 to 64 characters")
    check_event_date(session, patient, content["date"], PlanVersion)
    plan = session.scalar(sa.select(Plan).where(Plan.patient_id == patient.id, Plan.label == label))
    if plan is None:
        plan = Plan(patient_id=patient.id, label=label)
        session.add(plan)
        session.flush()
    newest = latest_version(session, plan)
    if newest is not None and newest.state is PlanState.DRAFT:
        for key, value in content.items():
            setattr(newest, key, value)
        newest.updated_at = dt.datetime.now(dt.UTC)
        flush(session, f"draft version {newest.version} of plan {label!r}")
        return newest
    version = PlanVersion(
        plan_id=plan.id, version=1 if newest is None else newest.version + 1, **content
    )
    session.add(version)
    flush(session, f"plan {label!r}")
    return version


def sign_plan_version(
    session: Session,
    version: PlanVersion,
    role: SignatureRole | str,
    user_name: str,
    *,
    expected_row_version: int | None = None,
) -> PlanVersion:
    """Sign a draft plan version; with both signatures it becomes approved.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    version : PlanVersion
        The version to sign.
    role : SignatureRole or str
        ``physicist`` or ``physician``.
    user_name : str
        Who signs (1-64 characters); the two signatures must come from two different users.
    expected_row_version : int, optional
        The ``row_version`` the signer saw; a different current value means someone changed
        the version meanwhile.

    Returns
    -------
    PlanVersion
        The version, approved if this was the second signature.

    Raises
    ------
    InputError
        If the version is not a draft, the role is signed already, or the same user signs both.
    ConflictError
        If the version changed since the signer read it.
    """
    role = SignatureRole(role)
    user_name = user_name.strip()
    if not 1 <= len(user_name) <= 64:
        raise InputError(f"user name {user_name!r} must have 1 to 64 characters")
    where = f"plan version {version.version} of plan {version.plan.label!r}"
    if expected_row_version is not None and version.row_version != expected_row_version:
        raise ConflictError(
            f"{where} was changed by someone else (now revision {version.row_version}, you "
            f"saw {expected_row_version}); reload it, check it again and sign then"
        )
    if version.state is not PlanState.DRAFT:
        raise InputError(f"{where} is {version.state.value}; only a draft can be signed")
    signed = {s.role: s.user_name for s in version.signatures}
    if role in signed:
        raise InputError(f"{where} is signed as {role.value} already (by {signed[role]})")
    other = next(iter(signed.values()), None)
    if other is not None and other == user_name:
        raise InputError(
            f"{where}: {user_name} signed it already as the other role; a plan needs two "
            "different people (a physicist and a physician)"
        )
    version.signatures.append(PlanSignature(role=role, user_name=user_name))
    if len(signed) + 1 == len(SignatureRole):
        _supersede(session, version)
        version.state = PlanState.APPROVED
    # every signature updates the version row (its counter), so two signers racing on the same
    # version conflict instead of both seeing it unsigned
    version.updated_at = dt.datetime.now(dt.UTC)
    flush(session, where)
    return version


def _supersede(session: Session, approved: PlanVersion) -> None:
    """Mark the plan's earlier approved versions superseded."""
    for earlier in session.scalars(
        sa.select(PlanVersion).where(
            PlanVersion.plan_id == approved.plan_id,
            PlanVersion.state == PlanState.APPROVED,
            PlanVersion.id != approved.id,
        )
    ):
        earlier.state = PlanState.SUPERSEDED


def add_rows(session: Session, patient: Patient, rows: Iterable[Base]) -> int:
    """Add dated records of a patient after checking each date.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    patient : Patient
        The patient the rows belong to (their ``patient_id`` is set here).
    rows : iterable of model instances
        Rows of the dated tables, each with a ``date``.

    Returns
    -------
    int
        How many rows were added.

    Raises
    ------
    InputError
        If a date is not plausible (:func:`check_event_date`).
    """
    count = 0
    for row in rows:
        check_event_date(session, patient, row.date, type(row))  # type: ignore[attr-defined]
        if "patient_id" in row.__table__.columns:  # a plan version belongs to it via its plan
            row.patient_id = patient.id  # type: ignore[attr-defined]
        session.add(row)
        count += 1
    flush(session, f"records of {patient.pseudonym}")
    return count


def flush(session: Session, what: str) -> None:
    """Send the pending rows to the database, a lost race raised as a conflict.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    what : str
        What is being saved, for the message.

    Raises
    ------
    ConflictError
        If a concurrent change or a uniqueness constraint refuses a row.
    """
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError(
            f"{what} was changed by someone else at the same time; reload it and try again"
        ) from None
    except IntegrityError as exc:
        raise ConflictError(
            f"{what} could not be saved: another record conflicts ({exc.orig}); "
            "reload and try again"
        ) from None
