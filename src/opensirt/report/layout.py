"""From a :class:`~opensirt.report.document.ReportDocument` to placed blocks on A4 pages.

The layout is computed before anything is drawn: every block is wrapped for the text width,
measured, and placed top to bottom; a block that does not fit is split (paragraphs between
lines, tables between rows with the header repeated) or moved to the next page, and a heading
never stays alone at the foot of a page. Because the page count is known before drawing,
every page can say "page x of n".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from opensirt.report.document import (
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Signature,
    Table,
)
from opensirt.report.flowables import (
    ACCENT,
    BODY,
    HEADING,
    HIGHLIGHT_STYLES,
    MUTED,
    SMALL,
    Flowable,
    ImageBlock,
    NoticeBox,
    SignatureBlock,
    Spacer,
    TableBlock,
    TextBlock,
    figure_to_rgb,
)
from opensirt.report.provenance import InputFingerprint, InputKind, Provenance
from opensirt.report.text import TextStyle

#: ISO 216 A4 in points (210 mm x 297 mm, 1 in = 25.4 mm = 72 pt).
A4_WIDTH_PT = 210.0 / 25.4 * 72.0
A4_HEIGHT_PT = 297.0 / 25.4 * 72.0

TITLE = TextStyle(18.0, weight="bold", color=ACCENT)
SUBTITLE = TextStyle(11.0, color=MUTED)

#: Pixels per inch of the printed page at which figures are rasterised.
FIGURE_DPI = 200.0


@dataclass(frozen=True)
class PageGeometry:
    """Where the header, body and footer sit on the page (points from the top-left)."""

    width_pt: float = A4_WIDTH_PT
    height_pt: float = A4_HEIGHT_PT
    margin_x_pt: float = 50.0
    body_top_pt: float = 66.0
    body_bottom_margin_pt: float = 50.0

    @property
    def body_width_pt(self) -> float:
        """Width of the text body."""
        return self.width_pt - 2.0 * self.margin_x_pt

    @property
    def body_bottom_pt(self) -> float:
        """Lowest y the body may reach."""
        return self.height_pt - self.body_bottom_margin_pt

    @property
    def body_height_pt(self) -> float:
        """Height of the text body."""
        return self.body_bottom_pt - self.body_top_pt


@dataclass(frozen=True)
class Placement:
    """A block placed on a page with its top at ``y_pt``."""

    flowable: Flowable
    y_pt: float

    @property
    def bottom_pt(self) -> float:
        """Bottom edge of the block."""
        return self.y_pt + self.flowable.height_pt


class _Builder:
    """Turns the document into a flat list of blocks, numbering tables and figures."""

    def __init__(self, geometry: PageGeometry) -> None:
        self.width = geometry.body_width_pt
        self.max_figure_height = geometry.body_height_pt - 2.0
        self.out: list[Flowable] = []
        self.n_tables = 0
        self.n_figures = 0

    def paragraph(self, text: str, style: TextStyle = BODY, space_after: float = 6.0) -> None:
        self.out += [TextBlock.wrapped(text, style, self.width), Spacer(space_after)]

    def heading(self, text: str) -> None:
        self.out += [Spacer(12.0), TextBlock.wrapped(text, HEADING, self.width, heading=True)]
        self.out.append(Spacer(4.0))

    def notice(self, notice: Notice) -> None:
        self.out += [NoticeBox.create(notice.text, notice.severity, self.width), Spacer(4.0)]

    def table(self, table: Table) -> None:
        self.n_tables += 1
        self.out += [TableBlock.create(table, f"Table {self.n_tables}", self.width), Spacer(3.0)]
        kinds = [k for k in HIGHLIGHT_STYLES if k in table.highlight_rows.values()]
        if kinds:
            words = "; ".join(HIGHLIGHT_STYLES[k][2] for k in kinds)
            self.paragraph(f"Highlighted rows: {words}.", SMALL, 3.0)
        self.out.append(Spacer(6.0))

    def figure(self, figure: ReportFigure) -> None:
        self.n_figures += 1
        built = figure.build()
        width_in = float(built.get_size_inches()[0])
        rgb = figure_to_rgb(built, FIGURE_DPI * self.width / 72.0 / width_in)
        caption = f"Figure {self.n_figures}" + (f": {figure.caption}" if figure.caption else "")
        self.out += [ImageBlock.create(rgb, caption, self.width, self.max_figure_height)]
        self.out.append(Spacer(10.0))

    def block(self, block: str | Table | ReportFigure | Notice) -> None:
        if isinstance(block, str):
            self.paragraph(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, ReportFigure):
            self.figure(block)
        else:
            self.notice(block)


def _title(builder: _Builder, document: ReportDocument) -> None:
    builder.paragraph(document.title, TITLE, 2.0)
    if document.subtitle:
        builder.paragraph(document.subtitle, SUBTITLE, 2.0)
    created = document.created.isoformat(sep=" ", timespec="minutes")
    builder.paragraph(f"Patient: {document.patient_id}  ·  Created: {created}", BODY, 4.0)


def _warnings(builder: _Builder, notices: tuple[Notice, ...]) -> None:
    builder.heading(f"Warnings ({len(notices)})")
    if not notices:
        builder.paragraph("No warnings were raised.", BODY.with_(color=MUTED))
    for notice in notices:
        builder.notice(notice)


def _section(builder: _Builder, number: int, section: Section) -> None:
    builder.heading(f"{number}  {section.title}")
    for block in section.blocks:
        builder.block(block)


def _signature(builder: _Builder, signature: Signature) -> None:
    builder.heading("Review and approval")
    if signature.statement:
        builder.paragraph(signature.statement)
    builder.out.append(SignatureBlock.create(signature.roles, builder.width))


def _provenance(builder: _Builder, provenance: Provenance) -> None:
    builder.heading("Provenance")
    builder.paragraph(f"Combined fingerprint (SHA-256): {provenance.combined_fingerprint}")
    if provenance.settings_sha256:
        builder.paragraph(f"Settings fingerprint (SHA-256): {provenance.settings_sha256}")
    builder.table(
        Table(("Software", "Version"), tuple(provenance.software.items()), "Software versions")
    )
    if provenance.inputs:
        rows = tuple(
            (item.label, item.path, _kind_text(item), item.sha256) for item in provenance.inputs
        )
        builder.table(Table(("Input", "Path", "Kind", "SHA-256"), rows, "Input fingerprints"))


def _kind_text(item: InputFingerprint) -> str:
    if item.kind is InputKind.FILE:
        return "file"
    return f"folder, {item.n_files} file{'s' if item.n_files != 1 else ''}"


def build_flowables(document: ReportDocument, geometry: PageGeometry) -> list[Flowable]:
    """All blocks of ``document`` in reading order, laid out for the body width.

    Order: title, warnings, numbered sections, figures, signature block, provenance.
    Figures are rendered (callables called) here.
    """
    builder = _Builder(geometry)
    _title(builder, document)
    _warnings(builder, document.warnings)
    for number, section in enumerate(document.sections, start=1):
        _section(builder, number, section)
    if document.figures:
        builder.heading(f"{len(document.sections) + 1}  Figures")
        for figure in document.figures:
            builder.figure(figure)
    if document.signature is not None:
        _signature(builder, document.signature)
    if document.provenance is not None:
        _provenance(builder, document.provenance)
    return builder.out


def _needed_height(block: Flowable, queue: deque[Flowable]) -> float:
    """Height needed to place ``block`` now: with a heading, also the next block's first part."""
    if not block.keep_with_next:
        return block.height_pt
    extra = 0.0
    for following in queue:
        if not following.discard_at_top:
            return block.height_pt + extra + following.min_height_pt
        extra += following.height_pt
    return block.height_pt


def paginate(flowables: list[Flowable], geometry: PageGeometry) -> list[list[Placement]]:
    """Place ``flowables`` on as many pages as needed; no block crosses the body's edges.

    Raises
    ------
    RuntimeError
        If a block cannot be placed even on an empty page (a layout bug, not a user error).
    """
    pages: list[list[Placement]] = [[]]
    y = geometry.body_top_pt
    queue = deque(flowables)
    while queue:
        block = queue.popleft()
        page = pages[-1]
        if block.discard_at_top and not page:
            continue
        avail = geometry.body_bottom_pt - y
        if _needed_height(block, queue) <= avail or (not page and block.height_pt <= avail):
            page.append(Placement(block, y))
            y += block.height_pt
            continue
        head, tail = block.split(avail, fresh_page=not page)
        if head is None and not page:
            raise RuntimeError(f"layout: {type(block).__name__} does not fit on an empty page")
        if head is not None:
            page.append(Placement(head, y))
        if tail is not None:
            queue.appendleft(tail)
        pages.append([])
        y = geometry.body_top_pt
    if not pages[-1] and len(pages) > 1:
        pages.pop()
    return pages


def layout_document(
    document: ReportDocument, geometry: PageGeometry | None = None
) -> list[list[Placement]]:
    """The placed blocks of every page of ``document`` (see :func:`paginate`)."""
    geometry = geometry or PageGeometry()
    return paginate(build_flowables(document, geometry), geometry)
