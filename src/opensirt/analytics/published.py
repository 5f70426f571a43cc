"""The bundled table of published SIRT series, its pooling, and a centre's own response rate.

The table (``data/published_series.csv``; its columns are described in
docs/analytics_pooled.md) holds only numbers read in a source: each row's ``source_note`` says
where they stand and ``source_url`` what was read. A centre's objective response rate is read
from a cohort table (format version 1: ``best_response``, and ``diagnosis`` to select an
indication) and shown beside the pooled estimate.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from opensirt.analytics.meta import Tau2Method
from opensirt.analytics.pooled import (
    Outcome,
    PooledResult,
    Transform,
    pool_medians,
    pool_proportions,
)
from opensirt.analytics.response import clopper_pearson
from opensirt.errors import DataFileError, InputError

#: The bundled table of published series.
PUBLISHED_SERIES_FILE = "published_series.csv"
#: Best responses that count as objective response (CR + PR), and all allowed values.
RESPONDING = frozenset({"CR", "PR"})
RESPONSES = frozenset({"CR", "PR", "SD", "PD", "NE"})
#: Indication values of the table (``all`` selects every row).
INDICATIONS = ("hcc", "crc", "icc", "net", "mixed_metastases", "all")


@dataclass(frozen=True)
class PublishedSeries:
    """One row of the bundled table of published series (see docs/analytics_pooled.md).

    Attributes
    ----------
    study_id, first_author, trial, doi, journal, design, device, indication, arm : str
        Identification and description; empty strings where not applicable.
    year : int
        Publication year.
    n : int
        Patients in the row's population (the denominator of ``responders``).
    responders : int or None
        Patients with CR or PR, None where not reported.
    response_criteria : str
        Criteria and time point of the response, as the paper states them.
    median_os_months, os_ci_low_months, os_ci_high_months : float or None
        Median overall survival and its 95 % interval, None where not reported.
    source_note, source_url : str
        Where each number stands in the source read, and that source.
    """

    study_id: str
    first_author: str
    year: int
    trial: str
    doi: str
    journal: str
    design: str
    device: str
    indication: str
    arm: str
    n: int
    responders: int | None
    response_criteria: str
    median_os_months: float | None
    os_ci_low_months: float | None
    os_ci_high_months: float | None
    source_note: str
    source_url: str

    @property
    def label(self) -> str:
        """Author, year and trial, for tables and plots."""
        name = f"{self.first_author} {self.year}"
        return f"{name} ({self.trial})" if self.trial else name


def _number(text: str, where: str, kind: type[int] | type[float]) -> int | float | None:
    if not text.strip():
        return None
    try:
        return kind(text)
    except ValueError:
        raise DataFileError(f"{where} is {text!r}, expected a number") from None


def _row(raw: dict[str, str], line: int) -> PublishedSeries:
    def num(column: str, kind: type[int] | type[float] = float) -> int | float | None:
        return _number(raw[column], f"{PUBLISHED_SERIES_FILE} line {line}, column {column}", kind)

    n = num("n", int)
    year = num("year", int)
    if n is None or year is None:
        raise DataFileError(f"{PUBLISHED_SERIES_FILE} line {line}: n and year are required")
    responders = num("responders", int)
    return PublishedSeries(
        **{k: raw[k] for k in _TEXT_COLUMNS},
        year=int(year),
        n=int(n),
        responders=None if responders is None else int(responders),
        median_os_months=num("median_os_months"),
        os_ci_low_months=num("os_ci_low_months"),
        os_ci_high_months=num("os_ci_high_months"),
    )


_TEXT_COLUMNS = (
    "study_id", "first_author", "trial", "doi", "journal", "design", "device", "indication",
    "arm", "response_criteria", "source_note", "source_url",
)  # fmt: skip


def load_published_series(path: Path | None = None) -> tuple[PublishedSeries, ...]:
    """Read the table of published series (the bundled one by default).

    Parameters
    ----------
    path : Path, optional
        Another table with the same columns.

    Returns
    -------
    tuple of PublishedSeries
        The rows, in file order.

    Raises
    ------
    DataFileError
        If a column is missing or a number cannot be read.

    >>> rows = load_published_series()
    >>> all(row.source_note for row in rows)
    True
    """
    if path is None:
        text = resources.files("opensirt.analytics").joinpath("data", PUBLISHED_SERIES_FILE)
        content = text.read_text(encoding="utf-8")
    else:
        content = Path(path).read_text(encoding="utf-8")
    reader = csv.DictReader(content.splitlines())
    missing = set(_TEXT_COLUMNS) | {"year", "n", "responders"}
    missing -= set(reader.fieldnames or ())
    if missing:
        raise DataFileError(f"{PUBLISHED_SERIES_FILE} lacks the columns {sorted(missing)}")
    return tuple(_row(raw, line) for line, raw in enumerate(reader, start=2))


def select_series(
    rows: tuple[PublishedSeries, ...], indication: str, outcome: Outcome | str
) -> tuple[list[PublishedSeries], list[str]]:
    """The rows of one indication that report the outcome, and those left out with why.

    Parameters
    ----------
    rows : tuple of PublishedSeries
        The table.
    indication : str
        One of :data:`INDICATIONS`.
    outcome : Outcome or str
        ``"orr"`` (needs responders) or ``"os"`` (needs a median with its 95 % interval).

    Returns
    -------
    tuple of list
        The usable rows, and one line per row of the indication that was left out.

    Raises
    ------
    InputError
        An unknown indication or outcome.
    """
    if indication not in INDICATIONS:
        raise InputError(f"indication is {indication!r}, expected one of: {', '.join(INDICATIONS)}")
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise InputError(f"outcome is {outcome!r}, expected one of: orr, os") from None
    used, left_out = [], []
    for row in rows:
        if indication != "all" and row.indication != indication:
            continue
        if outcome is Outcome.ORR and row.responders is None:
            left_out.append(f"{row.label}: responders not reported")
        elif outcome is Outcome.OS and row.median_os_months is None:
            left_out.append(f"{row.label}: median OS not reported")
        elif outcome is Outcome.OS and (
            row.os_ci_low_months is None or row.os_ci_high_months is None
        ):
            left_out.append(f"{row.label}: no 95 % interval of the median OS")
        else:
            used.append(row)
    return used, left_out


def pool_published(
    indication: str = "hcc",
    outcome: Outcome | str = Outcome.ORR,
    *,
    method: Tau2Method | str = Tau2Method.DL,
    transform: Transform | str = Transform.LOGIT,
    rows: tuple[PublishedSeries, ...] | None = None,
) -> PooledResult:
    """Pool the published series of one indication (random effects).

    Parameters
    ----------
    indication : str
        One of :data:`INDICATIONS`.
    outcome : Outcome or str
        ``"orr"`` or ``"os"``.
    method : Tau2Method or str
        ``"dl"`` or ``"reml"``.
    transform : Transform or str
        For ORR: ``"logit"`` or ``"ft"``.
    rows : tuple of PublishedSeries, optional
        Another table (the bundled one by default).

    Returns
    -------
    PooledResult
        The pooled estimate; ``excluded`` names the rows of the indication left out.

    Raises
    ------
    InputError
        Fewer than two usable studies, or an unknown option.
    """
    table = load_published_series() if rows is None else rows
    used, left_out = select_series(table, indication, outcome)
    if len(used) < 2:
        what = "responders" if Outcome(outcome) is Outcome.ORR else "a median OS with its interval"
        raise InputError(
            f"only {len(used)} published series of indication {indication!r} report {what}; "
            "a pooled estimate needs 2 or more (try --indication all)"
        )
    labels = _labels(used)
    if Outcome(outcome) is Outcome.ORR:
        result = pool_proportions(
            labels,
            [row.responders or 0 for row in used],
            [row.n for row in used],
            transform=transform,
            method=method,
        )
    else:
        result = pool_medians(
            labels,
            [row.median_os_months or 0.0 for row in used],
            [row.os_ci_low_months or 0.0 for row in used],
            [row.os_ci_high_months or 0.0 for row in used],
            [row.n for row in used],
            method=method,
        )
    return replace(result, excluded=tuple(left_out))


def _labels(rows: list[PublishedSeries]) -> list[str]:
    """Each row's label; rows of one paper (two arms) get their arm added."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.label] = counts.get(row.label, 0) + 1
    return [
        f"{row.label}, {row.arm.split(' (')[0]}" if counts[row.label] > 1 else row.label
        for row in rows
    ]


@dataclass(frozen=True)
class CohortResponse:
    """A centre's objective response rate with its exact 95 % interval.

    Attributes
    ----------
    label : str
        How the cohort is named in tables and plots.
    responders, n : int
        Patients with CR or PR, and patients with a recorded best response.
    rate, ci_low, ci_high : float
        ``responders / n`` and its Clopper-Pearson 95 % interval.
    """

    label: str
    responders: int
    n: int
    rate: float
    ci_low: float
    ci_high: float


def cohort_response(responders: int, n: int, label: str = "this centre") -> CohortResponse:
    """A cohort's response rate from its counts.

    Parameters
    ----------
    responders, n : int
        Patients with CR or PR, and patients assessed.
    label : str
        Name shown beside the pooled estimate.

    Returns
    -------
    CohortResponse
        The rate with its Clopper-Pearson interval.

    Raises
    ------
    InputError
        Impossible counts.

    >>> c = cohort_response(12, 40)
    >>> round(c.rate, 2), round(c.ci_low, 3), round(c.ci_high, 3)
    (0.3, 0.166, 0.465)
    """
    low, high = clopper_pearson(responders, n)
    return CohortResponse(label, responders, n, responders / n, low, high)


def read_cohort_response(
    path: Path, indication: str = "all", label: str | None = None
) -> CohortResponse:
    """A cohort table's objective response rate (reads ``best_response`` and ``diagnosis``).

    Patients with an empty ``best_response`` are left out; ``NE`` (not evaluable) counts in the
    denominator as a non-responder, as in an intention-to-treat response rate.

    Parameters
    ----------
    path : Path
        A cohort CSV (format version 1).
    indication : str
        Keep only rows whose ``diagnosis`` is this (``all``: every row).
    label : str, optional
        Name shown beside the pooled estimate (default: the file's name).

    Returns
    -------
    CohortResponse
        Counts and rate.

    Raises
    ------
    InputError
        A missing column, a best response outside CR/PR/SD/PD/NE (naming the row), or no patient
        with a recorded response.
    """
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if "best_response" not in columns:
            raise InputError(
                f"{path}: the cohort table has no column best_response; add it (CR, PR, SD, PD "
                "or NE per patient) to compare the response rate"
            )
        if indication != "all" and "diagnosis" not in columns:
            raise InputError(
                f"{path}: --indication {indication} needs the column diagnosis; add it or use "
                "--indication all"
            )
        responders = total = 0
        for line, row in enumerate(reader, start=2):
            if indication != "all" and (row.get("diagnosis") or "").strip().lower() != indication:
                continue
            value = (row.get("best_response") or "").strip().upper()
            if not value:
                continue
            if value not in RESPONSES:
                raise InputError(
                    f"{path} row {line}, column best_response: {value!r} is not one of "
                    "CR, PR, SD, PD, NE"
                )
            total += 1
            responders += value in RESPONDING
    if total == 0:
        raise InputError(
            f"{path}: no patient of indication {indication!r} has a best_response; "
            "nothing to compare"
        )
    return cohort_response(responders, total, label or Path(path).stem)
