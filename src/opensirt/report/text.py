"""Text styles, measurement and word wrapping for the page layout.

Lengths are PostScript points (1/72 inch). Widths are measured with matplotlib's Agg
renderer at 72 dpi, where one pixel is one point, with the fonts the PDF embeds; a small
safety factor covers the difference between hinted raster and PDF glyph advances.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

#: Measured widths are multiplied by this before comparing with the space available.
WIDTH_SAFETY = 1.03

#: Line pitch as a multiple of the font size.
LINE_SPACING = 1.3

#: Position of the baseline below the top of a line, as a multiple of the font size
#: (DejaVu Sans: ascent 0.93 em, descent 0.24 em, centred in a 1.3 em line).
BASELINE_FRACTION = 1.0


@dataclass(frozen=True)
class TextStyle:
    """Font and colour of a run of text.

    Attributes
    ----------
    size_pt : float
        Font size in points.
    weight : str
        ``"normal"`` or ``"bold"``.
    italic : bool
        Italic (oblique) face.
    color : str
        Any matplotlib colour.
    family : str
        ``"sans-serif"`` or ``"monospace"``.
    """

    size_pt: float
    weight: str = "normal"
    italic: bool = False
    color: str = "#1a1a1a"
    family: str = "sans-serif"

    @property
    def line_height_pt(self) -> float:
        """Distance between consecutive baselines (points)."""
        return self.size_pt * LINE_SPACING

    @property
    def baseline_pt(self) -> float:
        """Distance from the top of a line to its baseline (points)."""
        return self.size_pt * BASELINE_FRACTION

    def font(self) -> FontProperties:
        """The matplotlib font properties of this style."""
        return FontProperties(
            family=self.family,
            size=self.size_pt,
            weight=self.weight,
            style="italic" if self.italic else "normal",
        )

    def with_(self, **changes: object) -> TextStyle:
        """A copy with some attributes changed."""
        values = {**self.__dict__, **changes}
        return TextStyle(**values)


@cache
def _renderer() -> RendererAgg:
    return RendererAgg(10, 10, 72)


@cache
def _measure(text: str, size_pt: float, weight: str, italic: bool, family: str) -> float:
    style = TextStyle(size_pt, weight, italic, family=family)
    width, _, _ = _renderer().get_text_width_height_descent(text, style.font(), ismath=False)
    return float(width) * WIDTH_SAFETY


def text_width_pt(text: str, style: TextStyle) -> float:
    """Width of ``text`` set in ``style``, in points (with the safety factor).

    >>> text_width_pt("", TextStyle(10))
    0.0
    >>> text_width_pt("WW", TextStyle(10)) > text_width_pt("ii", TextStyle(10))
    True
    """
    if not text:
        return 0.0
    return _measure(text, style.size_pt, style.weight, style.italic, style.family)


def _break_word(word: str, width_pt: float, style: TextStyle) -> list[str]:
    """Cut a word too long for one line into pieces that fit (at least one character each)."""
    pieces: list[str] = []
    rest = word
    while rest:
        low, high = 1, len(rest)  # the longest prefix that fits, by bisection (width grows with n)
        while low < high:
            mid = (low + high + 1) // 2
            if text_width_pt(rest[:mid], style) <= width_pt:
                low = mid
            else:
                high = mid - 1
        pieces.append(rest[:low])
        rest = rest[low:]
    return pieces


def wrap_text(text: str, width_pt: float, style: TextStyle) -> list[str]:
    """Split ``text`` into lines no wider than ``width_pt`` points.

    Words are separated by spaces; ``"\\n"`` forces a line break; a word wider than the line
    is cut between characters. An empty text gives one empty line.

    >>> wrap_text("alpha beta gamma", 1000.0, TextStyle(10))
    ['alpha beta gamma']
    >>> wrap_text("alpha beta gamma", text_width_pt("alpha beta", TextStyle(10)), TextStyle(10))
    ['alpha beta', 'gamma']
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width_pt(candidate, style) <= width_pt:
                line = candidate
                continue
            if line:
                lines.append(line)
            pieces = _break_word(word, width_pt, style)
            lines.extend(pieces[:-1])
            line = pieces[-1]
        lines.append(line)
    return lines


def longest_word_pt(text: str, style: TextStyle) -> float:
    """Width of the widest word of ``text`` (points): the narrowest column that avoids cutting
    words."""
    return max((text_width_pt(word, style) for word in text.split()), default=0.0)


def widest_line_pt(text: str, style: TextStyle) -> float:
    """Width of the widest explicit line of ``text`` (points), without wrapping."""
    return max(text_width_pt(line, style) for line in text.split("\n"))


def truncate(text: str, width_pt: float, style: TextStyle) -> str:
    """``text`` shortened with an ellipsis to fit ``width_pt`` points (for page headers).

    >>> truncate("short", 1000.0, TextStyle(8))
    'short'
    """
    if text_width_pt(text, style) <= width_pt:
        return text
    n = len(text)
    while n > 0 and text_width_pt(text[:n] + "…", style) > width_pt:
        n -= 1
    return text[:n].rstrip() + "…"
