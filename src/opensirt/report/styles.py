"""Fonts, colours and paragraph styles of the PDF reports.

ReportLab's built-in Helvetica covers Latin-1 only, while the reports print µ, ≥, ≤, ±, —,
subscripts (D₇₀) and Greek letters. The DejaVu Sans TrueType faces that ship inside
matplotlib (regular, bold, oblique, bold oblique) are registered instead and embedded as
subsets, so the text can be searched and copied; nothing is downloaded.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib as mpl
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from opensirt.report.document import Align, Highlight, Severity

#: Family name under which the DejaVu Sans faces are registered with ReportLab.
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
FONT_ITALIC = "DejaVuSans-Oblique"
_FACES = {
    FONT: "DejaVuSans.ttf",
    FONT_BOLD: "DejaVuSans-Bold.ttf",
    FONT_ITALIC: "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}

INK = HexColor("#1a1a1a")
MUTED = HexColor("#5f6b76")
ACCENT = HexColor("#1f3a5f")
RULE = HexColor("#b8c0c8")
ZEBRA = HexColor("#f3f5f7")
ALERT = HexColor("#9b1c1c")

#: Background, bar colour and label of the notice boxes.
NOTICE_COLOURS: dict[Severity, tuple[Color, Color, str]] = {
    Severity.INFO: (HexColor("#e8f1fb"), HexColor("#2b6cb0"), "NOTE"),
    Severity.WARNING: (HexColor("#fff4d6"), HexColor("#b86e00"), "WARNING"),
    Severity.CRITICAL: (HexColor("#fde2e1"), HexColor("#b42318"), "CRITICAL"),
}

#: Background of highlighted table rows, whether their text is bold, its colour, and the
#: legend words printed under the table.
HIGHLIGHT_STYLES: dict[Highlight, tuple[Color, bool, Color, str]] = {
    Highlight.BINDING: (HexColor("#ffecb3"), True, INK, "amber = binding limit"),
    Highlight.FAILED: (HexColor("#fde2e1"), True, ALERT, "red = failed"),
    Highlight.PASSED: (HexColor("#e3f3e1"), False, INK, "green = passed"),
}

_ALIGNMENT = {Align.LEFT: TA_LEFT, Align.RIGHT: TA_RIGHT, Align.CENTER: TA_CENTER}


@cache
def register_fonts() -> str:
    """Register matplotlib's DejaVu Sans faces with ReportLab once; return the family name.

    Returns
    -------
    str
        The family name (``"DejaVuSans"``) to use as ``fontName``; ``<b>`` and ``<i>`` in
        paragraphs select the bold and oblique faces.
    """
    folder = Path(mpl.get_data_path()) / "fonts" / "ttf"
    for name, file_name in _FACES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file_name)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic="DejaVuSans-BoldOblique"
    )
    return FONT


def _style(name: str, size_pt: float, **kwargs: object) -> ParagraphStyle:
    font = kwargs.pop("fontName", FONT)
    return ParagraphStyle(
        name,
        fontName=font,
        fontSize=size_pt,
        leading=round(size_pt * 1.3, 2),
        textColor=kwargs.pop("textColor", INK),
        **kwargs,
    )


BODY = _style("body", 9.5, spaceAfter=6.0)
SMALL = _style("small", 7.5, textColor=MUTED, spaceAfter=3.0)
CAPTION = _style("caption", 8.5, fontName=FONT_ITALIC, textColor=HexColor("#333333"))
HEADING = _style(
    "heading", 12.5, fontName=FONT_BOLD, textColor=ACCENT, spaceBefore=12.0, spaceAfter=4.0
)
TITLE = _style("title", 18.0, fontName=FONT_BOLD, textColor=ACCENT, spaceAfter=2.0)
SUBTITLE = _style("subtitle", 11.0, textColor=MUTED, spaceAfter=2.0)
TABLE_TEXT = _style("cell", 8.5)
TABLE_HEAD = _style("head", 8.5, fontName=FONT_BOLD, textColor=HexColor("#ffffff"))
HEADER = _style("header", 8.5, fontName=FONT_BOLD, textColor=ACCENT)
HEADER_NOTE = _style("header-note", 7.5, fontName=FONT_BOLD, textColor=ALERT)
FOOTER = _style("footer", 7.0, textColor=MUTED)


def cell_style(head: bool, highlight: Highlight | None, align: Align) -> ParagraphStyle:
    """The paragraph style of a table cell.

    Parameters
    ----------
    head : bool
        A header cell (bold, white on the accent colour).
    highlight : Highlight or None
        The highlight of the cell's row, ``None`` for a plain row.
    align : Align
        The column's horizontal alignment.

    Returns
    -------
    ParagraphStyle
        The style for the cell's :class:`~reportlab.platypus.Paragraph`.
    """
    base = TABLE_HEAD if head else TABLE_TEXT
    changes: dict[str, object] = {"alignment": _ALIGNMENT[align]}
    if highlight is not None:
        _, bold, colour, _ = HIGHLIGHT_STYLES[highlight]
        changes.update(fontName=FONT_BOLD if bold else FONT, textColor=colour)
    return ParagraphStyle(f"{base.name}-{highlight}-{align}", parent=base, **changes)


def text_width_pt(text: str, style: ParagraphStyle) -> float:
    """Width of one line of ``text`` set in ``style`` (points), without wrapping.

    Parameters
    ----------
    text : str
        The text, without markup.
    style : ParagraphStyle
        Its font and size.

    Returns
    -------
    float
        The advance width in points (1/72 inch).

    >>> _ = register_fonts()
    >>> text_width_pt("WW", BODY) > text_width_pt("ii", BODY)
    True
    """
    register_fonts()
    return float(pdfmetrics.stringWidth(text, style.fontName, style.fontSize))
