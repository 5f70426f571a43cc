"""Render a :class:`~opensirt.report.document.ReportDocument` to a multi-page A4 PDF.

matplotlib draws every page (no LaTeX, no other dependency); text is embedded as TrueType
(``pdf.fonttype`` 42) so that it can be searched and copied. Each page carries a header (title,
patient pseudonym, page x of n, the research-software notice) and a footer (software version,
creation time, result fingerprint). The PDF creation date is the document's ``created`` time,
so the same document always gives the same bytes.

Files are written atomically: to a temporary file in the target folder, then renamed over the
target, so that an error never leaves a partial report behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from opensirt.errors import InputError
from opensirt.fileio import write_atomically
from opensirt.report.document import ReportDocument
from opensirt.report.flowables import ACCENT, MUTED, RULE, Canvas
from opensirt.report.layout import PageGeometry, Placement, layout_document
from opensirt.report.text import TextStyle, text_width_pt, truncate

#: Printed on every page.
DISCLAIMER = "Research software - not a certified medical device"

_HEAD = TextStyle(8.5, weight="bold", color=ACCENT)
_HEAD_NOTE = TextStyle(7.5, weight="bold", color="#9b1c1c")
_FOOT = TextStyle(7.0, color=MUTED)
_RC: dict[Any, Any] = {"pdf.fonttype": 42, "pdf.compression": 6, "svg.fonttype": "none"}


def _software_line(document: ReportDocument) -> str:
    provenance = document.provenance
    version = provenance.opensirt_version if provenance else _installed_version()
    parts = [
        f"OpenSIRT {version}",
        f"created {document.created.isoformat(sep=' ', timespec='minutes')}",
    ]
    if document.footer_note:
        parts.append(document.footer_note)
    return "  ·  ".join(parts)


def _installed_version() -> str:
    from opensirt import __version__

    return __version__


def _draw_header_footer(
    canvas: Canvas, document: ReportDocument, geometry: PageGeometry, number: int, total: int
) -> None:
    left = geometry.margin_x_pt
    right = geometry.width_pt - geometry.margin_x_pt
    patient = f"Patient: {document.patient_id}"
    patient_width = min(text_width_pt(patient, _HEAD), 0.45 * geometry.body_width_pt)
    canvas.text(right, 34.0, truncate(patient, patient_width, _HEAD), _HEAD, ha="right")
    title_room = geometry.body_width_pt - patient_width - 16.0
    canvas.text(left, 34.0, truncate(document.title, title_room, _HEAD), _HEAD)
    canvas.text(left, 46.0, DISCLAIMER, _HEAD_NOTE)
    canvas.text(right, 46.0, f"Page {number} of {total}", _HEAD, ha="right")
    canvas.hline(left, right, 52.0, ACCENT, 0.8)

    foot_y = geometry.height_pt - 34.0
    canvas.hline(left, right, foot_y, RULE, 0.5)
    fingerprint = (
        f"result fingerprint {document.provenance.short_fingerprint}" if document.provenance else ""
    )
    fingerprint_width = text_width_pt(fingerprint, _FOOT)
    room = geometry.body_width_pt - fingerprint_width - 12.0
    canvas.text(left, foot_y + 11.0, truncate(_software_line(document), room, _FOOT), _FOOT)
    canvas.text(right, foot_y + 11.0, fingerprint, _FOOT, ha="right")


def _page_figure(geometry: PageGeometry) -> Figure:
    figure = Figure(figsize=(geometry.width_pt / 72.0, geometry.height_pt / 72.0), dpi=72)
    FigureCanvasAgg(figure)
    return figure


def render_page(
    document: ReportDocument,
    placements: list[Placement],
    number: int,
    total: int,
    geometry: PageGeometry,
) -> Figure:
    """Draw one page (header, footer and its placed blocks) on a new A4 figure."""
    figure = _page_figure(geometry)
    canvas = Canvas(figure)
    _draw_header_footer(canvas, document, geometry, number, total)
    for placement in placements:
        placement.flowable.draw(canvas, geometry.margin_x_pt, placement.y_pt)
    return figure


def iter_pages(document: ReportDocument, geometry: PageGeometry | None = None) -> Iterator[Figure]:
    """Lay ``document`` out and yield its pages as matplotlib figures, one at a time."""
    geometry = geometry or PageGeometry()
    with mpl.rc_context(_RC):
        pages = layout_document(document, geometry)
    for number, placements in enumerate(pages, start=1):
        with mpl.rc_context(_RC):
            page = render_page(document, placements, number, len(pages), geometry)
        yield page


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"output path {str(path)!r} is a folder, expected a file name")


def write_pdf(document: ReportDocument, path: str | Path) -> Path:
    """Write ``document`` as an A4 PDF at ``path`` (atomically) and return the path.

    Missing parent folders are created. PDF metadata: Title, Subject (subtitle), Author
    "OpenSIRT", Creator (version) and CreationDate (``document.created``); the output is
    byte-for-byte reproducible.
    """
    target = Path(path)
    metadata = {
        "Title": document.title,
        "Subject": document.subtitle or document.title,
        "Author": "OpenSIRT",
        "Creator": f"OpenSIRT {_installed_version()}",
        "CreationDate": document.created,
        "Keywords": f"patient {document.patient_id}; {DISCLAIMER}",
    }

    def write(temporary: Path) -> None:
        with mpl.rc_context(_RC), PdfPages(temporary, metadata=metadata) as pdf:
            for page in iter_pages(document):
                pdf.savefig(page)

    _check_target(target)
    write_atomically(target, write)
    return target


def _save_png(page: Figure, temporary: Path, dpi: float) -> None:
    page.savefig(temporary, dpi=dpi, format="png")


def write_png_pages(document: ReportDocument, folder: str | Path, dpi: float = 100.0) -> list[Path]:
    """Write each page as ``page-001.png``, ``page-002.png``... in ``folder`` (atomically each,
    creating the folder if needed).

    Returns the paths in page order. For previews; the PDF is the document of record.
    """
    out_folder = Path(folder)
    _check_target(out_folder / "page-001.png")
    paths: list[Path] = []
    for number, page in enumerate(iter_pages(document), start=1):
        target = out_folder / f"page-{number:03d}.png"
        write_atomically(target, partial(_save_png, page, dpi=dpi))
        paths.append(target)
    return paths
