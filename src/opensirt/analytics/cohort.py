"""The cohort table (``cohort.csv``, format version 1): read, check, write.

One row per treated patient; the columns are those of the cohort-table contract
(``docs/cohort_table.md``): ``patient_id``, ``os_months`` and ``death`` are required, the
others optional; extra columns are kept and may be used as covariates by name. Times are
months of 30.4375 days (365.25 / 12). Empty cells are missing values.

Reading is strict: a table that breaks the contract is refused with an :class:`InputError`
that names the file, the line (the header is line 1) and the column, the value and the fix.

>>> import pandas as pd
>>> rows = pd.DataFrame({"patient_id": ["A", "B"], "os_months": ["3.5", "12"],
...                      "death": ["1", "0"]})
>>> cohort = check_cohort(rows, source="example")
>>> cohort.n, cohort.frame["death"].tolist()
(2, [1, 0])
>>> check_cohort(rows.assign(death=["1", "2"]), source="example")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
opensirt.errors.InputError: example: line 3, column death: '2' is not a flag, ...
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
import pandas as pd

from opensirt.errors import InputError
from opensirt.fileio import read_text_file, write_atomically

#: Days per month of the cohort table's times (365.25 / 12).
DAYS_PER_MONTH = 30.4375

#: Largest cohort file read (bytes): a million patients fit easily.
MAX_COHORT_BYTES = 512 * 2**20

#: The version of the cohort-table contract this module reads and writes.
FORMAT_VERSION = 1


class ColumnKind(StrEnum):
    """How a column of the cohort table is read."""

    TEXT = "text"
    TIME = "time"  # months >= 0
    FLAG = "flag"  # 0 or 1
    CODE = "code"  # one of a closed set
    DOSE = "dose"  # Gy >= 0
    GRADE = "grade"  # 0-5


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the cohort table.

    Parameters
    ----------
    name : str
        The column heading.
    kind : ColumnKind
        How its cells are read and checked.
    required : bool
        Whether the column and every cell of it must be present.
    codes : tuple of str
        The accepted values of a :attr:`ColumnKind.CODE` column (compared case-insensitively,
        stored as written here).
    """

    name: str
    kind: ColumnKind
    required: bool = False
    codes: tuple[str, ...] = ()


#: The response categories of RECIST 1.1 (Eisenhauer et al. 2009, doi:10.1016/j.ejca.2008.10.026),
#: also used by mRECIST and EASL.
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
#: The response criteria codes (as :class:`opensirt.registry.vocabulary.ResponseCriteria`).
CRITERIA = ("recist1.1", "mrecist", "easl")
#: The diagnosis codes (as :class:`opensirt.registry.vocabulary.Diagnosis`).
DIAGNOSES = ("hcc", "icc", "crc", "net", "breast", "other")

#: The columns of the contract, in the order they are written.
COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("patient_id", ColumnKind.TEXT, required=True),
    ColumnSpec("group", ColumnKind.TEXT),
    ColumnSpec("diagnosis", ColumnKind.CODE, codes=DIAGNOSES),
    ColumnSpec("os_months", ColumnKind.TIME, required=True),
    ColumnSpec("death", ColumnKind.FLAG, required=True),
    ColumnSpec("pfs_months", ColumnKind.TIME),
    ColumnSpec("progression", ColumnKind.FLAG),
    ColumnSpec("best_response", ColumnKind.CODE, codes=RESPONSES),
    ColumnSpec("response_criteria", ColumnKind.CODE, codes=CRITERIA),
    ColumnSpec("tumour_dose_gy", ColumnKind.DOSE),
    ColumnSpec("normal_liver_dose_gy", ColumnKind.DOSE),
    ColumnSpec("liver_toxicity_grade", ColumnKind.GRADE),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

_EXPECTED = {
    ColumnKind.TIME: "a time in months >= 0",
    ColumnKind.DOSE: "a dose in Gy >= 0",
    ColumnKind.FLAG: "0 or 1 (1 = the event happened, 0 = censored)",
    ColumnKind.GRADE: "a CTCAE grade 0-5 (0 = none)",
}


@dataclass(frozen=True, eq=False)
class Cohort:
    """A checked cohort table.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per patient: every column of :data:`COLUMNS` (optional ones may be all
        missing), numbers as floats (``NaN`` missing), flags and grades as nullable integers,
        codes and text as strings (``""`` missing), then the extra columns as read.
    source : str
        Where the table came from (a file name, ``"registry"``), for messages and reports.
    """

    frame: pd.DataFrame
    source: str = "cohort"

    def __post_init__(self) -> None:
        missing = [name for name in COLUMN_NAMES if name not in self.frame.columns]
        if missing:
            raise InputError(
                f"{self.source}: the cohort frame lacks the columns {missing}; build it with "
                "check_cohort() or read_cohort()"
            )

    @property
    def n(self) -> int:
        """The number of patients.

        Returns
        -------
        int
            Rows of the table.
        """
        return len(self.frame)

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """The columns beyond the contract's, in the order of the table.

        Returns
        -------
        tuple of str
            Their headings.
        """
        return tuple(c for c in self.frame.columns if c not in COLUMN_NAMES)

    def group_labels(self, by: str | None = "group") -> pd.Series | None:
        """The label of each patient's group, or ``None`` when there is no grouping.

        Parameters
        ----------
        by : str or None
            The column to group by (default ``"group"``; any column of the table, e.g.
            ``"diagnosis"``); ``None`` for no grouping.

        Returns
        -------
        pandas.Series or None
            Text labels (missing shown as ``"(none)"``); ``None`` if ``by`` is ``None`` or the
            column is empty in every row.

        Raises
        ------
        InputError
            If ``by`` is not a column of the table.
        """
        if by is None:
            return None
        if by not in self.frame.columns:
            raise InputError(
                f"group column {by!r} is not in {self.source}; its columns are "
                f"{list(self.frame.columns)}"
            )
        labels = self.frame[by].astype("string").fillna("").str.strip()
        if (labels == "").all():
            return None
        return labels.replace("", "(none)")


def _fail(source: str, index: int, column: str, text: str, problem: str) -> InputError:
    """The error of one cell: file, line (the header is line 1), column, value, fix."""
    return InputError(f"{source}: line {index + 2}, column {column}: {text!r} {problem}")


def _missing_cell(source: str, spec: ColumnSpec, cells: pd.Series) -> None:
    empty = cells == ""
    if spec.required and empty.any():
        index = int(np.argmax(empty.to_numpy()))
        raise InputError(
            f"{source}: line {index + 2}, column {spec.name}: the cell is empty, expected "
            f"{_EXPECTED.get(spec.kind, 'a value')} (every row needs {', '.join(REQUIRED)})"
        )


def _numbers(source: str, spec: ColumnSpec, cells: pd.Series) -> pd.Series:
    """A numeric column: floats, ``NaN`` where empty; refuses text, negatives, non-integers."""
    values = pd.to_numeric(cells.where(cells != "", None), errors="coerce").astype(float)
    bad = (cells != "") & ~np.isfinite(values)
    if bad.any():
        index = int(np.argmax(bad.to_numpy()))
        expected = _EXPECTED[spec.kind]
        raise _fail(
            source, index, spec.name, cells.iloc[index], f"is not a number, expected {expected}"
        )
    negative = values < 0
    if negative.any():
        index = int(np.argmax(negative.to_numpy()))
        raise _fail(
            source,
            index,
            spec.name,
            cells.iloc[index],
            f"is negative, expected {_EXPECTED[spec.kind]}",
        )
    if spec.kind in (ColumnKind.FLAG, ColumnKind.GRADE):
        top = 1 if spec.kind is ColumnKind.FLAG else 5
        wrong = values.notna() & ((values != np.round(values)) | (values > top))
        if wrong.any():
            index = int(np.argmax(wrong.to_numpy()))
            what = "a flag" if spec.kind is ColumnKind.FLAG else "a grade"
            raise _fail(
                source,
                index,
                spec.name,
                cells.iloc[index],
                f"is not {what}, expected {_EXPECTED[spec.kind]}",
            )
        return values.astype("Int64")
    return values


def _codes(source: str, spec: ColumnSpec, cells: pd.Series) -> pd.Series:
    canonical = {code.lower(): code for code in spec.codes}
    lowered = cells.str.lower()
    known = lowered.map(canonical)
    bad = (cells != "") & known.isna()
    if bad.any():
        index = int(np.argmax(bad.to_numpy()))
        raise _fail(
            source, index, spec.name, cells.iloc[index],
            f"is not a known code, expected one of {', '.join(spec.codes)} or an empty cell",
        )  # fmt: skip
    return known.fillna("").astype(str)


def _ids(source: str, cells: pd.Series) -> pd.Series:
    repeated = cells.duplicated(keep="first")
    if repeated.any():
        index = int(np.argmax(repeated.to_numpy()))
        first = int(np.argmax((cells == cells.iloc[index]).to_numpy()))
        raise _fail(
            source, index, "patient_id", cells.iloc[index],
            f"repeats line {first + 2}, expected a unique id per patient (one row per patient)",
        )  # fmt: skip
    return cells


def _check_pairs(source: str, frame: pd.DataFrame) -> None:
    """A PFS time needs its progression flag, and the other way round."""
    for time, flag in (("pfs_months", "progression"),):
        half = frame[time].isna() != frame[flag].isna()
        if half.any():
            index = int(np.argmax(half.to_numpy()))
            empty = flag if frame[flag].isna().iloc[index] else time
            raise InputError(
                f"{source}: line {index + 2}, column {empty}: the cell is empty while "
                f"{time if empty == flag else flag} is given; give both or neither"
            )


def check_cohort(raw: pd.DataFrame, *, source: str = "cohort") -> Cohort:
    """Check a cohort table read as text and convert its columns.

    Parameters
    ----------
    raw : pandas.DataFrame
        Every cell as a string (``""`` for an empty cell), one row per patient, the header
        as the column names.
    source : str
        The table's name in messages (a file path).

    Returns
    -------
    Cohort
        The checked table; missing optional columns are added, empty.

    Raises
    ------
    InputError
        Naming the line and the column: a required column missing, an empty required cell, a
        value that is not a number, a negative time or dose, a flag other than 0/1, a grade
        outside 0-5, an unknown code, a repeated ``patient_id``, or a PFS time without its
        flag.
    """
    columns = [str(c).strip() for c in raw.columns]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        hint = "; is the file separated by semicolons? save it as comma-separated CSV" if (
            len(columns) == 1 and ";" in columns[0]
        ) else ""  # fmt: skip
        raise InputError(
            f"{source}: line 1 (the header): column {missing[0]} is missing; the cohort table "
            f"needs the columns {', '.join(REQUIRED)} (found: {', '.join(columns) or 'none'})"
            f"{hint}"
        )
    text = raw.copy()
    text.columns = pd.Index(columns)
    text = text.fillna("").astype(str).apply(lambda s: s.str.strip())
    out: dict[str, pd.Series] = {}
    for spec in COLUMNS:
        cells = text[spec.name] if spec.name in text else pd.Series([""] * len(text), dtype=str)
        cells = cells.reset_index(drop=True)
        _missing_cell(source, spec, cells)
        if spec.kind is ColumnKind.CODE:
            out[spec.name] = _codes(source, spec, cells)
        elif spec.kind is ColumnKind.TEXT:
            out[spec.name] = _ids(source, cells) if spec.name == "patient_id" else cells
        else:
            out[spec.name] = _numbers(source, spec, cells)
    for extra in (c for c in text.columns if c not in COLUMN_NAMES):
        out[extra] = text[extra].reset_index(drop=True)
    frame = pd.DataFrame(out)
    _check_pairs(source, frame)
    return Cohort(frame=frame, source=source)


def read_cohort(path: str | os.PathLike[str]) -> Cohort:
    """Read and check a cohort table (CSV, UTF-8, comma-separated, a header line).

    Parameters
    ----------
    path : str or path-like
        The ``cohort.csv`` file.

    Returns
    -------
    Cohort
        The checked table (:func:`check_cohort`).

    Raises
    ------
    InputError
        If the file cannot be read, is not a CSV table, or breaks the contract (the message
        names the line and the column).
    """
    text = read_text_file(path, what="cohort table", max_bytes=MAX_COHORT_BYTES)
    if not text.strip():
        raise InputError(f"{path}: the cohort table is empty, expected a header line and rows")
    try:
        raw = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: not a CSV table ({str(exc).strip()[:200]})") from None
    return check_cohort(raw, source=str(path))


def cohort_text(cohort: Cohort) -> str:
    """The cohort as CSV text: the contract's columns in order, then the extra columns.

    Parameters
    ----------
    cohort : Cohort
        The table.

    Returns
    -------
    str
        The CSV (``\\n`` line ends); times to 4 decimals, empty cells for missing values.
    """
    frame = cohort.frame[[*COLUMN_NAMES, *cohort.extra_columns]].copy()
    for spec in COLUMNS:
        if spec.kind in (ColumnKind.TIME, ColumnKind.DOSE):
            frame[spec.name] = frame[spec.name].round(4)
    return str(frame.to_csv(index=False, lineterminator="\n", na_rep=""))


def write_cohort(cohort: Cohort, path: str | os.PathLike[str]) -> Path:
    """Write a cohort table atomically (a reader never sees half a file).

    Parameters
    ----------
    cohort : Cohort
        The table.
    path : str or path-like
        The CSV file to write; missing folders are created.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    text = cohort_text(cohort)

    def write(temporary: Path) -> None:
        temporary.write_text(text, encoding="utf-8")

    return write_atomically(path, write)


def from_records(rows: Sequence[dict[str, object]], *, source: str) -> Cohort:
    """Build a checked cohort from one mapping per patient (missing keys are empty cells).

    Parameters
    ----------
    rows : sequence of dict
        Column name -> value (numbers, text or ``None``).
    source : str
        The cohort's name in messages and reports.

    Returns
    -------
    Cohort
        The checked table (:func:`check_cohort` of the values as text).

    Raises
    ------
    InputError
        As :func:`check_cohort`.
    """
    names = list(COLUMN_NAMES)
    for row in rows:
        names += [k for k in row if k not in names]
    text = [{k: "" if row.get(k) is None else str(row.get(k)) for k in names} for row in rows]
    return check_cohort(pd.DataFrame(text, columns=names, dtype=str), source=source)
