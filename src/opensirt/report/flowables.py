"""Blocks of a page that know their height, split across pages and draw themselves.

Coordinates are points from the top-left corner of the page (y grows downwards); a
:class:`Canvas` converts them to matplotlib figure coordinates. Every block is laid out for
a fixed width when it is made, so its height is known before anything is drawn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from opensirt.report.document import Align, Highlight, Severity, Table
from opensirt.report.text import TextStyle, longest_word_pt, widest_line_pt, wrap_text

INK = "#1a1a1a"
MUTED = "#5f6b76"
ACCENT = "#1f3a5f"
RULE = "#b8c0c8"
ZEBRA = "#f3f5f7"

BODY = TextStyle(9.5)
SMALL = TextStyle(7.5, color=MUTED)
CAPTION = TextStyle(8.5, italic=True, color="#333333")
TABLE_TEXT = TextStyle(8.5)
TABLE_HEAD = TextStyle(8.5, weight="bold", color="white")
HEADING = TextStyle(12.5, weight="bold", color=ACCENT)

#: Background, bar and label of the notice boxes.
NOTICE_COLOURS = {
    Severity.INFO: ("#e8f1fb", "#2b6cb0", "NOTE"),
    Severity.WARNING: ("#fff4d6", "#b86e00", "WARNING"),
    Severity.CRITICAL: ("#fde2e1", "#b42318", "CRITICAL"),
}
#: Background and text style of highlighted table rows, and their legend words.
HIGHLIGHT_STYLES = {
    Highlight.BINDING: ("#ffecb3", TABLE_TEXT.with_(weight="bold"), "amber = binding limit"),
    Highlight.FAILED: ("#fde2e1", TABLE_TEXT.with_(weight="bold", color="#9b1c1c"), "red = failed"),
    Highlight.PASSED: ("#e3f3e1", TABLE_TEXT, "green = passed"),
}

_CELL_PAD_X = 4.0
_CELL_PAD_Y = 2.5
_NUMERIC = re.compile(r"^[<>≤≥~±+\-−]?\s*\d")


def _body_style(highlight: Highlight | None) -> TextStyle:
    return TABLE_TEXT if highlight is None else HIGHLIGHT_STYLES[highlight][1]


class Canvas:
    """Draws on a matplotlib figure in points from the page's top-left corner."""

    def __init__(self, figure: Figure) -> None:
        self.figure = figure
        width_in, height_in = figure.get_size_inches()
        self.width_pt = float(width_in) * 72.0
        self.height_pt = float(height_in) * 72.0

    def _fx(self, x_pt: float) -> float:
        return x_pt / self.width_pt

    def _fy(self, y_pt: float) -> float:
        return 1.0 - y_pt / self.height_pt

    def text(
        self, x_pt: float, baseline_pt: float, s: str, style: TextStyle, ha: str = "left"
    ) -> None:
        """Write one line with its baseline at ``baseline_pt``; no mathtext parsing."""
        self.figure.text(
            self._fx(x_pt),
            self._fy(baseline_pt),
            s,
            fontproperties=style.font(),
            color=style.color,
            ha=ha,
            va="baseline",
            parse_math=False,
        )

    def rect(
        self, x_pt: float, y_pt: float, w_pt: float, h_pt: float, face: str, edge: str = "none"
    ) -> None:
        """A filled rectangle with its top-left corner at ``(x_pt, y_pt)``."""
        patch = Rectangle(
            (self._fx(x_pt), self._fy(y_pt + h_pt)),
            w_pt / self.width_pt,
            h_pt / self.height_pt,
            transform=self.figure.transFigure,
            facecolor=face,
            edgecolor=edge,
            linewidth=0.6,
        )
        self.figure.add_artist(patch)

    def hline(self, x0_pt: float, x1_pt: float, y_pt: float, color: str, width_pt: float) -> None:
        """A horizontal rule."""
        line = Line2D(
            [self._fx(x0_pt), self._fx(x1_pt)],
            [self._fy(y_pt)] * 2,
            transform=self.figure.transFigure,
            color=color,
            linewidth=width_pt,
        )
        self.figure.add_artist(line)

    def image(
        self, rgb: npt.NDArray[Any], x_pt: float, y_pt: float, w_pt: float, h_pt: float
    ) -> None:
        """An image filling the box whose top-left corner is ``(x_pt, y_pt)``."""
        axes = self.figure.add_axes(
            (self._fx(x_pt), self._fy(y_pt + h_pt), w_pt / self.width_pt, h_pt / self.height_pt)
        )
        axes.imshow(rgb, interpolation="none", aspect="auto")
        axes.set_axis_off()


class Flowable:
    """A block with a height that can be placed on a page, split, and drawn."""

    #: Move to the next page with the following block rather than stay alone at a page foot.
    keep_with_next = False
    #: Dropped when it would open a page (vertical space).
    discard_at_top = False

    @property
    def height_pt(self) -> float:
        """Height of the whole block (points)."""
        raise NotImplementedError

    @property
    def min_height_pt(self) -> float:
        """Height of the smallest first part the block can be split into (points)."""
        return self.height_pt

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        """A first part no taller than ``avail_pt`` (or ``None``) and the rest (or ``None``).

        ``fresh_page`` says the space is a whole empty page: a block must then give up
        something, or it could never be placed.
        """
        return None, self

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        """Draw with the top-left corner at ``(x_pt, y_pt)``."""
        raise NotImplementedError


@dataclass
class Spacer(Flowable):
    """Vertical space, dropped at the top of a page."""

    space_pt: float
    discard_at_top = True

    @property
    def height_pt(self) -> float:
        return self.space_pt

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        return None, None

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        return None


@dataclass
class TextBlock(Flowable):
    """Lines of text in one style, split between lines."""

    lines: list[str]
    style: TextStyle
    indent_pt: float = 0.0
    heading: bool = False

    @classmethod
    def wrapped(cls, text: str, style: TextStyle, width_pt: float, **kwargs: Any) -> TextBlock:
        """The block of ``text`` wrapped to ``width_pt``."""
        indent = float(kwargs.get("indent_pt", 0.0))
        return cls(wrap_text(text, width_pt - indent, style), style, **kwargs)

    @property
    def keep_with_next(self) -> bool:  # type: ignore[override]
        return self.heading

    @property
    def height_pt(self) -> float:
        return len(self.lines) * self.style.line_height_pt

    @property
    def min_height_pt(self) -> float:
        return self.height_pt if self.heading else self.style.line_height_pt

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        n = int(avail_pt // self.style.line_height_pt)
        if n < 1 or (self.heading and not fresh_page):
            return None, self
        return replace(self, lines=self.lines[:n]), replace(self, lines=self.lines[n:])

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        for index, line in enumerate(self.lines):
            top = y_pt + index * self.style.line_height_pt
            canvas.text(x_pt + self.indent_pt, top + self.style.baseline_pt, line, self.style)


_NOTICE_LABEL_PT = 62.0
_NOTICE_PAD_PT = 4.0
_NOTICE_BAR_PT = 3.0


@dataclass
class NoticeBox(Flowable):
    """A coloured box with a severity label and the wrapped message."""

    severity: Severity
    lines: list[str]
    width_pt: float

    @classmethod
    def create(cls, text: str, severity: Severity, width_pt: float) -> NoticeBox:
        """The box for ``text`` at ``width_pt``."""
        text_width = width_pt - _NOTICE_BAR_PT - _NOTICE_LABEL_PT - 2 * _NOTICE_PAD_PT
        return cls(severity, wrap_text(text, text_width, BODY), width_pt)

    @property
    def height_pt(self) -> float:
        return len(self.lines) * BODY.line_height_pt + 2 * _NOTICE_PAD_PT

    @property
    def min_height_pt(self) -> float:
        return BODY.line_height_pt + 2 * _NOTICE_PAD_PT

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        n = int((avail_pt - 2 * _NOTICE_PAD_PT) // BODY.line_height_pt)
        if n < 1:
            return None, self
        return replace(self, lines=self.lines[:n]), replace(self, lines=self.lines[n:])

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        background, bar, label = NOTICE_COLOURS[self.severity]
        canvas.rect(x_pt, y_pt, self.width_pt, self.height_pt, background)
        canvas.rect(x_pt, y_pt, _NOTICE_BAR_PT, self.height_pt, bar)
        top = y_pt + _NOTICE_PAD_PT
        label_style = BODY.with_(weight="bold", color=bar, size_pt=8.0)
        canvas.text(
            x_pt + _NOTICE_BAR_PT + _NOTICE_PAD_PT, top + BODY.baseline_pt, label, label_style
        )
        x_text = x_pt + _NOTICE_BAR_PT + _NOTICE_PAD_PT + _NOTICE_LABEL_PT
        for index, line in enumerate(self.lines):
            baseline = top + index * BODY.line_height_pt + BODY.baseline_pt
            canvas.text(x_text, baseline, line, BODY)


def column_widths(table: Table, width_pt: float) -> list[float]:
    """Column widths (points) that fill ``width_pt``.

    Narrow columns keep their natural (unwrapped) width while it is at most an equal share of
    the room left; the others share the rest, each at least as wide as its longest word if
    possible, the spare width going to the columns that want the most.
    """
    texts = [[table.columns[c], *(row[c] for row in table.rows)] for c in range(len(table.columns))]
    styles = [TABLE_HEAD] + [TABLE_TEXT] * len(table.rows)
    pad = 2 * _CELL_PAD_X + 1.0
    natural = [
        max(widest_line_pt(t, s) for t, s in zip(col, styles, strict=True)) + pad for col in texts
    ]
    minimum = [
        min(max(longest_word_pt(t, s) for t, s in zip(col, styles, strict=True)) + pad, n)
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
    if flexible:
        base = {c: minimum[c] for c in flexible}
        if sum(base.values()) > room:
            total = sum(base.values())
            return [widths[c] if c not in flexible else room * base[c] / total for c in widths]
        spare = room - sum(base.values())
        want = {c: natural[c] - minimum[c] for c in flexible}
        total_want = sum(want.values()) or 1.0
        for c in flexible:
            widths[c] = base[c] + spare * want[c] / total_want
    else:
        scale = width_pt / sum(widths.values())
        widths = {c: w * scale for c, w in widths.items()}
    return [widths[c] for c in range(len(texts))]


def column_alignment(table: Table) -> list[Align]:
    """The table's alignment, or right for columns whose cells all start with a number."""
    if table.align is not None:
        return list(table.align)
    out = []
    for c in range(len(table.columns)):
        cells = [row[c] for row in table.rows if row[c].strip() not in ("", "—", "n/a")]
        numeric = bool(cells) and all(_NUMERIC.match(cell.strip()) for cell in cells)
        out.append(Align.RIGHT if numeric else Align.LEFT)
    return out


@dataclass
class _Row:
    index: int  # -1 for the header
    cells: list[list[str]]

    @property
    def n_lines(self) -> int:
        return max(len(cell) for cell in self.cells)


@dataclass
class TableBlock(Flowable):
    """A table with its caption; splits between rows, repeating the header."""

    caption: list[str]
    header: _Row
    rows: list[_Row]
    widths: list[float]
    aligns: list[Align]
    highlights: dict[int, Highlight]
    label: str

    @classmethod
    def create(cls, table: Table, label: str, width_pt: float) -> TableBlock:
        """Lay out ``table`` for ``width_pt`` under the caption "label: table.caption"."""
        caption = f"{label}: {table.caption}" if table.caption else label
        widths = column_widths(table, width_pt)
        inner = [w - 2 * _CELL_PAD_X for w in widths]

        def wrap(index: int, cells: tuple[str, ...]) -> _Row:
            style = TABLE_HEAD if index < 0 else _body_style(table.highlight_rows.get(index))
            return _Row(index, [wrap_text(c, w, style) for c, w in zip(cells, inner, strict=True)])

        return cls(
            caption=wrap_text(caption, width_pt, CAPTION) if caption else [],
            header=wrap(-1, table.columns),
            rows=[wrap(i, row) for i, row in enumerate(table.rows)],
            widths=widths,
            aligns=column_alignment(table),
            highlights=dict(table.highlight_rows),
            label=label,
        )

    @staticmethod
    def _row_height(row: _Row) -> float:
        return row.n_lines * TABLE_TEXT.line_height_pt + 2 * _CELL_PAD_Y

    @property
    def _head_pt(self) -> float:
        return len(self.caption) * CAPTION.line_height_pt + self._row_height(self.header)

    @property
    def height_pt(self) -> float:
        return self._head_pt + sum(self._row_height(r) for r in self.rows)

    @property
    def min_height_pt(self) -> float:
        first = self._row_height(self.rows[0]) if self.rows else 0.0
        return self._head_pt + first

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        used = self._head_pt
        n = 0
        while n < len(self.rows) and used + self._row_height(self.rows[n]) <= avail_pt:
            used += self._row_height(self.rows[n])
            n += 1
        if n == 0:
            return self._split_first_row(avail_pt - used) if fresh_page else (None, self)
        return replace(self, rows=self.rows[:n]), self._continued(self.rows[n:])

    def _continued(self, rows: list[_Row]) -> TableBlock | None:
        if not rows:
            return None
        caption = [f"{self.label} (continued)"] if self.caption else []
        return replace(self, caption=caption, rows=rows)

    def _split_first_row(self, avail_pt: float) -> tuple[Flowable | None, Flowable | None]:
        """Cut a row taller than a page between its lines (only on an empty page)."""
        n = int((avail_pt - 2 * _CELL_PAD_Y) // TABLE_TEXT.line_height_pt)
        if n < 1:
            return None, self
        row = self.rows[0]
        head = _Row(row.index, [cell[:n] for cell in row.cells])
        tail = _Row(row.index, [cell[n:] or [""] for cell in row.cells])
        return replace(self, rows=[head]), self._continued([tail, *self.rows[1:]])

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        y = y_pt
        for line in self.caption:
            canvas.text(x_pt, y + CAPTION.baseline_pt, line, CAPTION)
            y += CAPTION.line_height_pt
        total_width = sum(self.widths)
        for position, row in enumerate([self.header, *self.rows]):
            height = self._row_height(row)
            style = self._draw_row_background(canvas, row, position, x_pt, y, height, total_width)
            self._draw_cells(canvas, row, style, x_pt, y)
            y += height
        canvas.hline(x_pt, x_pt + total_width, y, ACCENT, 0.8)

    def _draw_row_background(
        self, canvas: Canvas, row: _Row, position: int, x: float, y: float, h: float, w: float
    ) -> TextStyle:
        if row.index < 0:
            canvas.rect(x, y, w, h, ACCENT)
            return TABLE_HEAD
        if row.index in self.highlights:
            canvas.rect(x, y, w, h, HIGHLIGHT_STYLES[self.highlights[row.index]][0])
            return _body_style(self.highlights[row.index])
        if position % 2 == 0:
            canvas.rect(x, y, w, h, ZEBRA)
        canvas.hline(x, x + w, y + h, RULE, 0.4)
        return TABLE_TEXT

    def _draw_cells(self, canvas: Canvas, row: _Row, style: TextStyle, x: float, y: float) -> None:
        left = x
        for cell, width, align in zip(row.cells, self.widths, self.aligns, strict=True):
            anchor, ha = {
                Align.LEFT: (left + _CELL_PAD_X, "left"),
                Align.RIGHT: (left + width - _CELL_PAD_X, "right"),
                Align.CENTER: (left + width / 2, "center"),
            }[align]
            for index, line in enumerate(cell):
                baseline = y + _CELL_PAD_Y + index * style.line_height_pt + style.baseline_pt
                canvas.text(anchor, baseline, line, style, ha=ha)
            left += width


@dataclass
class ImageBlock(Flowable):
    """A raster image of a figure, scaled to fit, with its caption below."""

    rgb: npt.NDArray[np.uint8]
    width_pt: float
    image_height_pt: float
    caption: list[str]

    @classmethod
    def create(
        cls, rgb: npt.NDArray[np.uint8], caption: str, width_pt: float, max_height_pt: float
    ) -> ImageBlock:
        """Scale ``rgb`` (rows, columns, 3) to ``width_pt``, or smaller to fit ``max_height_pt``
        with the caption, keeping its aspect ratio."""
        lines = wrap_text(caption, width_pt, CAPTION) if caption else []
        room = max_height_pt - len(lines) * CAPTION.line_height_pt - 4.0
        aspect = rgb.shape[0] / rgb.shape[1]
        scale = min(1.0, room / (width_pt * aspect))
        return cls(rgb, width_pt * scale, width_pt * scale * aspect, lines)

    @property
    def height_pt(self) -> float:
        return self.image_height_pt + 4.0 + len(self.caption) * CAPTION.line_height_pt

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        # Scaled on creation to fit an empty page, so a fresh page always takes it whole.
        return (self, None) if fresh_page else (None, self)

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        canvas.image(self.rgb, x_pt, y_pt, self.width_pt, self.image_height_pt)
        y = y_pt + self.image_height_pt + 4.0
        for line in self.caption:
            canvas.text(x_pt, y + CAPTION.baseline_pt, line, CAPTION)
            y += CAPTION.line_height_pt


_SIGN_FIELDS = (("Name", 0.27), ("Signature", 0.25), ("Date", 0.14))
_SIGN_GAP_PT = 10.0
_SIGN_ROW_PT = 44.0


@dataclass
class SignatureBlock(Flowable):
    """Empty lines to write a name, sign and date, one row per role; never split."""

    roles: list[list[str]]
    width_pt: float

    @classmethod
    def create(cls, roles: tuple[str, ...], width_pt: float) -> SignatureBlock:
        """The block for ``roles`` at ``width_pt``."""
        role_width = width_pt * (1.0 - sum(f for _, f in _SIGN_FIELDS)) - _SIGN_GAP_PT
        bold = BODY.with_(weight="bold")
        return cls([wrap_text(role, role_width, bold) for role in roles], width_pt)

    def _row_height(self, lines: list[str]) -> float:
        return max(_SIGN_ROW_PT, len(lines) * BODY.line_height_pt + 16.0)

    @property
    def height_pt(self) -> float:
        return sum(self._row_height(lines) for lines in self.roles)

    def split(self, avail_pt: float, fresh_page: bool) -> tuple[Flowable | None, Flowable | None]:
        return (self, None) if fresh_page else (None, self)

    def draw(self, canvas: Canvas, x_pt: float, y_pt: float) -> None:
        bold = BODY.with_(weight="bold")
        y = y_pt
        for lines in self.roles:
            height = self._row_height(lines)
            for index, line in enumerate(lines):
                canvas.text(
                    x_pt, y + 6.0 + index * bold.line_height_pt + bold.baseline_pt, line, bold
                )
            left = x_pt + self.width_pt * (1.0 - sum(f for _, f in _SIGN_FIELDS))
            line_y = y + height - 14.0
            for label, fraction in _SIGN_FIELDS:
                right = left + self.width_pt * fraction - _SIGN_GAP_PT
                canvas.hline(left, right, line_y, INK, 0.6)
                canvas.text(left, line_y + 9.0, label, SMALL)
                left += self.width_pt * fraction
            y += height


def figure_to_rgb(figure: Figure, dpi: float) -> npt.NDArray[np.uint8]:
    """Render a matplotlib figure with Agg to an RGB array (rows, columns, 3) on white."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    original_dpi = figure.get_dpi()
    figure.set_dpi(dpi)
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba(), dtype=np.float64) / 255.0
    finally:
        figure.set_dpi(original_dpi)
    alpha = rgba[..., 3:4]
    rgb = rgba[..., :3] * alpha + (1.0 - alpha)
    return np.asarray(np.round(rgb * 255.0), dtype=np.uint8)
