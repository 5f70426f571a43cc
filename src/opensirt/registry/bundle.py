"""The registry's exchange format: one patient's whole pathway as one JSON bundle.

``opensirt registry export PATIENT`` writes a :class:`Bundle`; ``opensirt registry import
FILE ...`` reads bundles back through :mod:`opensirt.registry.writer`, the one path of every
write, so an imported patient obeys the same rules as one entered by hand. Export, import and
export again gives the same JSON (apart from ``exported_at``). The format is described field by
field in ``docs/registry_bundle.md``; ``docs/registry_bundle.schema.json`` is its JSON Schema,
generated from :class:`Bundle` (:func:`json_schema`).

Version policy: ``version`` is an integer that changes only when a reader of the old version
would misread a new bundle (a field removed, renamed or given another meaning or unit). A
bundle of a newer version is refused with the advice to upgrade; older versions are read for
as long as the changelog says.

Reading is defensive, since a bundle may come from anywhere: a bounded read
(:data:`MAX_BUNDLE_BYTES`, :func:`opensirt.fileio.read_text_file`), strict decoding, no
duplicate keys, no ``NaN`` or ``Infinity``, at most :data:`MAX_DEPTH` levels of nesting, no
unknown keys. Paths in a bundle (a plan's report and RTDOSE files) are stored as text and never
opened.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.fileio import read_text_file
from opensirt.registry import audit, store
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
    PlanVersion,
    QualityOfLife,
    ResponseAssessment,
    TreatmentSession,
    Verification,
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
    SignatureIn,
    VerificationIn,
    VerifiedStructureIn,
    WorkupIn,
)
from opensirt.registry.vocabulary import OutcomeKind
from opensirt.registry.writer import add_patient, write_record

#: The ``format`` of every bundle.
BUNDLE_FORMAT: Literal["opensirt-registry-bundle"] = "opensirt-registry-bundle"

#: The bundle version this software writes and the newest it reads.
BUNDLE_VERSION: Literal[1] = 1

#: Largest bundle file accepted (bytes): 64 MiB, room for a long pathway with its plan results.
MAX_BUNDLE_BYTES = 64 * 2**20

#: Deepest nesting of arrays and objects accepted (a bundle needs about 8).
MAX_DEPTH = 32

_UTC = dt.UTC


class Bundle(BaseModel):
    """One patient's pathway: the patient and every record, each list in date order.

    Every record is the input model of its kind (:mod:`opensirt.registry.records`), so a
    bundle carries exactly what ``opensirt registry add`` accepts; each names the bundle's
    patient. Units are in the field names (``_gbq``, ``_gy``, ``_mm``, ``_ng_ml``); dates are
    ISO 8601 (``2025-03-04``), times ISO 8601 with their UTC offset.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["opensirt-registry-bundle"] = BUNDLE_FORMAT
    version: Literal[1] = BUNDLE_VERSION
    exported_at: AwareDatetime
    software: str = Field(max_length=64, description="the OpenSIRT version that wrote it")
    deidentification: str | None = Field(
        default=None,
        max_length=400,
        description="how the bundle was de-identified (None: it was not)",
    )
    patient: PatientIn
    labs: tuple[LabsIn, ...] = ()
    findings: tuple[FindingsIn, ...] = ()
    quality_of_life: tuple[QualityOfLifeIn, ...] = ()
    imaging_studies: tuple[ImagingStudyIn, ...] = ()
    mdt_decisions: tuple[MdtDecisionIn, ...] = ()
    workups: tuple[WorkupIn, ...] = ()
    plan_versions: tuple[PlanVersionIn, ...] = ()
    sessions: tuple[SessionIn, ...] = ()
    monitoring: tuple[MonitoringIn, ...] = ()
    verifications: tuple[VerificationIn, ...] = ()
    adverse_events: tuple[AdverseEventIn, ...] = ()
    lesion_measurements: tuple[LesionMeasurementIn, ...] = ()
    responses: tuple[ResponseIn, ...] = ()
    outcomes: tuple[OutcomeIn, ...] = ()

    @model_validator(mode="after")
    def _one_patient(self) -> Bundle:
        for name, record in self.records():
            pseudonym = getattr(record, "patient")  # noqa: B009 (every record model has it)
            if pseudonym != self.patient.patient:
                raise ValueError(
                    f"{name} names patient {pseudonym!r}, but the bundle is of "
                    f"{self.patient.patient!r}; a bundle holds one patient's records only"
                )
        return self

    def records(self) -> Iterable[tuple[str, BaseModel]]:
        """Every record, in the order an import writes them.

        The order makes every link resolvable when it is written: plan versions before the
        sessions that deliver them, sessions before their monitoring, verifications and
        adverse events, and a death after everything else.

        Yields
        ------
        tuple of (str, pydantic.BaseModel)
            ``"list[index]"`` (for messages) and the record.
        """
        for name in _RECORD_LISTS:
            items: list[tuple[int, BaseModel]] = list(enumerate(getattr(self, name)))
            if name == "outcomes":
                items.sort(key=lambda item: _death_last(item[1]))
            for index, record in items:
                yield f"{name}[{index}]", record

    def to_json(self) -> str:
        """The bundle as JSON text (UTF-8 when encoded; two-space indented, newline-terminated).

        Returns
        -------
        str
            The JSON document.
        """
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


#: The record lists of a bundle, in import order.
_RECORD_LISTS = (
    "labs",
    "findings",
    "quality_of_life",
    "imaging_studies",
    "mdt_decisions",
    "workups",
    "plan_versions",
    "sessions",
    "monitoring",
    "verifications",
    "adverse_events",
    "lesion_measurements",
    "responses",
    "outcomes",
)


def _death_last(record: BaseModel) -> bool:
    return isinstance(record, OutcomeIn) and record.kind is OutcomeKind.DEATH


def json_schema() -> str:
    """The JSON Schema of a bundle (``docs/registry_bundle.schema.json``), as text.

    Returns
    -------
    str
        The schema (draft 2020-12), two-space indented, newline-terminated.
    """
    schema = Bundle.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://opensirt.org/schemas/registry-bundle-{BUNDLE_VERSION}.json"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


# --- export ---------------------------------------------------------------------------------

#: Each record list of a bundle: its table and its record model.
_TABLES: tuple[tuple[str, type[Base], type[BaseModel]], ...] = (
    ("labs", LabPanel, LabsIn),
    ("findings", ClinicalFindingsRecord, FindingsIn),
    ("quality_of_life", QualityOfLife, QualityOfLifeIn),
    ("imaging_studies", ImagingStudy, ImagingStudyIn),
    ("mdt_decisions", MdtDecision, MdtDecisionIn),
    ("workups", Workup, WorkupIn),
    ("sessions", TreatmentSession, SessionIn),
    ("monitoring", Monitoring, MonitoringIn),
    ("verifications", Verification, VerificationIn),
    ("adverse_events", AdverseEventRecord, AdverseEventIn),
    ("lesion_measurements", LesionMeasurement, LesionMeasurementIn),
    ("responses", ResponseAssessment, ResponseIn),
    ("outcomes", OutcomeEvent, OutcomeIn),
)


def _fields(row: Base, model: type[BaseModel], **links: Any) -> dict[str, Any]:
    """The record fields of a row: its columns of the same name, then the links given."""
    columns = row.__table__.columns
    data = {name: getattr(row, name) for name in model.model_fields if name in columns}
    data.update({name: value for name, value in links.items() if name in model.model_fields})
    return data


def export_bundle(
    session: Session, pseudonym: str, *, software: str, now: dt.datetime | None = None
) -> Bundle:
    """Read one patient's whole pathway into a bundle.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        An open writing transaction: the export is recorded in the audit log (action
        ``export``, with the SHA-256 of the bundle's JSON).
    pseudonym : str
        The patient's pseudonymised id.
    software : str
        The version of OpenSIRT that writes the bundle.
    now : datetime.datetime, optional
        The export time (default: now, UTC).

    Returns
    -------
    Bundle
        The patient and every record, each list in date order (ties in the order recorded).

    Raises
    ------
    InputError
        If the patient is not in the registry.
    """
    patient = store.get_patient(session, pseudonym)
    sessions = session.scalars(
        sa.select(TreatmentSession).where(TreatmentSession.patient_id == patient.id)
    )
    dated: dict[int | None, dt.date] = {row.id: row.date for row in sessions}
    plan_versions = session.execute(
        sa.select(PlanVersion.id, Plan.label, PlanVersion.version)
        .join(Plan)
        .where(Plan.patient_id == patient.id)
    ).all()
    labels: dict[int | None, str] = {row[0]: row[1] for row in plan_versions}
    numbers: dict[int | None, int] = {row[0]: row[2] for row in plan_versions}
    lists: dict[str, list[dict[str, Any]]] = {}
    for name, table, model in _TABLES:
        column: Any = table
        rows = session.scalars(
            sa.select(table).where(column.patient_id == patient.id).order_by(column.date, column.id)
        )
        lists[name] = [
            _fields(
                row,
                model,
                patient=patient.pseudonym,
                plan=labels.get(getattr(row, "plan_version_id", None)),
                plan_version=numbers.get(getattr(row, "plan_version_id", None)),
                session_date=dated.get(getattr(row, "session_id", None)),
                structures=[
                    _fields(s, VerifiedStructureIn)
                    for s in sorted(getattr(row, "structures", ()), key=lambda s: s.id)
                ],
            )
            for row in rows
        ]
    versions = session.scalars(
        sa.select(PlanVersion)
        .join(Plan)
        .where(Plan.patient_id == patient.id)
        .order_by(PlanVersion.date, Plan.label, PlanVersion.version)
    )
    lists["plan_versions"] = [
        _fields(
            v,
            PlanVersionIn,
            patient=patient.pseudonym,
            label=v.plan.label,
            signatures=[_fields(s, SignatureIn) for s in sorted(v.signatures, key=lambda s: s.id)],
        )
        for v in versions
    ]
    bundle = Bundle.model_validate(
        {
            "exported_at": now or dt.datetime.now(_UTC),
            "software": software,
            "patient": _fields(patient, PatientIn, patient=patient.pseudonym),
            **lists,
        }
    )
    audit.append(
        session,
        action=audit.AuditAction.EXPORT,
        entity="patients",
        key=pseudonym,
        detail={"bundle_sha256": hashlib.sha256(bundle.to_json().encode()).hexdigest()},
    )
    return bundle


# --- import ---------------------------------------------------------------------------------


def import_bundle(session: Session, bundle: Bundle) -> int:
    """Write a bundle's patient and records (inside the caller's transaction).

    The rows are recorded in the audit log as every write is, and the import itself as one
    entry (action ``import``, the patient's content hash, the number of records).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction; nothing is committed here.
    bundle : Bundle
        A validated bundle.

    Returns
    -------
    int
        How many records were written (the patient not counted).

    Raises
    ------
    InputError
        If the patient is in the registry already, or a record breaks a rule of the registry
        (a date before the diagnosis, a link to a missing session ...); the message names the
        record (``sessions[2]``).
    """
    pseudonym = bundle.patient.patient
    if session.scalar(sa.select(Patient.id).where(Patient.pseudonym == pseudonym)) is not None:
        raise InputError(
            f"patient {pseudonym!r} is in the registry already; a bundle brings a whole patient "
            "and never merges into an existing one. Import it into another registry, or export "
            "it with --deidentify (a new id)"
        )
    patient = add_patient(session, bundle.patient)
    count = 0
    for name, record in bundle.records():
        try:
            write_record(session, record, patient=patient)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None
        count += 1
    audit.append(
        session,
        action=audit.AuditAction.IMPORT,
        entity="patients",
        key=pseudonym,
        after=patient,
        detail={"records": count, "software": bundle.software},
    )
    return count


# --- reading a bundle file ------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"the key(s) {twice} appear twice in one object")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; give a finite number or null")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number (it reads as infinity)")
    return value


def _depth(data: Any) -> int:
    """The deepest nesting of arrays and objects in a parsed JSON value (iterative)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((item, level + 1) for item in value)
    return deepest


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the bundle)"


def validation_message(source: str, exc: ValidationError) -> str:
    """A readable account of a bundle's validation errors: field, value, problem, fix.

    Parameters
    ----------
    source : str
        The file (for the message).
    exc : pydantic.ValidationError
        The errors of :meth:`Bundle.model_validate`.

    Returns
    -------
    str
        One line per error (at most five), then how many more there are.
    """
    lines = []
    for error in exc.errors()[:5]:
        where = _where(tuple(error["loc"]))
        if error["type"] == "extra_forbidden":
            lines.append(
                f"{where}: unknown key (value {error['input']!r:.80}); remove it or correct its "
                "spelling (the fields and their units are in docs/registry_bundle.md)"
            )
        else:
            lines.append(f"{where} = {error['input']!r:.80}: {error['msg']}")
    more = exc.error_count() - len(lines)
    tail = f"\n  ... and {more} more" if more > 0 else ""
    return f"{source}: not a valid registry bundle:\n  " + "\n  ".join(lines) + tail


def parse_bundle(text: str, source: str) -> Bundle:
    """Check and validate the text of a bundle.

    Parameters
    ----------
    text : str
        The JSON document.
    source : str
        Where it came from (a file name), for the messages.

    Returns
    -------
    Bundle
        The validated bundle.

    Raises
    ------
    InputError
        If the text is not JSON, nests deeper than :data:`MAX_DEPTH`, has duplicate keys or
        ``NaN``, is not a bundle, is of a newer version, or a field is unknown or invalid.
    """
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_float=_finite,
        )
    except RecursionError:
        raise InputError(
            f"{source}: nests arrays or objects deeper than {MAX_DEPTH} levels; a registry "
            "bundle needs fewer. Check that this is a bundle written by `opensirt registry export`"
        ) from None
    except ValueError as exc:
        raise InputError(
            f"{source}: is not valid JSON ({exc}); check that this is a bundle written by "
            "`opensirt registry export`"
        ) from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(
            f"{source}: nests arrays or objects deeper than {MAX_DEPTH} levels; a registry "
            "bundle needs fewer. Check that this is a bundle written by `opensirt registry export`"
        )
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise InputError(
            f"{source}: format is {found!r}, expected {BUNDLE_FORMAT!r}; this is not an OpenSIRT "
            "registry bundle (write one with `opensirt registry export PATIENT`)"
        )
    version = data.get("version")
    if isinstance(version, bool):
        version = repr(version).lower()
    if isinstance(version, int) and version > BUNDLE_VERSION:
        raise InputError(
            f"{source}: bundle version {version} is newer than this OpenSIRT reads (up to "
            f"{BUNDLE_VERSION}); upgrade OpenSIRT to import it"
        )
    if version != BUNDLE_VERSION:
        raise InputError(
            f"{source}: version is {version!r}, expected the integer {BUNDLE_VERSION}; "
            "the bundle is damaged or was not written by OpenSIRT"
        )
    try:
        return Bundle.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_message(source, exc)) from None


def read_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Read and validate a bundle file.

    Parameters
    ----------
    path : str or path-like
        The JSON file (UTF-8; a byte-order mark, or UTF-16/32 with one, is accepted as by
        :func:`opensirt.fileio.read_text_file`), at most :data:`MAX_BUNDLE_BYTES`.

    Returns
    -------
    Bundle
        The validated bundle.

    Raises
    ------
    InputError
        If the file cannot be read, is too large or wrongly encoded, or is not a valid bundle
        (:func:`parse_bundle`).
    """
    text = read_text_file(path, what="registry bundle", max_bytes=MAX_BUNDLE_BYTES)
    return parse_bundle(text, str(Path(path)))
