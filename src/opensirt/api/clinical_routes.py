"""``opensirt assess`` and ``opensirt response`` over HTTP: quick, answered at once.

``POST /api/assess`` takes a case file (an upload, field ``case``, YAML) or the case as a JSON
body, and answers what ``opensirt assess --json`` prints: liver function scores, BCLC stage
and SIRT eligibility. A case whose plan needs its images is refused (422): the plan from
images is a background job (``POST /api/jobs/plan``). ``POST /api/response`` takes a lesion
measurement table (CSV upload, field ``table``) and answers what ``opensirt response --json``
prints; with ``record=true`` it also records the measurements and the responses in the
registry, by the session's user, as ``--record`` does.

Roles: assess is for physicists and physicians (eligibility is theirs to judge); response
for physicists, physicians and nurses (those who record clinical data; radiologists' tables
are entered by them), a viewer neither computes nor records. A case file larger than
:data:`~opensirt.planning.case_file.MAX_CASE_FILE_BYTES` or a table larger than
:data:`~opensirt.clinical.measurements.MAX_TABLE_BYTES` gets 413, as does any request above
the service's upload limit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from opensirt.api.errors import validation_errors
from opensirt.api.state import CLINICAL_ROLES, CurrentUser, require_role, service
from opensirt.clinical.assess import assess_case
from opensirt.clinical.measurements import MAX_TABLE_BYTES, group_patients, parse_measurements
from opensirt.clinical.response import ResponseOptions, assess_patient
from opensirt.errors import CaseFileError, InputError
from opensirt.fileio import decode_text, jsonable
from opensirt.planning.case import Case
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES, parse_case, parse_yaml
from opensirt.registry.recording import record_response
from opensirt.registry.store import get_patient
from opensirt.registry.vocabulary import UserRole
from opensirt.workflow.pretreatment import needs_images

router = APIRouter(prefix="/api", tags=["clinical"])

#: The request body of ``POST /api/assess`` in the schema: a case file or the case as JSON.
_ASSESS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"case": {"type": "string", "format": "binary"}},
                    "required": ["case"],
                }
            },
            "application/json": {
                "schema": {"type": "object", "description": "The case (opensirt_case: 1)."}
            },
        },
    }
}


class _FieldError(Exception):
    """Field-level problems of an input, answered as 422 ``[{field, message}]``."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


async def _read_limited(upload: StarletteUploadFile, limit: int, what: str) -> bytes:
    """The bytes of an upload; 413 when it is larger than ``limit`` bytes."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the {what} is larger than the limit of {limit} bytes")
    return data


async def _case_data(request: Request) -> tuple[Any, str]:
    """The parsed case of the request (an uploaded file or a JSON body) and its name."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = await request.body()
        if len(body) > MAX_CASE_FILE_BYTES:
            raise HTTPException(413, f"the case is larger than {MAX_CASE_FILE_BYTES} bytes")
        try:
            return await request.json(), "case (JSON body)"
        except ValueError:
            raise HTTPException(422, "the body is not valid JSON; send the case") from None
    if not kind.startswith("multipart/form-data"):
        raise HTTPException(
            415, "send the case file as multipart/form-data (field case) or the case as JSON"
        )
    form = await request.form(max_files=1, max_fields=0)
    upload = form.get("case")
    if not isinstance(upload, StarletteUploadFile):
        raise _FieldError([{"field": "case", "message": "the case file is missing; upload it"}])
    name = upload.filename or "case.yaml"
    data = await _read_limited(upload, MAX_CASE_FILE_BYTES, "case file")
    return parse_yaml(decode_text(data, source=name, what="case file"), name), name


def _case(data: Any, source: str) -> Case:
    """The validated case; :class:`_FieldError` naming each key that is wrong."""
    try:
        return parse_case(data, source=source)
    except CaseFileError:
        if not isinstance(data, dict):
            raise
        try:  # again, for the problems one by one (parse_case joins them in one message)
            Case.model_validate(data, context={"base_dir": None, "measured": False})
        except ValidationError as exc:
            raise _FieldError(validation_errors(exc)) from None
        raise


def _assessment(data: Any, source: str) -> Any:
    case = _case(data, source)
    if needs_images(case):
        raise InputError(
            f"{source}: the plan of this case needs its images (method voxel, a volume, T/N "
            "ratio or lung shunt not in the case file); plan it from the images with POST "
            "/api/jobs/plan, or give those values in the case file"
        )
    result = assess_case(case)
    return jsonable({"patient_id": case.patient.id, **result.to_dict(), "saved_plan": None})


@router.post("/assess", openapi_extra=_ASSESS_BODY)
async def assess(
    request: Request,
    _user: Annotated[CurrentUser, Depends(require_role(UserRole.PHYSICIST, UserRole.PHYSICIAN))],
) -> Any:
    """Liver function scores, BCLC stage and SIRT eligibility of a case (``opensirt assess``).

    Parameters
    ----------
    request : fastapi.Request
        The request: the case file as multipart ``case``, or the case as a JSON body.
    _user : CurrentUser
        A physicist or a physician.

    Returns
    -------
    Any
        The JSON of ``opensirt assess --json``; 422 with ``[{field, message}]`` for keys of
        the case that are wrong, 422 with a message for a case that cannot be read or needs
        its images, 413 for a case file above the limit.
    """
    try:
        data, source = await _case_data(request)
        return await run_in_threadpool(_assessment, data, source)
    except _FieldError as exc:
        return JSONResponse({"detail": exc.problems}, status_code=422)


@router.post("/response")
def response(
    request: Request,
    table: UploadFile,
    user: Annotated[CurrentUser, Depends(require_role(*CLINICAL_ROLES))],
    confirm: Annotated[bool, Form()] = False,
    confirmation_days: Annotated[int, Form(ge=1)] = 28,
    sd_min_days: Annotated[int, Form(ge=0)] = 42,
    record: Annotated[bool, Form()] = False,
) -> Any:
    """Tumour response per time point and best overall response (``opensirt response``).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    table : fastapi.UploadFile
        The lesion measurement table (CSV, as ``opensirt response`` reads it).
    user : CurrentUser
        A physicist, physician or nurse; with ``record`` the recording is theirs.
    confirm : bool, optional
        Count CR and PR for the best response only when confirmed (``--confirm``).
    confirmation_days : int, optional
        Smallest interval of a confirmation (days, >= 1; default 28).
    sd_min_days : int, optional
        Smallest interval from baseline for SD (days, >= 0; default 42).
    record : bool, optional
        Also record every measurement and the response per date and criterion in the
        registry (``--record``); the patients must be in it (with sites: of the user's site,
        another site's patient is answered as unknown, 404).

    Returns
    -------
    Any
        ``{patients, warnings, recorded}``: ``patients`` is the JSON list of ``opensirt
        response --json``, ``warnings`` the table's (columns not used), ``recorded`` the
        counts written (``null`` without ``record``). 422 for a table that breaks the
        table contract (the message names the row and column), 413 above the size limit.
    """
    name = table.filename or "measurements.csv"
    data = table.file.read(MAX_TABLE_BYTES + 1)
    if len(data) > MAX_TABLE_BYTES:
        raise HTTPException(413, f"the table is larger than the limit of {MAX_TABLE_BYTES} bytes")
    rows, warnings = parse_measurements(
        decode_text(data, source=name, what="measurement table"), source=name
    )
    options = ResponseOptions(confirm, confirmation_days, sd_min_days)
    patients = [assess_patient(s, options) for s in group_patients(rows, source=name)]
    recorded = None
    if record:
        with service(request).registry.transaction(actor=user.user_name) as session:
            for pseudonym in sorted({p.patient_id for p in patients}):  # of the user's site
                get_patient(session, pseudonym, scope=user.scope)
            recorded = dict(record_response(session, rows, patients))
    return jsonable(
        {"patients": [p.as_dict() for p in patients], "warnings": warnings, "recorded": recorded}
    )
