"""The report's content as ReportLab Platypus flowables (its *story*), in reading order.

Title, warnings, numbered sections, figures, the signature block and the provenance record
become paragraphs, tables and drawings; Platypus then flows them onto the pages
(:mod:`opensirt.report.pdf`). User text is escaped, so a structure named ``<T1 & core>``
prints as written. Tables split between rows with their header row repeated (a row taller
than a page is split inside); a heading stays with its first block and a figure with its
caption. Figures are converted to vector drawings through SVG: lines, markers and text stay
sharp at any zoom, while images inside a figure (CT and dose slices) stay embedded rasters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from reportlab.graphics.shapes import Drawing
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, TableStyle
from reportlab.platypus import Table as PlatypusTable
from svglib.svglib import svg2rlg

from opensirt.report.document import (
    Align,
    Block,
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Signature,
    Table,
)
from opensirt.report.provenance import InputFingerprint, InputKind, Provenance
from opensirt.report.styles import (
    ACCENT,
    BODY,
    CAPTION,
    FONT_BOLD,
    HEADING,
    HIGHLIGHT_STYLES,
    INK,
    MUTED,
    NOTICE_COLOURS,
    RULE,
    SMALL,
    SUBTITLE,
    TABLE_HEAD,
    TABLE_TEXT,
    TITLE,
    ZEBRA,
    cell_style,
    register_fonts,
    text_width_pt,
)

#: Resolution (pixels per inch of the figure as drawn) of images inside figures.
FIGURE_IMAGE_DPI = 200.0

_CELL_PAD_X = 4.0
_CELL_PAD_Y = 2.5
_NUMERIC = re.compile(r"^[<>≤≥~±+\-−]?\s*\d")
_NOTICE_LABEL_PT = 62.0
_FIRST_ROW_MAX_PT = 48.0  # the part of a tall first row kept with its header
_SIGN_FIELDS = (("Name", 0.27), ("Signature", 0.25), ("Date", 0.14))


def markup(text: str) -> str:
    """``text`` as Platypus paragraph markup: ``&``, ``<`` and ``>`` escaped, ``"\\n"`` a line
    break.

    Parameters
    ----------
    text : str
        Plain text as the user wrote it.

    Returns
    -------
    str
        Markup that prints exactly ``text``.

    >>> markup("<T1 & core>\\nD70")
    '&lt;T1 &amp; core&gt;<br/>D70'
    """
    return "<br/>".join(escape(line) for line in text.split("\n"))


def paragraph(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain ``text`` (escaped, see :func:`markup`) in ``style``.

    Parameters
    ----------
    text : str
        Plain text; ``"\\n"`` starts a new line.
    style : ParagraphStyle
        Font, size, colour and spacing; the body text by default.

    Returns
    -------
    Paragraph
        The flowable; it wraps at spaces and cuts words wider than the frame.
    """
    register_fonts()
    return Paragraph(markup(text), style)


def column_widths(table: Table, width_pt: float) -> list[float]:
    """Column widths (points) that fill ``width_pt``.

    Narrow columns keep their natural (unwrapped) width while it is at most an equal share of
    the room left; the others share the rest, each at least as wide as its longest word if
    possible, the spare width going to the columns that want the most.

    Parameters
    ----------
    table : Table
        The table, with its formatted cells.
    width_pt : float
        The width to fill (points), the frame's width.

    Returns
    -------
    list of float
        One width per column (points), summing to ``width_pt``.
    """
    texts = [[table.columns[c], *(row[c] for row in table.rows)] for c in range(len(table.columns))]
    styles = [TABLE_HEAD] + [TABLE_TEXT] * len(table.rows)
    pad = 2 * _CELL_PAD_X + 1.0
    natural = [
        max(_widest(s, t.split("\n")) for t, s in zip(col, styles, strict=True)) + pad
        for col in texts
    ]
    minimum = [
        min(max(_widest(s, t.split()) for t, s in zip(col, styles, strict=True)) + pad, n)
        for col, n in zip(texts, natural, strict=True)
    ]
    widths = dict.fromkeys(range(len(texts)), 0.0)
    flexible = set(widths)
    room = width_pt
    while flexible:
        narrow = {c for c in flexible if natural[c] <= room / len(flexible)}
        if not narrow:
            break
        for c in narrow:
            widths[c] = natural[c]
        room -= sum(natural[c] for c in narrow)
        flexible -= narrow
    if not flexible:
        scale = width_pt / sum(widths.values())
        return [widths[c] * scale for c in range(len(texts))]
    base = {c: minimum[c] for c in flexible}
    if sum(base.values()) > room:
        total = sum(base.values())
        return [room * base[c] / total if c in flexible else widths[c] for c in widths]
    spare = room - sum(base.values())
    want = {c: natural[c] - minimum[c] for c in flexible}
    total_want = sum(want.values()) or 1.0
    for c in flexible:
        widths[c] = base[c] + spare * want[c] / total_want
    return [widths[c] for c in range(len(texts))]


def _widest(style: ParagraphStyle, pieces: Iterable[str]) -> float:
    return max((text_width_pt(piece, style) for piece in pieces), default=0.0)


def column_alignment(table: Table) -> list[Align]:
    """The table's alignment, or right for columns whose cells all start with a number.

    Parameters
    ----------
    table : Table
        The table; its :attr:`~opensirt.report.document.Table.align` is used when given.

    Returns
    -------
    list of Align
        One alignment per column.
    """
    if table.align is not None:
        return list(table.align)
    out = []
    for c in range(len(table.columns)):
        cells = [row[c] for row in table.rows if row[c].strip() not in ("", "—", "n/a")]
        numeric = bool(cells) and all(_NUMERIC.match(cell.strip()) for cell in cells)
        out.append(Align.RIGHT if numeric else Align.LEFT)
    return out


class _Story:
    """Builds the flowables of one document, numbering its tables and figures."""

    def __init__(self, width_pt: float, height_pt: float) -> None:
        self.width = width_pt
        self.height = height_pt
        self.n_tables = 0
        self.n_figures = 0

    def table(self, table: Table) -> list[Flowable]:
        self.n_tables += 1
        label = f"Table {self.n_tables}"
        caption = paragraph(f"{label}: {table.caption}" if table.caption else label, CAPTION)
        aligns = column_alignment(table)
        rows = [
            [
                Paragraph(markup(text), cell_style(True, None, a))
                for text, a in zip(table.columns, aligns, strict=True)
            ]
        ]
        for index, row in enumerate(table.rows):
            kind = table.highlight_rows.get(index)
            rows.append(
                [
                    Paragraph(markup(text), cell_style(False, kind, a))
                    for text, a in zip(row, aligns, strict=True)
                ]
            )
        widths = column_widths(table, self.width)
        style = self._table_style(table)
        grid = PlatypusTable(rows, colWidths=widths, repeatRows=1, splitInRow=1, style=style)
        # The caption, the header row and the first row (or its first lines, if it is tall)
        # go on one page: break before them when less room is left.
        head = _height(PlatypusTable(rows[:1], colWidths=widths, style=style), self.width)
        start = _height(PlatypusTable(rows[:2], colWidths=widths, style=style), self.width)
        needed = _height(caption, self.width) + 2.0 + min(start, head + _FIRST_ROW_MAX_PT)
        out: list[Flowable] = [
            CondPageBreak(needed),
            caption,
            Spacer(0, 2.0),
            grid,
            Spacer(0, 3.0),
        ]
        kinds = [k for k in HIGHLIGHT_STYLES if k in table.highlight_rows.values()]
        if kinds:
            words = "; ".join(HIGHLIGHT_STYLES[k][3] for k in kinds)
            out.append(paragraph(f"Highlighted rows: {words}.", SMALL))
        out.append(Spacer(0, 6.0))
        return out

    @staticmethod
    def _table_style(table: Table) -> TableStyle:
        commands: list[tuple[object, ...]] = [
            ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), _CELL_PAD_X),
            ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD_X),
            ("TOPPADDING", (0, 0), (-1, -1), _CELL_PAD_Y),
            ("BOTTOMPADDING", (0, 0), (-1, -1), _CELL_PAD_Y + 1.0),
            ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
            ("LINEBELOW", (0, -1), (-1, -1), 0.8, ACCENT),
        ]
        for index in range(len(table.rows)):
            kind = table.highlight_rows.get(index)
            if kind is not None:
                commands.append(
                    ("BACKGROUND", (0, index + 1), (-1, index + 1), HIGHLIGHT_STYLES[kind][0])
                )
            elif index % 2 == 1:
                commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), ZEBRA))
        return TableStyle(commands)

    def notice(self, notice: Notice) -> list[Flowable]:
        background, bar, label = NOTICE_COLOURS[notice.severity]
        label_style = ParagraphStyle(
            f"notice-{label}", parent=BODY, fontName=FONT_BOLD, fontSize=8.0, textColor=bar
        )
        box = PlatypusTable(
            [[Paragraph(label, label_style), paragraph(notice.text, BODY)]],
            colWidths=[_NOTICE_LABEL_PT, self.width - _NOTICE_LABEL_PT],
            splitInRow=1,
            style=TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), background),
                    ("LINEBEFORE", (0, 0), (0, -1), 3.0, bar),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 6.0),
                    ("TOPPADDING", (0, 0), (-1, -1), 4.0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.0),
                ]
            ),
        )
        return [box, Spacer(0, 4.0)]

    def figure(self, figure: ReportFigure) -> list[Flowable]:
        self.n_figures += 1
        label = f"Figure {self.n_figures}"
        caption = paragraph(f"{label}: {figure.caption}" if figure.caption else label, CAPTION)
        room = self.height - _height(caption, self.width) - 8.0
        drawing = figure_drawing(figure, self.width, room)
        return [KeepTogether([drawing, Spacer(0, 4.0), caption]), Spacer(0, 10.0)]

    def block(self, block: Block) -> list[Flowable]:
        if isinstance(block, str):
            return [paragraph(block)]
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, ReportFigure):
            return self.figure(block)
        return self.notice(block)

    def heading(self, text: str, blocks: list[Flowable]) -> list[Flowable]:
        """The heading, kept on one page with the start of the first of ``blocks``."""
        head = paragraph(text, HEADING)
        if blocks and isinstance(blocks[0], CondPageBreak):
            needed = HEADING.spaceBefore + _height(head, self.width) + HEADING.spaceAfter
            return [CondPageBreak(blocks[0].height + needed), head, *blocks[1:]]
        if blocks and isinstance(blocks[0], KeepTogether):
            # One group, not a nested one: a KeepTogether inside another always breaks the page.
            return [KeepTogether([head, *blocks[0]._content]), *blocks[1:]]
        return [KeepTogether([head, *blocks[:1]]), *blocks[1:]]

    def signature(self, signature: Signature) -> list[Flowable]:
        role_fraction = 1.0 - sum(f for _, f in _SIGN_FIELDS)
        widths = [self.width * role_fraction] + [self.width * f for _, f in _SIGN_FIELDS]
        bold = ParagraphStyle("role", parent=BODY, fontName=FONT_BOLD)
        rows: list[list[object]] = []
        commands: list[tuple[object, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0.0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 10.0),
        ]
        for number, role in enumerate(signature.roles):
            top = 2 * number
            rows.append([paragraph(role, bold), "", "", ""])
            rows.append(["", *(paragraph(name, SMALL) for name, _ in _SIGN_FIELDS)])
            commands += [
                ("SPAN", (0, top), (0, top + 1)),
                ("TOPPADDING", (0, top), (-1, top), 6.0),
                ("BOTTOMPADDING", (1, top), (-1, top), 0.0),
                ("LINEBELOW", (1, top), (-1, top), 0.6, INK),
                ("BOTTOMPADDING", (0, top + 1), (-1, top + 1), 6.0),
            ]
        return [PlatypusTable(rows, colWidths=widths, rowHeights=None, style=TableStyle(commands))]


def _height(flowable: Flowable, width_pt: float) -> float:
    """Height (points) of ``flowable`` laid out at ``width_pt``."""
    _, height = flowable.wrap(width_pt, 1e6)
    return float(height)


def figure_drawing(figure: ReportFigure, width_pt: float, max_height_pt: float) -> Drawing:
    """``figure`` as a vector drawing scaled to ``width_pt``, or smaller to fit
    ``max_height_pt``, keeping its aspect ratio.

    The matplotlib figure is written to SVG with its text as outlines (so that mathtext,
    subscripts and Greek print exactly as matplotlib draws them), images inside it resampled
    at :data:`FIGURE_IMAGE_DPI`, and read back with svglib. An axes with hatched patches,
    which svglib cannot fill, is rasterised whole at the same resolution. A figure built by a
    callable is cleared afterwards to free its memory; a figure passed as an object is left as
    it was.

    Parameters
    ----------
    figure : ReportFigure
        The figure; a callable content is called here.
    width_pt : float
        Width of the frame (points).
    max_height_pt : float
        Largest height the drawing may take (points).

    Returns
    -------
    Drawing
        The scaled drawing, centred in the frame.
    """
    built = figure.build()
    # svglib does not draw SVG fill patterns, which is how matplotlib writes hatches, nor
    # transparency in images: an axes with hatched patches is rasterised whole, opaque (at
    # FIGURE_IMAGE_DPI); the other axes stay vector.
    hatched = built.findobj(lambda artist: isinstance(artist, Patch) and bool(artist.get_hatch()))
    rasterise = list({id(a): a for a in (p.axes or p for p in hatched)}.values())
    was_rasterized = [artist.get_rasterized() for artist in rasterise]
    buffer = io.BytesIO()
    rc = {"svg.fonttype": "path", "svg.hashsalt": "opensirt", "svg.image_inline": True}
    try:
        for artist in rasterise:
            artist.set_rasterized(True)
        with mpl.rc_context(rc):  # type: ignore[arg-type]  # matplotlib types keys as literals
            built.savefig(buffer, format="svg", dpi=FIGURE_IMAGE_DPI, metadata={"Date": None})
    finally:
        if isinstance(figure.content, Figure):
            for artist, state in zip(rasterise, was_rasterized, strict=True):
                artist.set_rasterized(state)
        else:
            built.clear()
    buffer.seek(0)
    drawing = svg2rlg(buffer)
    if drawing is None:
        raise RuntimeError(f"svglib could not read the SVG of figure {figure.caption!r}")
    scale = min(width_pt / drawing.width, max_height_pt / drawing.height)
    drawing.scale(scale, scale)
    drawing.width *= scale
    drawing.height *= scale
    drawing.hAlign = "CENTER"
    return drawing


def _kind_text(item: InputFingerprint) -> str:
    if item.kind is InputKind.FILE:
        return "file"
    return f"folder, {item.n_files} file{'s' if item.n_files != 1 else ''}"


def _provenance(story: _Story, provenance: Provenance) -> list[Flowable]:
    out: list[Flowable] = [
        paragraph(f"Combined fingerprint (SHA-256): {provenance.combined_fingerprint}")
    ]
    if provenance.settings_sha256:
        out.append(paragraph(f"Settings fingerprint (SHA-256): {provenance.settings_sha256}"))
    software = Table(
        ("Software", "Version"), tuple(provenance.software.items()), "Software versions"
    )
    out += story.table(software)
    if provenance.inputs:
        rows = tuple(
            (item.label, item.path, _kind_text(item), item.sha256) for item in provenance.inputs
        )
        out += story.table(Table(("Input", "Path", "Kind", "SHA-256"), rows, "Input fingerprints"))
    return out


def build_story(document: ReportDocument, width_pt: float, height_pt: float) -> list[Flowable]:
    """All flowables of ``document`` in reading order, for a frame of the given size.

    Order: title, warnings, numbered sections, figures, signature block, provenance. Figures
    are rendered (callables called) here.

    Parameters
    ----------
    document : ReportDocument
        The report.
    width_pt : float
        Width of the page's text frame (points).
    height_pt : float
        Height of the page's text frame (points); no figure is drawn taller.

    Returns
    -------
    list of Flowable
        The story for :meth:`reportlab.platypus.BaseDocTemplate.build`.
    """
    register_fonts()
    story = _Story(width_pt, height_pt)
    created = document.created.isoformat(sep=" ", timespec="minutes")
    out: list[Flowable] = [paragraph(document.title, TITLE)]
    if document.subtitle:
        out.append(paragraph(document.subtitle, SUBTITLE))
    out.append(paragraph(f"{document.subject_label}: {document.patient_id}  ·  Created: {created}"))

    notices = [flowable for n in document.warnings for flowable in story.notice(n)]
    none = ParagraphStyle("none", parent=BODY, textColor=MUTED)
    first = notices or [paragraph("No warnings were raised.", none)]
    out += story.heading(f"Warnings ({len(document.warnings)})", first)

    for number, section in enumerate(document.sections, start=1):
        out += _section(story, number, section)
    if document.figures:
        figures = [f for figure in document.figures for f in story.figure(figure)]
        out += story.heading(f"{len(document.sections) + 1}  Figures", figures)
    if document.signature is not None:
        block = story.signature(document.signature)
        statement = (
            [paragraph(document.signature.statement)] if document.signature.statement else []
        )
        out += story.heading("Review and approval", [KeepTogether([*statement, *block])])
    if document.provenance is not None:
        out += story.heading("Provenance", _provenance(story, document.provenance))
    while out and isinstance(out[-1], Spacer):  # space after the last block would only push a
        out.pop()  # blank page when the content ends at the foot of a page
    return out


def _section(story: _Story, number: int, section: Section) -> list[Flowable]:
    blocks = [flowable for block in section.blocks for flowable in story.block(block)]
    return story.heading(f"{number}  {section.title}", blocks)
