"""The lesion measurement table (``measurements.csv``): reading, checking and lesion tracking.

One row per lesion per imaging date, with the columns of :data:`COLUMNS` (the contract of the
table; see the README). Empty cells mean "not measured". The first date of a patient is the
baseline. Every error names the row (the line number in the file, the header being line 1),
the column, the value received and what was expected.

Lesion tracking rules checked here:

* a lesion keeps its role and its ``is_node`` across dates;
* a lesion first seen after the baseline must have role ``new``; ``new`` is never at baseline;
* each patient has at least one target lesion, at most 5 in all and 2 per organ
  (RECIST 1.1, Eisenhauer et al. 2009, doi:10.1016/j.ejca.2008.10.026);
* each target lesion has its RECIST 1.1 measurement at baseline (longest diameter, or short
  axis for a node).

Each row is checked on its own too: numbers are plain decimals (``5_2`` or ``0x1f`` are not
read as 52 or 31), lengths at most :data:`MAX_DIAMETER_MM` (500 mm, more than any abdomen;
areas at most its square), the viable (enhancing) diameter at most the longest diameter, and
a lesion marked ``absent`` has no size (a node may keep a normal short axis below 10 mm).
The file is read with bounds (:func:`opensirt.fileio.read_text_file`: a regular file of at
most 10 MiB, UTF-8 or UTF-16 with a byte-order mark, no NUL), names and cells are bounded,
and a column given twice is refused.

The cells are separated by commas, semicolons or tabs: the separator is sniffed from the
header line (:class:`csv.Sniffer` restricted to :data:`DELIMITERS`), so a table saved by a
spreadsheet set to a European locale (``;``) reads as it is. In a table separated by
semicolons or tabs a number may use a decimal comma (``12,5`` is 12.5 mm), as those
spreadsheets write it; one table uses one decimal mark (a table with both ``12,5`` and
``12.5`` is refused, naming both rows), and thousands separators are never read. In a
comma-separated table the decimal mark is the point.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from opensirt.errors import InputError
from opensirt.fileio import read_text_file

COLUMNS: tuple[str, ...] = (
    "patient_id",
    "lesion_id",
    "date",
    "role",
    "organ",
    "is_node",
    "longest_diameter_mm",
    "short_axis_mm",
    "viable_diameter_mm",
    "enhancing_area_mm2",
    "status",
)
_NUMERIC = ("longest_diameter_mm", "short_axis_mm", "viable_diameter_mm", "enhancing_area_mm2")
_E = TypeVar("_E", bound=StrEnum)
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}

# RECIST 1.1 target lesion limits (Eisenhauer et al. 2009, section 3.3).
MAX_TARGET_LESIONS = 5
MAX_TARGET_LESIONS_PER_ORGAN = 2
MIN_MEASURABLE_DIAMETER_MM = 10.0
MIN_MEASURABLE_NODE_SHORT_AXIS_MM = 15.0
#: A node with a short axis below 10 mm is normal (RECIST 1.1, section 4.3.1).
NORMAL_NODE_SHORT_AXIS_MM = 10.0
#: Longest length accepted (mm): wider than any abdomen, so a larger value is a unit slip.
MAX_DIAMETER_MM = 500.0
#: Largest table read (bytes); 100,000 rows take about 8 MiB.
MAX_TABLE_BYTES = 10 * 2**20
#: Longest cell (characters); ids and organ names are short codes.
MAX_CELL_CHARS = 64
#: The cell separators that are sniffed from the header line: comma, semicolon, tab.
DELIMITERS = ",;\t"
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


class Role(StrEnum):
    """Role of a lesion in the assessment."""

    TARGET = "target"
    NON_TARGET = "non-target"
    NEW = "new"


class LesionStatus(StrEnum):
    """Status of a lesion at one date (``unequivocal-progression``: non-target lesions only)."""

    PRESENT = "present"
    ABSENT = "absent"
    UNEQUIVOCAL_PROGRESSION = "unequivocal-progression"


@dataclass(frozen=True)
class Measurement:
    """One row of the table; lengths in mm, areas in mm2, ``None`` when not measured."""

    row: int
    patient_id: str
    lesion_id: str
    date: date
    role: Role
    organ: str
    is_node: bool
    longest_diameter_mm: float | None
    short_axis_mm: float | None
    viable_diameter_mm: float | None
    enhancing_area_mm2: float | None
    status: LesionStatus


@dataclass(frozen=True)
class PatientSeries:
    """The checked measurements of one patient: baseline date, follow-up dates, rows by date."""

    patient_id: str
    baseline: date
    followups: tuple[date, ...]
    rows: dict[date, dict[str, Measurement]]
    roles: dict[str, Role]
    warnings: tuple[str, ...]

    def lesions(self, role: Role) -> tuple[str, ...]:
        """Lesion ids of ``role``, in order of first appearance.

        Parameters
        ----------
        role : Role
            Target, non-target or new.

        Returns
        -------
        tuple[str, ...]
            The ``lesion_id`` of each lesion with that role, each once.
        """
        return tuple(lesion for lesion, r in self.roles.items() if r is role)


def _err(source: str, row: int, column: str, value: str, expected: str) -> InputError:
    return InputError(f"{source}: row {row}: {column} is {value!r}, expected {expected}")


def _number(
    source: str, row: int, column: str, text: str, decimal_comma: bool = False
) -> float | None:
    if text == "":
        return None
    unit = "mm2" if column.endswith("mm2") else "mm"
    plain = text.replace(",", ".", 1) if decimal_comma and "." not in text else text
    if not _DECIMAL.fullmatch(plain):
        like = "52, 52.5 or 52,5" if decimal_comma else "52 or 52.5"
        raise _err(source, row, column, text, f"a decimal number of {unit} (like {like}) or empty")
    value = float(plain)
    top = MAX_DIAMETER_MM**2 if unit == "mm2" else MAX_DIAMETER_MM
    if not math.isfinite(value) or value < 0:
        raise _err(source, row, column, text, f"a number >= 0 {unit} (0 when nothing is seen)")
    if value > top:
        raise _err(source, row, column, text, f"at most {top:g} {unit}; was it given in um?")
    return value


def _choice(source: str, row: int, column: str, text: str, enum: type[_E]) -> _E:
    try:
        return enum(text.lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise _err(source, row, column, text, f"one of {allowed}") from None


def _bool(source: str, row: int, column: str, text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise _err(source, row, column, text, "true or false")


def _date(source: str, row: int, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _err(source, row, "date", text, "an ISO 8601 date YYYY-MM-DD") from None


def _required(source: str, row: int, column: str, text: str) -> str:
    if not text:
        raise _err(source, row, column, text, "a value (this column may not be empty)")
    return text


def _status(source: str, row: int, role: Role, text: str) -> LesionStatus:
    if text == "":
        if role is Role.NON_TARGET:
            raise _err(source, row, "status", text, "present, absent or unequivocal-progression")
        return LesionStatus.PRESENT
    status = _choice(source, row, "status", text, LesionStatus)
    if status is LesionStatus.UNEQUIVOCAL_PROGRESSION and role is not Role.NON_TARGET:
        raise _err(source, row, "status", text, "present or absent for a target or new lesion")
    return status


def _check_sizes(source: str, m: Measurement) -> Measurement:
    """The viable diameter fits in the longest; an absent lesion has no size."""
    longest, viable = m.longest_diameter_mm, m.viable_diameter_mm
    if longest is not None and viable is not None and viable > longest:
        raise _err(
            source, m.row, "viable_diameter_mm", f"{viable:g}",
            f"at most the longest_diameter_mm {longest:g} (the viable part lies within it)",
        )  # fmt: skip
    if m.status is not LesionStatus.ABSENT:
        return m
    sizes = {
        "longest_diameter_mm": longest,
        "viable_diameter_mm": viable,
        "enhancing_area_mm2": m.enhancing_area_mm2,
        "short_axis_mm": None if m.is_node else m.short_axis_mm,
    }
    for column, value in sizes.items():
        if value:
            raise _err(
                source, m.row, column, f"{value:g}",
                "0 or an empty cell for a lesion whose status is 'absent' (or set the status "
                "to present)",
            )  # fmt: skip
    if m.is_node and m.short_axis_mm is not None and m.short_axis_mm >= NORMAL_NODE_SHORT_AXIS_MM:
        raise _err(
            source, m.row, "short_axis_mm", f"{m.short_axis_mm:g}",
            f"below {NORMAL_NODE_SHORT_AXIS_MM:g} mm for an 'absent' (normal) node (RECIST 1.1)",
        )  # fmt: skip
    return m


def _parse_row(
    source: str, row: int, cells: dict[str, str], decimal_comma: bool = False
) -> Measurement:
    for column in COLUMNS:
        text = cells[column]
        if len(text) > MAX_CELL_CHARS:
            raise _err(
                source, row, column, f"{text[:20]}... ({len(text)} characters)",
                f"at most {MAX_CELL_CHARS} characters",
            )  # fmt: skip
    role = _choice(source, row, "role", _required(source, row, "role", cells["role"]), Role)
    return _check_sizes(
        source,
        Measurement(
            row=row,
            patient_id=_required(source, row, "patient_id", cells["patient_id"]),
            lesion_id=_required(source, row, "lesion_id", cells["lesion_id"]),
            date=_date(source, row, cells["date"]),
            role=role,
            organ=cells["organ"].lower(),
            is_node=_bool(source, row, "is_node", cells["is_node"]),
            **{
                column: _number(source, row, column, cells[column], decimal_comma)
                for column in _NUMERIC
            },
            status=_status(source, row, role, cells["status"]),
        ),
    )


def parse_measurements(
    text: str, *, source: str = "measurements"
) -> tuple[list[Measurement], list[str]]:
    """Parse the CSV text; return the rows and warnings (columns that are not used).

    Each row is checked on its own (see the module's description); lesion tracking across
    rows is checked by :func:`group_patients`.

    Parameters
    ----------
    text : str
        The whole table: a header with the columns of :data:`COLUMNS` (in any order), then
        one row per lesion per date; cells separated by commas, semicolons or tabs; lengths
        in mm, areas in mm2, dates as ISO 8601 (``2026-01-10``).
    source : str, optional
        The table's name for the messages, usually its path (default ``"measurements"``).

    Returns
    -------
    tuple[list[Measurement], list[str]]
        The rows in file order (blank rows skipped), and a warning for each column that is
        not used.

    Raises
    ------
    InputError
        Naming the row, column, value and what was expected: a NUL character, a column
        missing or given twice, a cell that is not valid (number, date, role, status), sizes
        that contradict each other, two decimal marks, no rows.

    Examples
    --------

    >>> rows, _ = parse_measurements(
    ...     "patient_id,lesion_id,date,role,organ,is_node,longest_diameter_mm,short_axis_mm,"
    ...     "viable_diameter_mm,enhancing_area_mm2,status\\n"
    ...     "P1,L1,2026-01-10,target,liver,false,52,,48,1800,present\\n")
    >>> rows[0].longest_diameter_mm, rows[0].date.isoformat()
    (52.0, '2026-01-10')
    """
    if "\x00" in text:
        raise InputError(f"{source}: holds a NUL character (binary data); expected CSV text")
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(text)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        return _parse(reader, source, decimal_comma=delimiter != ",")
    except csv.Error as exc:
        raise InputError(
            f"{source}: line {reader.line_num + 1}: not valid CSV ({exc}); expected one row per "
            f"lesion per date, cells of at most {MAX_CELL_CHARS} characters"
        ) from None


def sniff_delimiter(text: str) -> str:
    """The cell separator of the table: comma, semicolon or tab, sniffed from its header.

    A header with one column or none has no separator to sniff: comma is assumed, and the
    header check then names the missing columns.

    Parameters
    ----------
    text : str
        The table's text; only its first line (the header) is read.

    Returns
    -------
    str
        ``","``, ``";"`` or ``"\\t"``.

    Examples
    --------

    >>> sniff_delimiter("patient_id;lesion_id;date\\nP1;L1;2026-01-10\\n")
    ';'
    """
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _decimal_marks(cells: dict[str, str]) -> set[str]:
    """The decimal marks (``.`` or ``,``) that the numeric cells of a row use."""
    return {mark for column in _NUMERIC for mark in ".," if mark in cells[column]}


def _parse(
    reader: csv.DictReader[str], source: str, *, decimal_comma: bool = False
) -> tuple[list[Measurement], list[str]]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(
            f"{source}: the header names column {twice[0]!r} twice; expected each column once "
            "(the second copy would silently replace the first)"
        )
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"{source}: the header lacks column {missing[0]!r}; expected the columns "
            f"{', '.join(COLUMNS)}, separated by commas, semicolons or tabs (this header "
            f"was read as separated by {_DELIMITER_NAMES[reader.reader.dialect.delimiter]}s)"
        )
    warnings = [f"{source}: column {c!r} is not used" for c in header if c not in COLUMNS]
    rows = []
    first_row: dict[str, int] = {}  # the first row that uses each decimal mark
    for number, raw in enumerate(reader, start=2):
        if raw.get(None):
            raise InputError(f"{source}: row {number} has more cells than the header")
        cells = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        rows.append(_parse_row(source, number, cells, decimal_comma))
        if decimal_comma:
            for mark in _decimal_marks(cells):
                first_row.setdefault(mark, number)
            if len(first_row) > 1:
                raise InputError(
                    f"{source}: row {first_row[',']} writes a decimal comma (like 12,5) but "
                    f"row {first_row['.']} a decimal point (like 12.5); expected one decimal "
                    "mark in the whole table (thousands separators are not read)"
                )
    if not rows:
        raise InputError(f"{source}: no measurement rows; expected one row per lesion per date")
    return rows, warnings


def read_measurements(path: str | Path) -> tuple[list[Measurement], list[str]]:
    """Read a measurement table from a CSV file (UTF-8).

    Parameters
    ----------
    path : str | Path
        The CSV file: UTF-8 (or UTF-16/UTF-32 with a byte-order mark), at most
        :data:`MAX_TABLE_BYTES`; see :func:`parse_measurements` for its content.

    Returns
    -------
    tuple[list[Measurement], list[str]]
        The rows in file order and the warnings (columns not used), as
        :func:`parse_measurements`.

    Raises
    ------
    InputError
        If the file cannot be read (missing, not a regular file, too large, not UTF-8 or
        UTF-16 text) or its content is not a valid table.
    """
    path = Path(path)
    text = read_text_file(path, what="measurement table", max_bytes=MAX_TABLE_BYTES)
    return parse_measurements(text, source=str(path))


def group_patients(rows: list[Measurement], *, source: str = "measurements") -> list[PatientSeries]:
    """Group rows by patient (in order of first appearance) and check lesion tracking.

    Parameters
    ----------
    rows : list[Measurement]
        The parsed rows (:func:`parse_measurements`), of one or more patients.
    source : str, optional
        The table's name for the messages (default ``"measurements"``).

    Returns
    -------
    list[PatientSeries]
        One series per patient: baseline date (the patient's first date), follow-up dates
        and rows by date, with a warning for each target lesion below the measurable size.

    Raises
    ------
    InputError
        If lesion tracking is broken: a lesion changes role or ``is_node``, a lesion first
        seen after baseline is not ``new`` (or ``new`` at baseline), the target lesions
        break the RECIST 1.1 limits or a target lacks its baseline measurement.
    """
    by_patient: dict[str, list[Measurement]] = defaultdict(list)
    for m in rows:
        by_patient[m.patient_id].append(m)
    return [_series(pid, ms, source) for pid, ms in by_patient.items()]


def _series(patient_id: str, rows: list[Measurement], source: str) -> PatientSeries:
    by_date: dict[date, dict[str, Measurement]] = defaultdict(dict)
    for m in rows:
        if m.lesion_id in by_date[m.date]:
            first = by_date[m.date][m.lesion_id].row
            raise InputError(
                f"{source}: row {m.row}: lesion {m.lesion_id!r} of patient {patient_id!r} on "
                f"{m.date} is already in row {first}; expected one row per lesion per date"
            )
        by_date[m.date][m.lesion_id] = m
    baseline = min(by_date)
    roles = _track_roles(patient_id, baseline, by_date, source)
    warnings = _check_targets(patient_id, by_date[baseline], source)
    followups = tuple(sorted(d for d in by_date if d != baseline))
    return PatientSeries(patient_id, baseline, followups, dict(by_date), roles, tuple(warnings))


def _track_roles(
    patient_id: str, baseline: date, by_date: dict[date, dict[str, Measurement]], source: str
) -> dict[str, Role]:
    first: dict[str, Measurement] = {}
    for day in sorted(by_date):
        for lesion, m in by_date[day].items():
            where = f"{source}: row {m.row}: lesion {lesion!r} of patient {patient_id!r}"
            if lesion not in first:
                _check_first_seen(m, day, baseline, where)
                first[lesion] = m
                continue
            ref = first[lesion]
            if m.role is not ref.role or m.is_node != ref.is_node:
                raise InputError(
                    f"{where} is role {m.role.value!r}, is_node {str(m.is_node).lower()}, but "
                    f"row {ref.row} says role {ref.role.value!r}, is_node "
                    f"{str(ref.is_node).lower()}; a lesion keeps its role and node status"
                )
    return {lesion: m.role for lesion, m in first.items()}


def _check_first_seen(m: Measurement, day: date, baseline: date, where: str) -> None:
    if day == baseline and m.role is Role.NEW:
        raise InputError(
            f"{where} has role 'new' at the baseline {baseline}; expected 'target' or "
            "'non-target' (a new lesion can only appear after the baseline)"
        )
    if day != baseline and m.role is not Role.NEW:
        raise InputError(
            f"{where} first appears on {day}, after the baseline {baseline}, with role "
            f"{m.role.value!r}; expected role 'new', or add its baseline row (missing baseline)"
        )


def _baseline_value(m: Measurement) -> float | None:
    return m.short_axis_mm if m.is_node else m.longest_diameter_mm


def _check_targets(patient_id: str, baseline: dict[str, Measurement], source: str) -> list[str]:
    targets = [m for m in baseline.values() if m.role is Role.TARGET]
    who = f"{source}: patient {patient_id!r}"
    if not targets:
        raise InputError(f"{who} has no target lesion at baseline; expected 1 to 5")
    if len(targets) > MAX_TARGET_LESIONS:
        raise InputError(
            f"{who} has {len(targets)} target lesions at baseline; expected at most "
            f"{MAX_TARGET_LESIONS} (RECIST 1.1): make the others non-target"
        )
    per_organ: dict[str, list[Measurement]] = defaultdict(list)
    for m in targets:
        per_organ[m.organ].append(m)
    for organ, ms in per_organ.items():
        if len(ms) > MAX_TARGET_LESIONS_PER_ORGAN:
            raise InputError(
                f"{who} has {len(ms)} target lesions in organ {organ!r} (rows "
                f"{', '.join(str(m.row) for m in ms)}); expected at most "
                f"{MAX_TARGET_LESIONS_PER_ORGAN} per organ (RECIST 1.1)"
            )
    return [w for m in targets if (w := _measurability(m, who))]


def _measurability(m: Measurement, who: str) -> str:
    value = _baseline_value(m)
    column = "short_axis_mm" if m.is_node else "longest_diameter_mm"
    if value is None:
        raise InputError(
            f"{who}: row {m.row}: target lesion {m.lesion_id!r} has no {column} at baseline "
            "(missing baseline); expected the RECIST 1.1 measurement in mm"
        )
    limit = MIN_MEASURABLE_NODE_SHORT_AXIS_MM if m.is_node else MIN_MEASURABLE_DIAMETER_MM
    if value < limit:
        return (
            f"row {m.row}: target lesion {m.lesion_id!r} {column} {value:g} mm at baseline is "
            f"below the RECIST 1.1 measurable size {limit:g} mm"
        )
    return ""
