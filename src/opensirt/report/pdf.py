"""Render a :class:`~opensirt.report.document.ReportDocument` to a multi-page A4 PDF.

ReportLab's Platypus lays the document out (:mod:`opensirt.report.story` builds its
flowables); a page template draws on every page a header (title, patient pseudonym, the
research-software notice, page x of n) and a footer (software version, creation time, result
fingerprint). Text is set in DejaVu Sans, embedded as a subset, so that it can be searched
and copied. The PDF creation date is the document's ``created`` time and ReportLab's
invariant mode fixes the file identifier, so the same document always gives the same bytes.

Files are written atomically: to a temporary file in the target folder, then renamed over the
target, so that an error never leaves a partial report behind. PNG previews are rendered from
the PDF with PDFium (:mod:`pypdfium2`), so they show exactly what the PDF shows.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import Any

import pypdfium2
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from opensirt.errors import InputError
from opensirt.fileio import write_atomically
from opensirt.report.document import ReportDocument
from opensirt.report.story import build_story
from opensirt.report.styles import (
    ACCENT,
    FOOTER,
    HEADER,
    HEADER_NOTE,
    RULE,
    register_fonts,
    text_width_pt,
)

#: Printed on every page.
DISCLAIMER = "Research software - not a certified medical device"

_MARGIN_X_PT = 50.0
_BODY_TOP_PT = 66.0  # from the top edge of the page
_BODY_BOTTOM_PT = 50.0  # from the bottom edge


def _installed_version() -> str:
    from opensirt import __version__

    return __version__


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


def _truncate(text: str, width_pt: float, style: Any) -> str:
    """``text`` shortened with an ellipsis to fit ``width_pt`` points (for the page header)."""
    if text_width_pt(text, style) <= width_pt:
        return text
    n = len(text)
    while n > 0 and text_width_pt(text[:n] + "…", style) > width_pt:
        n -= 1
    return text[:n].rstrip() + "…"


def _write(canvas: Canvas, x: float, y_from_top: float, text: str, style: Any, right: bool) -> None:
    canvas.setFont(style.fontName, style.fontSize)
    canvas.setFillColor(style.textColor)
    y = A4[1] - y_from_top
    if right:
        canvas.drawRightString(x, y, text)
    else:
        canvas.drawString(x, y, text)


def _rule(canvas: Canvas, y_from_top: float, colour: Any, width_pt: float) -> None:
    canvas.setStrokeColor(colour)
    canvas.setLineWidth(width_pt)
    y = A4[1] - y_from_top
    canvas.line(_MARGIN_X_PT, y, A4[0] - _MARGIN_X_PT, y)


def _draw_page(document: ReportDocument, canvas: Canvas, _doc: BaseDocTemplate) -> None:
    """Header and footer of one page, except the page number (see :class:`_NumberedCanvas`)."""
    canvas.saveState()
    left, right = _MARGIN_X_PT, A4[0] - _MARGIN_X_PT
    body_width = right - left
    patient = f"{document.subject_label}: {document.patient_id}"
    patient_width = min(text_width_pt(patient, HEADER), 0.45 * body_width)
    _write(canvas, right, 34.0, _truncate(patient, patient_width, HEADER), HEADER, right=True)
    title_room = body_width - patient_width - 16.0
    _write(canvas, left, 34.0, _truncate(document.title, title_room, HEADER), HEADER, False)
    _write(canvas, left, 46.0, DISCLAIMER, HEADER_NOTE, right=False)
    _rule(canvas, 52.0, ACCENT, 0.8)

    foot_y = A4[1] - 34.0
    _rule(canvas, foot_y, RULE, 0.5)
    provenance = document.provenance
    fingerprint = f"result fingerprint {provenance.short_fingerprint}" if provenance else ""
    room = body_width - text_width_pt(fingerprint, FOOTER) - 12.0
    software = _truncate(_software_line(document), room, FOOTER)
    _write(canvas, left, foot_y + 11.0, software, FOOTER, right=False)
    _write(canvas, right, foot_y + 11.0, fingerprint, FOOTER, right=True)
    canvas.restoreState()


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """A canvas that holds its pages back until the end to print "Page x of n" on each."""

    def __init__(self, *args: Any, created_pdf_date: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setDateFormatter(lambda *_: created_pdf_date)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802  # ReportLab's method name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            text = f"Page {number} of {total}"
            _write(self, A4[0] - _MARGIN_X_PT, 46.0, text, HEADER, right=True)
            super().showPage()
        super().save()


def _pdf_date(document: ReportDocument) -> str:
    """The PDF date string (ISO 32000-1, 7.9.4) of ``document.created`` in UTC."""
    from datetime import UTC

    return document.created.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def _render(document: ReportDocument, target: Any) -> None:
    """Lay ``document`` out and write the PDF to ``target`` (a path or a binary file)."""
    register_fonts()
    width, height = A4[0] - 2 * _MARGIN_X_PT, A4[1] - _BODY_TOP_PT - _BODY_BOTTOM_PT
    frame = Frame(
        _MARGIN_X_PT,
        _BODY_BOTTOM_PT,
        width,
        height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    template = BaseDocTemplate(
        target,
        pagesize=A4,
        title=document.title,
        subject=document.subtitle or document.title,
        author="OpenSIRT",
        creator=f"OpenSIRT {_installed_version()}",
        producer=f"OpenSIRT {_installed_version()}",
        keywords=f"patient {document.patient_id}; {DISCLAIMER}",
        invariant=1,
        pageCompression=1,
        pageTemplates=[PageTemplate("page", [frame], onPage=partial(_draw_page, document))],
    )
    story = build_story(document, width, height)
    canvas = partial(_NumberedCanvas, created_pdf_date=_pdf_date(document))
    template.build(story, canvasmaker=canvas)


def _check_target(path: Path) -> None:
    if path.is_dir():
        raise InputError(f"output path {str(path)!r} is a folder, expected a file name")


def pdf_bytes(document: ReportDocument) -> bytes:
    """The PDF of ``document`` in memory.

    Parameters
    ----------
    document : ReportDocument
        The report.

    Returns
    -------
    bytes
        The whole PDF file, as :func:`write_pdf` writes it.
    """
    buffer = io.BytesIO()
    _render(document, buffer)
    return buffer.getvalue()


def write_pdf(document: ReportDocument, path: str | Path) -> Path:
    """Write ``document`` as an A4 PDF at ``path`` (atomically) and return the path.

    Missing parent folders are created. PDF metadata: Title, Subject (subtitle), Author
    "OpenSIRT", Creator (version), Keywords (patient, disclaimer) and CreationDate
    (``document.created``); the output is byte-for-byte reproducible.

    Parameters
    ----------
    document : ReportDocument
        The report.
    path : str or Path
        The PDF file to write; an existing file is replaced only once the new one is complete.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    InputError
        If ``path`` is a folder.
    """
    target = Path(path)
    _check_target(target)
    write_atomically(target, lambda temporary: _render(document, str(temporary)))
    return target


def _save_png(pdf: pypdfium2.PdfDocument, index: int, dpi: float, temporary: Path) -> None:
    page = pdf[index]
    try:
        bitmap = page.render(scale=dpi / 72.0)
        bitmap.to_pil().save(temporary, format="PNG")
    finally:
        page.close()


def render_png_pages(pdf: str | Path | bytes, folder: str | Path, dpi: float = 100.0) -> list[Path]:
    """Render each page of a PDF as ``page-001.png``, ``page-002.png``... in ``folder``.

    Pages are rendered with PDFium; each PNG is written atomically and the folder is created
    if needed.

    Parameters
    ----------
    pdf : str, Path or bytes
        The PDF file, or its content.
    folder : str or Path
        Where to write the images.
    dpi : float
        Resolution in pixels per inch of paper (an A4 page at 100 dpi is 827 x 1169 pixels).

    Returns
    -------
    list of Path
        The images in page order.

    Raises
    ------
    InputError
        If ``dpi`` is not positive or ``folder`` names a file.
    """
    if not dpi > 0:
        raise InputError(f"PNG resolution is {dpi!r} dpi, expected a positive number (e.g. 100)")
    out_folder = Path(folder)
    _check_target(out_folder / "page-001.png")
    if out_folder.exists() and not out_folder.is_dir():
        raise InputError(f"PNG folder {str(out_folder)!r} is a file, expected a folder")
    document = pypdfium2.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    paths: list[Path] = []
    try:
        for index in range(len(document)):
            target = out_folder / f"page-{index + 1:03d}.png"
            write_atomically(target, partial(_save_png, document, index, dpi))
            paths.append(target)
    finally:
        document.close()
    return paths


def write_png_pages(document: ReportDocument, folder: str | Path, dpi: float = 100.0) -> list[Path]:
    """Write each page of ``document`` as ``page-001.png``, ``page-002.png``... in ``folder``.

    The PDF is built in memory and its pages rendered by :func:`render_png_pages`. For
    previews; the PDF is the document of record.

    Parameters
    ----------
    document : ReportDocument
        The report.
    folder : str or Path
        Where to write the images (created if needed).
    dpi : float
        Resolution in pixels per inch of paper.

    Returns
    -------
    list of Path
        The images in page order.
    """
    return render_png_pages(pdf_bytes(document), folder, dpi)
