"""Pagination, drawing without overlap, and the PDF and PNG files."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from opensirt.errors import InputError
from opensirt.report.document import ReportDocument, ReportFigure, Section, Table
from opensirt.report.flowables import NoticeBox, TableBlock, column_widths
from opensirt.report.layout import PageGeometry, layout_document
from opensirt.report.pdf import DISCLAIMER, iter_pages, write_pdf, write_png_pages

N_LONG_ROWS = 90
N_WARNINGS = 26  # 25 warnings and one critical notice, see conftest.long_document


def pdf_page_count(data: bytes) -> int:
    """Count page objects (``/Type /Page``, not ``/Pages``): matplotlib writes them plainly."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def test_long_document_paginates_inside_the_body(document: ReportDocument) -> None:
    geometry = PageGeometry()
    pages = layout_document(document, geometry)
    assert len(pages) >= 4
    for page in pages:
        assert page, "no empty pages"
        for placement in page:
            assert placement.y_pt >= geometry.body_top_pt - 1e-9
            assert placement.bottom_pt <= geometry.body_bottom_pt + 1e-9
        for above, below in itertools.pairwise(page):
            assert below.y_pt >= above.bottom_pt - 1e-9, "blocks overlap"


def test_every_row_and_warning_is_placed_exactly_once(document: ReportDocument) -> None:
    blocks = [p.flowable for page in layout_document(document) for p in page]
    rows = [row.index for b in blocks if isinstance(b, TableBlock) for row in b.rows]
    assert rows == list(range(N_LONG_ROWS))
    assert sum(isinstance(b, NoticeBox) for b in blocks) >= N_WARNINGS
    parts = [b for b in blocks if isinstance(b, TableBlock)]
    assert len(parts) >= 2, "the long table is split"
    assert parts[0].caption[0].startswith("Table 1: Long table")
    assert all(part.caption == ["Table 1 (continued)"] for part in parts[1:])


def test_column_widths_fill_the_body_and_keep_short_columns_whole() -> None:
    table = Table(("Item", "Dose (Gy)", "Comment"), (("Row 1", "12.5", "word " * 80),))
    widths = column_widths(table, 480.0)
    assert sum(widths) == pytest.approx(480.0)
    block = TableBlock.create(table, "Table 1", 480.0)
    assert block.rows[0].cells[0] == ["Row 1"]  # short cells are not wrapped
    assert block.rows[0].cells[1] == ["12.5"]
    assert len(block.rows[0].cells[2]) > 1  # the long one is


def _text_boxes(page: Figure) -> list[tuple[str, np.ndarray]]:
    renderer = FigureCanvasAgg(page).get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer).get_points()) for t in page.texts]


def test_rendered_text_never_overlaps_or_leaves_the_page(document: ReportDocument) -> None:
    pages = list(iter_pages(document))
    for number, page in enumerate(pages, start=1):
        boxes = _text_boxes(page)
        texts = [text for text, _ in boxes]
        assert f"Page {number} of {len(pages)}" in texts
        assert DISCLAIMER in texts
        assert "Patient: TEST-001" in texts
        corners = np.array([b for _, b in boxes])  # (n, 2, 2): [[x0, y0], [x1, y1]] pixels
        width, height = page.bbox.width, page.bbox.height
        margin = 20.0  # points: nothing closer to the paper edge
        assert corners[:, 0, 0].min() >= margin
        assert corners[:, 1, 0].max() <= width - margin
        assert corners[:, 0, 1].min() >= margin
        assert corners[:, 1, 1].max() <= height - margin
        lo, hi = corners[:, 0, :] + 0.3, corners[:, 1, :] - 0.3
        overlap = np.all(
            (lo[:, None, :] < hi[None, :, :]) & (lo[None, :, :] < hi[:, None, :]), axis=-1
        )
        np.fill_diagonal(overlap, False)
        pairs = [(texts[i], texts[j]) for i, j in zip(*np.nonzero(overlap), strict=True)]
        assert not pairs, f"page {number}: overlapping text {pairs[:3]}"


def test_dollar_signs_are_not_mathtext(document: ReportDocument) -> None:
    texts = [t for page in iter_pages(document) for t in page.texts if "dollars$" in t.get_text()]
    assert texts
    assert all(not t.get_parse_math() for t in texts)


def test_pdf_is_valid_with_pages_and_metadata(document: ReportDocument, tmp_path: Path) -> None:
    path = write_pdf(document, tmp_path / "report.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    n_pages = len(layout_document(document))
    assert pdf_page_count(data) == n_pages
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
    assert paths[0].read_bytes().startswith(b"\x89PNG")


def test_a_row_taller_than_a_page_is_split_between_lines(tmp_path: Path) -> None:
    huge = "line " * 4000
    doc = ReportDocument(
        title="t",
        patient_id="p",
        created=datetime(2026, 1, 1, tzinfo=UTC),
        sections=(Section("s", (Table(("A", "B"), (("x", huge), ("y", "short"))),)),),
        signature=None,
    )
    pages = layout_document(doc)
    parts = [p.flowable for page in pages for p in page if isinstance(p.flowable, TableBlock)]
    assert len(parts) >= 2
    lines = sum(len(part.rows[0].cells[1]) for part in parts if part.rows[0].index == 0)
    whole = TableBlock.create(doc.sections[0].blocks[0], "Table 1", PageGeometry().body_width_pt)
    assert lines == len(whole.rows[0].cells[1])
