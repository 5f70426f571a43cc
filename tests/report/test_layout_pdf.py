"""Pagination, page furniture, text that stays on the page, and the PDF and PNG files.

The PDFs are read back with PDFium (pypdfium2): the text of each page and the boxes of its
characters, so that what is checked is what a reader sees.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from matplotlib.figure import Figure

from opensirt.errors import InputError
from opensirt.report.document import (
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Severity,
    Table,
)
from opensirt.report.pdf import DISCLAIMER, render_png_pages, write_pdf, write_png_pages
from opensirt.report.story import column_widths

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
N_LONG_ROWS = 90
N_WARNINGS = 26  # 25 warnings and one critical notice, see conftest.long_document
MARGIN_X_PT = 49.0  # text stays inside the 50 pt side margins (1 pt for glyph overhang)
MARGIN_Y_PT = 20.0  # and no closer than this to the top and bottom edges


def page_texts(path: Path) -> list[str]:
    """The text of every page, as PDFium extracts it."""
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def char_boxes(path: Path) -> list[tuple[float, float, np.ndarray]]:
    """Per page: its width and height (points) and the boxes (left, bottom, right, top) of
    its visible characters."""
    pdf = pypdfium2.PdfDocument(str(path))
    out = []
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            text = page.get_textpage()
            boxes = [
                text.get_charbox(c)
                for c in range(text.count_chars())
                if not text.get_text_range(c, 1).isspace()
            ]
            width, height = page.get_size()
            out.append((width, height, np.array(boxes, dtype=float).reshape(-1, 4)))
    finally:
        pdf.close()
    return out


def assert_text_on_the_page(path: Path) -> None:
    for number, (width, height, boxes) in enumerate(char_boxes(path), start=1):
        assert boxes.size, f"page {number} has no text"
        assert boxes[:, 0].min() >= MARGIN_X_PT, f"page {number}: text beyond the left margin"
        assert boxes[:, 2].max() <= width - MARGIN_X_PT, f"page {number}: text beyond the right"
        assert boxes[:, 1].min() >= MARGIN_Y_PT, f"page {number}: text below the bottom margin"
        assert boxes[:, 3].max() <= height - MARGIN_Y_PT, f"page {number}: text above the top"


def test_long_document_paginates_every_row_and_warning_once(
    document: ReportDocument, tmp_path: Path
) -> None:
    texts = page_texts(write_pdf(document, tmp_path / "long.pdf"))
    assert len(texts) >= 4
    whole = "\n".join(texts)
    rows = sorted(int(n) for n in re.findall(r"\bRow (\d+)\b", whole))
    assert rows == list(range(N_LONG_ROWS))
    warnings = sorted(int(n) for n in re.findall(r"\bWarning (\d+):", whole))
    assert warnings == list(range(N_WARNINGS - 1))
    assert "CRITICAL" in whole
    assert "refused" in whole
    assert whole.count("Table 1: Long table") == 1


def test_a_split_table_repeats_its_header_row(document: ReportDocument, tmp_path: Path) -> None:
    texts = page_texts(write_pdf(document, tmp_path / "long.pdf"))
    with_rows = [text for text in texts if re.search(r"\bRow \d+\b", text)]
    assert len(with_rows) >= 2, "the long table is split"
    for text in with_rows:
        head = text.index("Dose (Gy)")
        assert head < text.index("Row "), "the header row comes first on every page"


def test_every_page_has_header_and_footer(document: ReportDocument, tmp_path: Path) -> None:
    path = write_pdf(document, tmp_path / "long.pdf")
    texts = page_texts(path)
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text
        assert DISCLAIMER in text
        assert "Patient: TEST-001" in text
        assert "Long test report" in text
        assert "OpenSIRT" in text
        assert "created 2026-03-01 09:30" in text
    assert_text_on_the_page(path)


def test_dollar_signs_are_printed_as_written(document: ReportDocument, tmp_path: Path) -> None:
    whole = " ".join(page_texts(write_pdf(document, tmp_path / "long.pdf")))
    assert "A paragraph $with dollars$ that must not become math." in " ".join(whole.split())


def test_column_widths_fill_the_body_and_keep_short_columns_whole() -> None:
    table = Table(("Item", "Dose (Gy)", "Comment"), (("Row 1", "12.5", "word " * 80),))
    widths = column_widths(table, 480.0)
    assert sum(widths) == pytest.approx(480.0)
    assert widths[0] < 60.0
    assert widths[1] < 60.0
    assert widths[2] > 360.0  # the long one takes the rest and wraps


HOSTILE_NAME = "<T1 & core>"
LONG_WORD = "Segment" + "VIII" * 60  # 247 characters without a space


def hostile_document() -> ReportDocument:
    return ReportDocument(
        title="Report " + LONG_WORD,
        patient_id="P-" + "9" * 120,
        created=CREATED,
        subtitle=LONG_WORD,
        warnings=(Notice(f"{HOSTILE_NAME} {LONG_WORD}", Severity.CRITICAL),),
        sections=(
            Section("Empty section"),
            Section(
                f"Names {HOSTILE_NAME}",
                (
                    f"Structure {HOSTILE_NAME} and {LONG_WORD}.",
                    Table(
                        ("Structure", "Note", "Dose (Gy)"),
                        ((HOSTILE_NAME, LONG_WORD, 12.5), (LONG_WORD, "x", 3.0)),
                        caption=f"About {HOSTILE_NAME}",
                    ),
                ),
            ),
        ),
        signature=None,
    )


def test_hostile_text_is_escaped_and_wrapped_inside_the_page(tmp_path: Path) -> None:
    path = write_pdf(hostile_document(), tmp_path / "hostile.pdf")
    whole = "".join("".join(page_texts(path)).split())
    assert whole.count("<T1&core>") >= 5  # notice, heading, paragraph, caption, cell
    assert whole.count(LONG_WORD) >= 3  # cut between lines, no character lost
    assert "1 Empty section" in " ".join(" ".join(page_texts(path)).split())
    assert_text_on_the_page(path)


UNICODE_TEXT = "D₇₀ ≥ 120 Gy ± 5 %, ≤ 0.5 µm — α β γ Δ"


def test_unicode_text_is_embedded_and_extractable(tmp_path: Path, pdftotext: object) -> None:
    doc = ReportDocument(
        title="Unicode µ",
        patient_id="Ω-1",
        created=CREATED,
        sections=(
            Section("Δ section", (UNICODE_TEXT, Table(("Q", "Value"), ((UNICODE_TEXT, 1),)))),
        ),
    )
    path = write_pdf(doc, tmp_path / "unicode.pdf")
    assert b"DejaVuSans" in path.read_bytes()
    assert " ".join(page_texts(path)[0].split()).count(UNICODE_TEXT) == 2
    assert callable(pdftotext)
    assert pdftotext(path).count(UNICODE_TEXT) == 2


def dvh_document() -> ReportDocument:
    from opensirt.report.figures import DvhCurve, dvh_figure

    dose = np.linspace(0.0, 200.0, 400)
    curves = {
        "T1": DvhCurve(dose, np.clip(1.2 - dose / 150.0, 0.0, 1.0)),
        "Normal liver": DvhCurve(dose, np.exp(-dose / 30.0)),
    }
    return ReportDocument(
        title="DVH",
        patient_id="P",
        created=CREATED,
        figures=(ReportFigure(lambda: dvh_figure(curves), "DVH"),),
        signature=None,
    )


def test_a_dvh_figure_is_vector_graphics(tmp_path: Path) -> None:
    path = write_pdf(dvh_document(), tmp_path / "dvh.pdf")
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        kinds = [obj.type for i in range(len(pdf)) for obj in pdf[i].get_objects(max_depth=4)]
    finally:
        pdf.close()
    assert kinds.count(pypdfium2.raw.FPDF_PAGEOBJ_PATH) > 100  # curves, axes, glyph outlines
    assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in kinds  # no raster of the figure


def test_pdf_is_valid_with_pages_and_metadata(document: ReportDocument, tmp_path: Path) -> None:
    path = write_pdf(document, tmp_path / "report.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    n_pages = len(page_texts(path))
    assert b"(OpenSIRT)" in data
    assert b"(Long test report)" in data
    assert b"D:20260301093000Z" in data  # CreationDate = document.created
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        assert re.search(rf"Pages:\s+{n_pages}\b", info.stdout)
        assert "A4" in info.stdout


def test_pdf_text_is_extractable(small_doc: ReportDocument, tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) not installed")
    path = write_pdf(small_doc, tmp_path / "small.pdf")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Page 1 of 1" in text
    assert "TEST-002" in text
    assert DISCLAIMER in text


def test_pdf_is_reproducible(small_doc: ReportDocument, tmp_path: Path) -> None:
    first = write_pdf(small_doc, tmp_path / "a.pdf").read_bytes()
    second = write_pdf(small_doc, tmp_path / "b.pdf").read_bytes()
    assert first == second


def test_a_figure_object_survives_two_renders(tmp_path: Path) -> None:
    figure = Figure(figsize=(6.0, 3.0))
    figure.add_subplot().plot([0, 1], [1, 0])
    doc = ReportDocument("t", "p", CREATED, figures=(ReportFigure(figure, "f"),))
    first = write_pdf(doc, tmp_path / "a.pdf").read_bytes()
    assert write_pdf(doc, tmp_path / "b.pdf").read_bytes() == first


def test_failed_render_leaves_no_file(small_doc: ReportDocument, tmp_path: Path) -> None:
    def broken() -> Figure:
        raise RuntimeError("figure failed")

    bad = ReportDocument(
        title="t",
        patient_id="p",
        created=small_doc.created,
        sections=(Section("s", (ReportFigure(broken),)),),
    )
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old report")
    with pytest.raises(RuntimeError, match="figure failed"):
        write_pdf(bad, target)
    assert target.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_output_folder_is_created_and_a_folder_target_refused(
    small_doc: ReportDocument, tmp_path: Path
) -> None:
    assert write_pdf(small_doc, tmp_path / "new" / "report.pdf").is_file()
    with pytest.raises(InputError, match="is a folder, expected a file name"):
        write_pdf(small_doc, tmp_path)


def test_png_pages(small_doc: ReportDocument, tmp_path: Path) -> None:
    paths = write_png_pages(small_doc, tmp_path, dpi=30)
    assert [p.name for p in paths] == ["page-001.png"]
    data = paths[0].read_bytes()
    assert data.startswith(b"\x89PNG")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert abs(width - 248) <= 1
    assert abs(height - 351) <= 1


def test_png_pages_of_a_written_pdf(document: ReportDocument, tmp_path: Path) -> None:
    path = write_pdf(document, tmp_path / "long.pdf")
    paths = render_png_pages(path, tmp_path / "png", dpi=20)
    assert len(paths) == len(page_texts(path))
    with pytest.raises(InputError, match="expected a positive number"):
        render_png_pages(path, tmp_path / "png", dpi=0)


def test_a_row_taller_than_a_page_is_split_between_lines(tmp_path: Path) -> None:
    huge = "line " * 4000
    doc = ReportDocument(
        title="t",
        patient_id="p",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        sections=(Section("s", (Table(("Key", "Long text"), (("x", huge), ("y", "short"))),)),),
        signature=None,
    )
    path = write_pdf(doc, tmp_path / "tall.pdf")
    texts = page_texts(path)
    assert len(texts) >= 3
    assert sum(text.split().count("line") for text in texts) == 4000
    assert all("Long text" in text for text in texts)  # the header row on every page
    assert "short" in texts[-1]
    assert_text_on_the_page(path)


def test_hatched_bars_are_drawn(tmp_path: Path) -> None:
    figure = Figure(figsize=(6.0, 3.0))
    figure.add_subplot(121).bar([0, 1], [2, 3], hatch="///", color="#1f3a5f")
    figure.add_subplot(122).plot([0, 1], [1, 0])
    doc = ReportDocument("t", "p", CREATED, figures=(ReportFigure(figure, "hatched"),))
    path = write_pdf(doc, tmp_path / "hatch.pdf")
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        kinds = [obj.type for obj in pdf[0].get_objects(max_depth=4)]
    finally:
        pdf.close()
    # svglib cannot fill SVG patterns: the hatched axes comes as one image, the other as paths
    assert kinds.count(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE) == 1
    assert kinds.count(pypdfium2.raw.FPDF_PAGEOBJ_PATH) > 20
    assert not figure.axes[0].get_rasterized()  # the caller's figure is left as it was
