"""The report as data: a document model that the PDF writer renders.

Everything a report shows is plain, immutable data built by the caller: text, tables of
already formatted cells, figures, warnings, a signature block and the provenance record.
Nothing here computes a clinical number; the pipeline fills the model and
:func:`opensirt.report.pdf.write_pdf` lays it out with ReportLab.

A :class:`Section` holds an ordered sequence of *blocks*: a plain string is a paragraph, and
:class:`Table`, :class:`ReportFigure` and :class:`Notice` are drawn where they stand.

>>> from datetime import UTC, datetime
>>> doc = ReportDocument(
...     title="Pre-treatment plan",
...     patient_id="SIRT-0042",
...     created=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
...     sections=(
...         Section("Activity", ("The partition model sets the activity.",
...             Table(("Method", "Activity (GBq)"), (("Partition", 1.234),),
...                   highlight_rows={0: Highlight.BINDING}))),
...     ),
...     warnings=("Lung shunt fraction above 10 %: check the lung dose.",),
... )
>>> doc.sections[0].blocks[1].rows
(('Partition', '1.23'),)
>>> doc.warnings[0].severity
<Severity.WARNING: 'warning'>
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias, TypeVar

from matplotlib.figure import Figure

from opensirt.errors import InputError
from opensirt.report.provenance import Provenance

_T = TypeVar("_T")

#: What a table cell may hold: text as shown, or a number formatted by :func:`format_value`.
Cell: TypeAlias = str | int | float | None

#: The text shown for a missing value (``None``) in a table.
MISSING_TEXT = "—"


class Severity(StrEnum):
    """How strongly a notice is shown."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Highlight(StrEnum):
    """Why a table row stands out.

    ``BINDING``: the limit or constraint that sets the result; ``FAILED``: a check that
    failed; ``PASSED``: a check that passed (shown only when a table mixes both).
    """

    BINDING = "binding"
    FAILED = "failed"
    PASSED = "passed"


class Align(StrEnum):
    """Horizontal alignment of a table column."""

    LEFT = "left"
    RIGHT = "right"
    CENTER = "center"


def format_value(value: Cell, digits: int = 3) -> str:
    """A cell's text: strings as given, numbers with ``digits`` significant digits.

    Numbers are written without exponent between 1e-3 and 1e6 (clinical readers misread
    ``1.2e+02``); integers are written whole; ``None`` is an em dash.

    Parameters
    ----------
    value : str, int, float or None
        The cell: text is returned as given, booleans as ``"yes"``/``"no"``, non-finite
        numbers as ``"n/a"``.
    digits : int
        Significant digits of a float (default 3).

    Returns
    -------
    str
        The text shown in the table.

    >>> format_value(1.23456), format_value(120.5), format_value(1234.5), format_value(7)
    ('1.23', '120', '1234', '7')
    >>> format_value(0.0081), format_value(None), format_value(float("nan"))
    ('0.00810', '—', 'n/a')
    """
    if value is None:
        return MISSING_TEXT
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return "n/a"
    if number == 0.0:
        return "0"
    magnitude = abs(number)
    if not 1e-3 <= magnitude < 1e6:
        return f"{number:.{digits - 1}e}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{number:.{decimals}f}"


def _text(name: str, value: object, *, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} is {value!r}, expected text (str)")
    if not allow_empty and not value.strip():
        raise InputError(f"{name} is empty, expected a non-empty text")
    return value


@dataclass(frozen=True)
class Notice:
    """A warning or note shown in a coloured box.

    Parameters
    ----------
    text : str
        The message, in words a clinician can act on.
    severity : Severity or str
        ``"info"``, ``"warning"`` (default) or ``"critical"`` (e.g. a refused plan).
    """

    text: str
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        _text("Notice.text", self.text, allow_empty=False)
        try:
            object.__setattr__(self, "severity", Severity(self.severity))
        except ValueError as exc:
            raise InputError(
                f"Notice.severity is {self.severity!r}, expected one of "
                f"{[s.value for s in Severity]}"
            ) from exc


def _notices(name: str, items: Iterable[Notice | str]) -> tuple[Notice, ...]:
    if isinstance(items, str):
        raise InputError(f"{name} is a single string, expected a sequence of notices or strings")
    return tuple(item if isinstance(item, Notice) else Notice(item) for item in items)


@dataclass(frozen=True)
class Table:
    """A table of formatted cells.

    Parameters
    ----------
    columns : sequence of str
        Column headings, with units, e.g. ``"Dose (Gy)"``.
    rows : sequence of sequences of cells
        One sequence per row, as long as ``columns``. Numbers are formatted with
        :func:`format_value`; pass strings to control the digits.
    caption : str
        Shown above the table as "Table n: caption".
    highlight_rows : mapping int -> Highlight, or sequence of int
        Rows (0-based indices into ``rows``) that stand out; a plain sequence of indices means
        :attr:`Highlight.BINDING`.
    align : sequence of Align or None
        Per-column alignment; ``None`` right-aligns columns whose cells all start with a number
        and left-aligns the others.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    highlight_rows: Mapping[int, Highlight] = field(default_factory=dict)
    align: tuple[Align, ...] | None = None

    def __post_init__(self) -> None:
        columns = tuple(_text("Table.columns[]", c) for c in self.columns)
        if not columns:
            raise InputError("Table.columns is empty, expected at least one column heading")
        rows = tuple(tuple(format_value(cell) for cell in row) for row in self.rows)
        for index, row in enumerate(rows):
            if len(row) != len(columns):
                raise InputError(
                    f"Table row {index} has {len(row)} cells, expected {len(columns)} "
                    f"(one per column: {columns})"
                )
        object.__setattr__(self, "columns", columns)
        object.__setattr__(self, "rows", rows)
        _text("Table.caption", self.caption)
        object.__setattr__(self, "highlight_rows", self._highlights(len(rows)))
        if self.align is not None:
            align = tuple(Align(a) for a in self.align)
            if len(align) != len(columns):
                raise InputError(
                    f"Table.align has {len(align)} entries, expected {len(columns)} "
                    "(one per column)"
                )
            object.__setattr__(self, "align", align)

    def _highlights(self, n_rows: int) -> dict[int, Highlight]:
        given = self.highlight_rows
        pairs = (
            given.items()
            if isinstance(given, Mapping)
            else ((index, Highlight.BINDING) for index in given)
        )
        out: dict[int, Highlight] = {}
        for index, kind in pairs:
            if not isinstance(index, int) or not 0 <= index < n_rows:
                raise InputError(
                    f"Table.highlight_rows names row {index!r}, expected a row index in "
                    f"[0, {n_rows - 1}] (0-based)"
                )
            out[index] = Highlight(kind)
        return out


@dataclass(frozen=True)
class ReportFigure:
    """A figure drawn full-width with a caption.

    Parameters
    ----------
    content : matplotlib.figure.Figure or callable returning one
        The figure; a callable is called only when the report is rendered. Its ``figsize``
        sets the aspect ratio; it is scaled to the page width (or down to fit the page height).
    caption : str
        Shown below the figure as "Figure n: caption".
    """

    content: Figure | Callable[[], Figure]
    caption: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.content, Figure) or callable(self.content)):
            raise InputError(
                f"ReportFigure.content is {type(self.content).__name__}, expected a "
                "matplotlib.figure.Figure or a callable returning one"
            )
        _text("ReportFigure.caption", self.caption)

    def build(self) -> Figure:
        """The matplotlib figure (calls :attr:`content` if it is a callable).

        Returns
        -------
        matplotlib.figure.Figure
            The figure to draw.

        Raises
        ------
        InputError
            If the callable returns something other than a figure.
        """
        figure = self.content if isinstance(self.content, Figure) else self.content()
        if not isinstance(figure, Figure):
            raise InputError(
                f"ReportFigure.content returned {type(figure).__name__}, expected a "
                "matplotlib.figure.Figure"
            )
        return figure


#: A block of a section: a paragraph (str), a table, a figure or a notice.
Block: TypeAlias = str | Table | ReportFigure | Notice


@dataclass(frozen=True)
class Section:
    """A titled part of the report holding paragraphs, tables, figures and notices in order.

    Parameters
    ----------
    title : str
        Section heading.
    blocks : sequence of Block
        A ``str`` is a paragraph (``"\\n"`` starts a new line); the other blocks are drawn
        where they stand.
    """

    title: str
    blocks: tuple[Block, ...] = ()

    def __post_init__(self) -> None:
        _text("Section.title", self.title, allow_empty=False)
        if isinstance(self.blocks, str | Table | ReportFigure | Notice):
            object.__setattr__(self, "blocks", (self.blocks,))
        blocks = tuple(self.blocks)
        for index, block in enumerate(blocks):
            if not isinstance(block, str | Table | ReportFigure | Notice):
                raise InputError(
                    f"Section {self.title!r} block {index} is {type(block).__name__}, expected "
                    "str (paragraph), Table, ReportFigure or Notice"
                )
        object.__setattr__(self, "blocks", blocks)


#: The roles of the default signature block (prescription review practice: the physicist who
#: prepared the plan, an independent second check, the treating physician's approval).
DEFAULT_SIGNATURE_ROLES = (
    "Prepared by (medical physicist)",
    "Checked by (independent second check)",
    "Approved by (treating physician)",
)


@dataclass(frozen=True)
class Signature:
    """A block of empty lines for name, signature and date, one row per role.

    Parameters
    ----------
    roles : sequence of str
        One signing role per row.
    statement : str
        Text above the lines, e.g. what the signatures attest.
    """

    roles: tuple[str, ...] = DEFAULT_SIGNATURE_ROLES
    statement: str = (
        "I have reviewed the inputs, the limits applied and the results of this report."
    )

    def __post_init__(self) -> None:
        roles = tuple(_text("Signature.roles[]", r, allow_empty=False) for r in self.roles)
        if not roles:
            raise InputError("Signature.roles is empty, expected at least one signing role")
        object.__setattr__(self, "roles", roles)
        _text("Signature.statement", self.statement)


@dataclass(frozen=True)
class ReportDocument:
    """A whole report, ready to render.

    Parameters
    ----------
    title : str
        E.g. ``"SIRT pre-treatment dosimetry plan"``.
    patient_id : str
        The patient's pseudonym or study identifier, shown on every page.
    created : datetime
        When the results were computed; must carry a time zone. It is also the PDF
        creation date, so that the same document gives the same file.
    subtitle : str
        Second title line (device, nuclide, treatment date...).
    sections : sequence of Section
        The body, in order.
    warnings : sequence of Notice or str
        Shown first, on page 1; strings become :attr:`Severity.WARNING` notices.
    figures : sequence of ReportFigure
        Drawn after the sections under the heading "Figures".
    signature : Signature or None
        The review and approval block, after the figures; ``None`` leaves it out.
    provenance : Provenance or None
        Software versions and input fingerprints, drawn last; its short fingerprint is
        printed in every page footer.
    footer_note : str
        Extra text for the page footer (e.g. the institution).
    subject_label : str
        What ``patient_id`` names, before it in the page header and on page 1
        (``"Patient"``; a cohort report says ``"Cohort"``).
    """

    title: str
    patient_id: str
    created: datetime
    subtitle: str = ""
    sections: tuple[Section, ...] = ()
    warnings: tuple[Notice, ...] = ()
    figures: tuple[ReportFigure, ...] = ()
    signature: Signature | None = field(default_factory=Signature)
    provenance: Provenance | None = None
    footer_note: str = ""
    subject_label: str = "Patient"

    def __post_init__(self) -> None:
        _text("ReportDocument.title", self.title, allow_empty=False)
        _text("ReportDocument.patient_id", self.patient_id, allow_empty=False)
        _text("ReportDocument.subject_label", self.subject_label, allow_empty=False)
        _text("ReportDocument.subtitle", self.subtitle)
        _text("ReportDocument.footer_note", self.footer_note)
        if not isinstance(self.created, datetime) or self.created.utcoffset() is None:
            raise InputError(
                f"ReportDocument.created is {self.created!r}, expected an aware datetime "
                "(with a time zone, e.g. datetime.now(UTC))"
            )
        object.__setattr__(self, "sections", _typed("sections", self.sections, Section))
        object.__setattr__(self, "warnings", _notices("ReportDocument.warnings", self.warnings))
        object.__setattr__(self, "figures", _typed("figures", self.figures, ReportFigure))
        if self.signature is not None and not isinstance(self.signature, Signature):
            raise InputError(
                f"ReportDocument.signature is {type(self.signature).__name__}, expected "
                "Signature or None"
            )
        if self.provenance is not None and not isinstance(self.provenance, Provenance):
            raise InputError(
                f"ReportDocument.provenance is {type(self.provenance).__name__}, expected "
                "Provenance (see opensirt.report.provenance.collect_provenance) or None"
            )


def _typed(name: str, items: Sequence[_T], kind: type[_T]) -> tuple[_T, ...]:
    out = tuple(items)
    for index, item in enumerate(out):
        if not isinstance(item, kind):
            raise InputError(
                f"ReportDocument.{name}[{index}] is {type(item).__name__}, expected {kind.__name__}"
            )
    return out
