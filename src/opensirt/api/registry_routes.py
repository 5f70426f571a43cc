"""The registry over HTTP: patients, timelines, plan versions and their sign-off,
verifications, new records, the audit history and the exchange bundle."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, selectinload

from opensirt import __version__
from opensirt.api.errors import validation_errors
from opensirt.api.state import CLINICAL_ROLES, CurrentUser, current_user, require_role, service
from opensirt.registry import audit, sites, store
from opensirt.registry.bundle import export_bundle
from opensirt.registry.files import MODELS, Kind
from opensirt.registry.models import Patient, Plan, PlanVersion, Verification
from opensirt.registry.timeline import list_patients, timeline
from opensirt.registry.vocabulary import Diagnosis, UserRole
from opensirt.registry.writer import write_record

router = APIRouter(prefix="/api", tags=["registry"])

#: The kinds of record a page may add to a patient (the patient itself, plans and
#: verifications come from their own endpoints and jobs).
RECORD_KINDS = tuple(k for k in Kind if k not in (Kind.PATIENT, Kind.VERIFICATION))

Reader = Annotated[CurrentUser, Depends(current_user)]


def _read(request: Request) -> Any:
    return service(request).registry.transaction(readonly=True)


def _write(request: Request, user: CurrentUser) -> Any:
    return service(request).registry.transaction(actor=user.user_name)


def _json(document: dict[str, Any]) -> JSONResponse:
    """A JSON-ready document (strings, numbers, booleans, ``None``, lists and maps only) as
    the response, written by ``json.dumps`` directly: FastAPI's ``jsonable_encoder``, which
    otherwise walks it value by value first, took a millisecond for a page of patients."""
    return JSONResponse(document)


@router.get("/patients", response_model=dict[str, Any])
def patients(
    request: Request,
    user: Reader,
    q: Annotated[str | None, Query(max_length=64, description="Part of a pseudonym.")] = None,
    diagnosis: Diagnosis | None = None,
    status: Annotated[
        Literal["alive", "dead"] | None, Query(description="Vital status at the last record.")
    ] = None,
    date_from: Annotated[
        dt.date | None, Query(alias="from", description="Diagnosed on or after.")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(alias="to", description="Diagnosed on or before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """A page of patients, by pseudonym, with the number matching the filters.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: only the patients of the user's site are listed).
    q : str, optional
        Part of a pseudonym (case-insensitive, literal).
    diagnosis : Diagnosis, optional
        Only this diagnosis.
    status : {"alive", "dead"}, optional
        Only living patients or only those with a recorded death.
    date_from, date_to : datetime.date, optional
        Diagnosed on or after, on or before (query ``from`` and ``to``).
    limit : int, optional
        Patients per page (1-500, default 50).
    offset : int, optional
        Patients skipped before the page.

    Returns
    -------
    fastapi.responses.JSONResponse
        ``{total, offset, patients: [...]}``, rows as ``opensirt registry list --json``.
    """
    with _read(request) as session:
        page = list_patients(
            session,
            diagnosis=diagnosis,
            search=q,
            alive=None if status is None else status == "alive",
            diagnosed_from=date_from,
            diagnosed_to=date_to,
            limit=limit,
            offset=offset,
            scope=user.scope,
        )
    return _json(
        {"total": page.total, "offset": page.offset, "patients": [r.to_dict() for r in page.rows]}
    )


@router.get("/patients/{pseudonym}/timeline", response_model=dict[str, Any])
def patient_timeline(request: Request, user: Reader, pseudonym: str) -> JSONResponse:
    """A patient's pathway in date order (the format of ``opensirt registry timeline --json``).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: of the patient's site).
    pseudonym : str
        The patient.

    Returns
    -------
    fastapi.responses.JSONResponse
        The timeline document (format 1); 404 for an unknown patient (or another site's).
    """
    with _read(request) as session:
        store.get_patient(session, pseudonym, scope=user.scope)
        return _json(timeline(session, pseudonym).to_dict())


def plan_version(session: Session, version_id: int, scope: str | None) -> PlanVersion:
    """A plan version by id, with its plan and signatures; 404 when there is none.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    version_id : int
        The version's record id.
    scope : str or None
        Only a version of a patient of this site (``CurrentUser.scope``); another site's is
        404 as an unknown one.

    Returns
    -------
    PlanVersion
        The version.
    """
    query = (
        sa.select(PlanVersion)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .join(Patient, Plan.patient_id == Patient.id)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.signatures), selectinload(PlanVersion.plan))
    )
    version = session.scalar(sites.restrict(query, scope))
    if version is None:
        raise HTTPException(404, f"no plan version {version_id}")
    return version


def _plan_document(session: Session, version: PlanVersion) -> dict[str, Any]:
    plan: Plan = version.plan
    pseudonym = session.scalar(sa.select(Patient.pseudonym).where(Patient.id == plan.patient_id))
    return {
        "id": version.id,
        "patient": pseudonym,
        "label": plan.label,
        "version": version.version,
        "state": version.state.value,
        "row_version": version.row_version,
        "date": version.date.isoformat(),
        "method": version.method,
        "device": version.device,
        "activity_gbq": version.activity_gbq,
        "tumour_dose_gy": version.tumour_dose_gy,
        "normal_liver_dose_gy": version.normal_liver_dose_gy,
        "lung_dose_gy": version.lung_dose_gy,
        "limits": version.limits,
        "input_fingerprint": version.input_fingerprint,
        "created_by": version.created_by,
        "recorded_at": version.recorded_at.isoformat(),
        "signatures": [
            {"role": s.role.value, "user_name": s.user_name, "signed_at": s.signed_at.isoformat()}
            for s in sorted(version.signatures, key=lambda s: s.signed_at)
        ],
        "result": json.loads(version.result_json),
        "downloads": {
            name: f"/api/plans/{version.id}/{name}"
            for name, present in (
                ("report.pdf", version.report_path),
                ("rtdose.dcm", version.rtdose_path),
                ("dvh.csv", version.rtdose_path),
            )
            if present
        },
    }


@router.get("/plans/{version_id}")
def plan(request: Request, user: Reader, version_id: int) -> dict[str, Any]:
    """A plan version: its numbers, result, signatures, state and ``row_version``.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: of the patient's site).
    version_id : int
        The version's record id.

    Returns
    -------
    dict
        The version; ``result`` is the plan's JSON as ``opensirt plan --json`` writes it.
    """
    with _read(request) as session:
        return _plan_document(session, plan_version(session, version_id, user.scope))


class SignIn(BaseModel):
    """A signature: as which role, on which revision of the version the signer saw."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["physicist", "physician"]
    row_version: Annotated[int, Field(ge=1)]


@router.post("/plans/{version_id}/sign")
def sign(
    request: Request,
    version_id: int,
    body: SignIn,
    user: Annotated[CurrentUser, Depends(require_role(UserRole.PHYSICIST, UserRole.PHYSICIAN))],
) -> dict[str, Any]:
    """Sign a draft plan version as the session's user, in the user's own role.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    version_id : int
        The version's record id.
    body : SignIn
        The role (must be the user's) and the ``row_version`` the user saw.
    user : CurrentUser
        A physicist or a physician.

    Returns
    -------
    dict
        The version after the signature (approved after the second); 409 when it changed
        since the user read it, 422 when the same user signs twice or it is no draft.
    """
    if body.role != user.role.value:
        raise HTTPException(403, f"a {user.role.value} cannot sign as {body.role}")
    with _write(request, user) as session:
        version = plan_version(session, version_id, user.scope)
        store.sign_plan_version(
            session, version, body.role, user.user_name, expected_row_version=body.row_version
        )
        return _plan_document(session, version)


@router.get("/verifications/{verification_id}")
def verification(request: Request, user: Reader, verification_id: int) -> dict[str, Any]:
    """A verification: predicted against delivered dose per structure, with the flags.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: of the patient's site).
    verification_id : int
        The verification's record id.

    Returns
    -------
    dict
        Date, modality, delivered activity, the structures and the full result JSON.
    """
    with _read(request) as session:
        query = (
            sa.select(Verification)
            .join(Patient, Verification.patient_id == Patient.id)
            .where(Verification.id == verification_id)
            .options(selectinload(Verification.structures))
        )
        found = session.scalar(sites.restrict(query, user.scope))
        if found is None:
            raise HTTPException(404, f"no verification {verification_id}")
        pseudonym = session.scalar(
            sa.select(Patient.pseudonym).where(Patient.id == found.patient_id)
        )
        return {
            "id": found.id,
            "patient": pseudonym,
            "session_id": found.session_id,
            "date": found.date.isoformat(),
            "modality": found.modality,
            "delivered_activity_gbq": found.delivered_activity_gbq,
            "structures": [
                {
                    "structure": s.structure,
                    "predicted_gy": s.predicted_gy,
                    "predicted_scaled_gy": s.predicted_scaled_gy,
                    "delivered_gy": s.delivered_gy,
                    "difference_pct": s.difference_pct,
                    "flagged": s.flagged,
                }
                for s in sorted(found.structures, key=lambda s: s.id)
            ],
            "result": json.loads(found.result_json),
        }


@router.post("/patients/{pseudonym}/records/{kind}", status_code=201)
def add_record(
    request: Request,
    pseudonym: str,
    kind: Kind,
    user: Annotated[CurrentUser, Depends(require_role(*CLINICAL_ROLES))],
    body: Annotated[dict[str, Any], Body(description="The record (the registry's file format).")],
) -> Any:
    """Record something about a patient: an MDT decision, a session, monitoring, an adverse
    event, measurements, a response, an outcome, labs, findings, quality of life ...

    Parameters
    ----------
    request : fastapi.Request
        The request.
    pseudonym : str
        The patient (the body's ``patient`` may be left out; if given it must match).
    kind : Kind
        The kind of record (as ``opensirt registry add KIND``).
    user : CurrentUser
        A physicist, physician or nurse.
    body : dict
        The record's fields.

    Returns
    -------
    Any
        ``{kind, id}`` of the record written (201), or 422 with ``detail`` a list of
        ``{field, message}``.
    """
    if kind not in RECORD_KINDS:
        raise HTTPException(422, f"records of kind {kind.value} are not added here")
    if body.setdefault("patient", pseudonym) != pseudonym:
        problem = {"field": "patient", "message": f"must be {pseudonym} (the page's patient)"}
        return JSONResponse({"detail": [problem]}, status_code=422)
    try:
        record = MODELS[kind].model_validate(body)
    except ValidationError as exc:
        return JSONResponse({"detail": validation_errors(exc)}, status_code=422)
    with _write(request, user) as session:
        store.get_patient(session, pseudonym, scope=user.scope)
        row = write_record(session, record)
        return {"kind": kind.value, "id": getattr(row, "id", None)}


@router.get("/audit")
def audit_history(
    request: Request,
    user: Reader,
    entity: Annotated[str, Query(max_length=64)],
    key: Annotated[str, Query(max_length=128)],
) -> dict[str, Any]:
    """The audit trail of one record: who did what, when, with the content hashes.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: only records of patients of the user's site have a
        history shown; others answer as a record without entries).
    entity : str
        The record's table (``plan_versions``, ``patients`` ...).
    key : str
        The record's key (its id or pseudonym, as the audit log names it).

    Returns
    -------
    dict
        ``{entity, key, entries: [...]}`` oldest first.
    """
    with _read(request) as session:
        shown = sites.record_visible(session, entity, key, user.scope)
        entries = audit.history(session, entity, key) if shown else []
        return {"entity": entity, "key": key, "entries": [_entry(e) for e in entries]}


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity": entry.entity,
        "key": entry.entity_key,
        "before_sha256": entry.before_sha256,
        "after_sha256": entry.after_sha256,
        "detail": entry.detail,
    }


@router.get("/patients/{pseudonym}/export")
def export(request: Request, user: Reader, pseudonym: str) -> JSONResponse:
    """A patient's whole pathway as the JSON exchange bundle (the export is on record, by the
    user).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user : CurrentUser
        Any logged-in user (with sites: of the patient's site).
    pseudonym : str
        The patient.

    Returns
    -------
    fastapi.responses.JSONResponse
        The bundle, as ``opensirt registry export`` writes it, as an attachment.
    """
    with _write(request, user) as session:
        store.get_patient(session, pseudonym, scope=user.scope)
        bundle = export_bundle(session, pseudonym, software=__version__)  # on record
    return JSONResponse(
        json.loads(bundle.to_json()),
        headers={"Content-Disposition": f'attachment; filename="{pseudonym}.json"'},
    )
