"""Reading the files of ``opensirt registry add KIND FILE``: YAML lists and CSV tables.

A YAML file holds a list of records of one kind (or one record, a mapping); a CSV file holds
one record per row for the flat kinds (:data:`CSV_KINDS`), with a header naming the fields.
Every record is validated by its model in :mod:`opensirt.registry.records` before anything is
written; every problem of the file is reported at once, one line each, naming the file, the
record (YAML: its number from 1; CSV: its line), the field, the value and the fix.

The reading is bounded like a case file's (:mod:`opensirt.planning.case_file`): a regular file
of at most :data:`MAX_RECORD_FILE_BYTES`, no YAML aliases of mappings or lists (alias bombs),
bounded nesting and number of values.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from opensirt.clinical.measurements import MAX_TABLE_BYTES, parse_measurements, sniff_delimiter
from opensirt.errors import InputError
from opensirt.fileio import read_text_file
from opensirt.patient.inputs import Labs
from opensirt.planning.case_file import format_location, parse_yaml
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
    QualityOfLifeIn,
    ResponseIn,
    SessionIn,
    VerificationIn,
    WorkupIn,
)

#: Largest file read (bytes): about 10,000 records of a flat kind.
MAX_RECORD_FILE_BYTES = 4 * 2**20
#: Largest assessment JSON an MDT record may name (bytes); ``assess --json`` writes ~5 kB.
MAX_ASSESSMENT_BYTES = 2**20
#: Longest value quoted in a message (characters).
_VALUE_CHARS = 60
#: Most problems listed in one message; the rest are counted.
_MAX_PROBLEMS = 20


class Kind(StrEnum):
    """The kinds of record ``opensirt registry add`` reads."""

    PATIENT = "patient"
    LABS = "labs"
    FINDINGS = "findings"
    QOL = "qol"
    MDT = "mdt"
    IMAGING = "imaging"
    WORKUP = "workup"
    SESSION = "session"
    MONITORING = "monitoring"
    ADVERSE_EVENT = "adverse-event"
    OUTCOME = "outcome"
    MEASUREMENTS = "measurements"
    RESPONSE = "response"
    VERIFICATION = "verification"


#: The record model of each kind (measurements: one lesion on one date per row).
MODELS: dict[Kind, type[BaseModel]] = {
    Kind.PATIENT: PatientIn,
    Kind.LABS: LabsIn,
    Kind.FINDINGS: FindingsIn,
    Kind.QOL: QualityOfLifeIn,
    Kind.MDT: MdtDecisionIn,
    Kind.IMAGING: ImagingStudyIn,
    Kind.WORKUP: WorkupIn,
    Kind.SESSION: SessionIn,
    Kind.MONITORING: MonitoringIn,
    Kind.ADVERSE_EVENT: AdverseEventIn,
    Kind.OUTCOME: OutcomeIn,
    Kind.MEASUREMENTS: LesionMeasurementIn,
    Kind.RESPONSE: ResponseIn,
    Kind.VERIFICATION: VerificationIn,
}

#: Kinds whose records are flat (no nested mappings or lists) and may come as CSV tables; a
#: lab panel's columns are the ``labs`` keys beside ``patient``, ``date`` and the markers.
CSV_KINDS = frozenset(
    {
        Kind.PATIENT,
        Kind.LABS,
        Kind.QOL,
        Kind.IMAGING,
        Kind.ADVERSE_EVENT,
        Kind.OUTCOME,
        Kind.MEASUREMENTS,
        Kind.RESPONSE,
    }
)


@dataclass(frozen=True)
class RecordSource:
    """Where a record came from, for messages: the file and the record's place in it."""

    file: str
    place: str

    def __str__(self) -> str:
        """The file and place, as messages show them."""
        return f"{self.file}, {self.place}"


def describe_error(error: ErrorDetails) -> str:
    """One line for one pydantic error: the field, the value and what to do.

    Parameters
    ----------
    error : pydantic_core.ErrorDetails
        One item of ``ValidationError.errors()``.

    Returns
    -------
    str
        ``field is VALUE: what is wrong`` (``field: ...`` for a missing or unknown field).
    """
    loc = tuple(error["loc"])
    field = format_location(loc) or "(the record)"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{field}: unknown field. Fix: correct or remove it (see the format in the README)"
    if kind == "missing":
        return f"{field}: required field is missing. Fix: add it"
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        return message
    value = error.get("input")
    if isinstance(value, dict | list | tuple):
        return f"{field}: {message}"
    text = repr(value)
    if len(text) > _VALUE_CHARS:
        text = f"{text[:_VALUE_CHARS]}... ({len(text)} characters)"
    return f"{field} is {text}: {message}"


def _validate(
    model: type[BaseModel], data: Any, where: RecordSource, problems: list[str]
) -> BaseModel | None:
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a mapping of fields, found {type(data).__name__}")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{where}: {describe_error(e)}" for e in exc.errors(include_url=False))
        return None


def _with_assessment(data: Any, path: Path, place: str) -> Any:
    """An MDT record whose ``assessment`` names a file: that file's JSON in its place.

    The file is what ``opensirt assess CASE --json`` printed, its path relative to the
    record file's folder.
    """
    if not isinstance(data, dict) or not isinstance(data.get("assessment"), str):
        return data
    where = path.parent / data["assessment"]
    text = read_text_file(where, what="assessment JSON", max_bytes=MAX_ASSESSMENT_BYTES)
    try:
        snapshot = json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"{path}, {place}: assessment file {where} is not JSON ({exc}); write it with "
            "`opensirt assess CASE --json > FILE`"
        ) from None
    if not isinstance(snapshot, dict):
        raise InputError(
            f"{path}, {place}: assessment file {where} holds no JSON object; write it with "
            "`opensirt assess CASE --json > FILE`"
        )
    named = snapshot.get("patient_id")
    if named is not None and named != data.get("patient"):
        raise InputError(
            f"{path}, {place}: assessment file {where} is of patient {named!r}, the record of "
            f"{data.get('patient')!r}; name the assessment of this patient"
        )
    return {**data, "assessment": snapshot}


def _place(place: str, data: Any) -> str:
    """The record's place, with its patient when it names one."""
    patient = data.get("patient") if isinstance(data, dict) else None
    return f"{place} (patient {patient})" if isinstance(patient, str) else place


def _raise_problems(source: str, kind: Kind, problems: list[str]) -> None:
    shown = problems[:_MAX_PROBLEMS]
    more = len(problems) - len(shown)
    tail = f"\n  ... and {more} more" if more else ""
    raise InputError(
        f"{source}: {len(problems)} problem(s) in the {kind.value} records; nothing was added:\n  "
        + "\n  ".join(shown)
        + tail
    )


def _yaml_records(text: str, source: str) -> list[Any]:
    data = parse_yaml(text, source)
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and data:
        return data
    raise InputError(
        f"{source}: expected a list of records (each a mapping of fields) or one mapping, "
        f"found {'an empty list' if data == [] else type(data).__name__}"
    )


def _csv_cell(column: str, text: str, kind: Kind) -> Any:
    """A cell's value: the text, or a number for the strictly numeric lab columns."""
    if kind is Kind.LABS and column in Labs.model_fields:
        try:
            return float(text)
        except ValueError:
            return text  # the model names it
    return text


def _csv_records(text: str, source: str, kind: Kind) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = reader.fieldnames or []
    if not header:
        raise InputError(f"{source}: no header row; the first line names the fields")
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise InputError(f"{source}: column(s) {duplicates} given twice in the header")
    rows = []
    for row in reader:
        if None in row:
            raise InputError(
                f"{source}, line {reader.line_num}: more cells than the header has columns; "
                "quote cells that hold the separator"
            )
        cells = {k.strip(): v.strip() for k, v in row.items() if v is not None and v.strip()}
        if not cells:
            continue
        data: dict[str, Any] = {}
        labs: dict[str, Any] = {}
        for column, value in cells.items():
            if kind is Kind.LABS and column in Labs.model_fields:
                labs[column] = _csv_cell(column, value, kind)
            else:
                data[column] = value
        if labs:
            data["labs"] = labs
        rows.append((f"line {reader.line_num}", data))
    if not rows:
        raise InputError(f"{source}: no records below the header")
    return rows


def _measurement_records(text: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    """The lesion rows of a measurements.csv table, checked as ``opensirt response`` does."""
    rows, _warnings = parse_measurements(text, source=source)
    return [
        (
            f"row {m.row}",
            {
                "patient": m.patient_id,
                "date": m.date,
                "lesion_id": m.lesion_id,
                "role": m.role,
                "organ": m.organ,
                "is_node": m.is_node,
                "longest_diameter_mm": m.longest_diameter_mm,
                "short_axis_mm": m.short_axis_mm,
                "viable_diameter_mm": m.viable_diameter_mm,
                "enhancing_area_mm2": m.enhancing_area_mm2,
                "status": m.status,
            },
        )
        for m in rows
    ]


def read_record_file(path: str | Path, kind: Kind | str) -> list[tuple[RecordSource, BaseModel]]:
    """Read and validate every record of a file of one kind.

    Parameters
    ----------
    path : str or Path
        A YAML file (``.yaml``/``.yml``: a list of mappings, or one mapping) or, for the kinds
        of :data:`CSV_KINDS`, a CSV file (``.csv``: comma, semicolon or tab separated, one
        record per row, empty cells not given). ``measurements`` is the lesion table of
        ``opensirt response`` (``patient_id`` names the patient). An ``mdt`` record's
        ``assessment`` may be a mapping, or the name of a JSON file written by
        ``opensirt assess CASE --json`` (relative to the record file's folder).
    kind : Kind or str
        The kind of every record of the file.

    Returns
    -------
    list of (RecordSource, pydantic.BaseModel)
        Each validated record (:data:`MODELS`) with its place in the file, in file order.

    Raises
    ------
    InputError
        If the file cannot be read or is too large, the kind is unknown or does not come as
        CSV, or any record is invalid: all problems in one message, one line each naming the
        record, the field, the value and the fix.
    """
    path = Path(path)
    try:
        kind = Kind(kind)
    except ValueError:
        raise InputError(
            f"unknown kind {kind!r}; expected one of {', '.join(k.value for k in Kind)}"
        ) from None
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".csv"):
        raise InputError(
            f"{source}: unknown file type {suffix or '(none)'!r}; give a .yaml, .yml or .csv file"
        )
    if suffix == ".csv" and kind not in CSV_KINDS:
        raise InputError(
            f"{source}: {kind.value} records have nested fields and come as YAML, not CSV; "
            f"CSV is read for {', '.join(sorted(k.value for k in CSV_KINDS))}"
        )
    if kind is Kind.MEASUREMENTS and suffix != ".csv":
        raise InputError(f"{source}: measurements come as the CSV table of `opensirt response`")
    limit = MAX_TABLE_BYTES if kind is Kind.MEASUREMENTS else MAX_RECORD_FILE_BYTES
    text = read_text_file(path, what=f"{kind.value} file", max_bytes=limit)
    model = MODELS[kind]
    if kind is Kind.MEASUREMENTS:
        placed = _measurement_records(text, source)
    elif suffix == ".csv":
        placed = _csv_records(text, source, kind)
    else:
        placed = [(f"record {i}", r) for i, r in enumerate(_yaml_records(text, source), 1)]
    problems: list[str] = []
    if kind is Kind.MDT:
        placed = [(place, _with_assessment(data, path, place)) for place, data in placed]
    records = []
    for place, data in placed:
        where = RecordSource(source, _place(place, data))
        record = _validate(model, data, where, problems)
        if record is not None:
            records.append((where, record))
    if problems:
        _raise_problems(source, kind, problems)
    return records
