"""Shared builders for the report tests: small documents and volumes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest
from matplotlib.figure import Figure

from opensirt.imaging.volume import Volume
from opensirt.report.document import (
    Highlight,
    Notice,
    ReportDocument,
    ReportFigure,
    Section,
    Severity,
    Table,
)

CREATED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
N_LONG_ROWS = 90
N_WARNINGS = 25


def small_figure() -> Figure:
    figure = Figure(figsize=(7.0, 3.0))
    ax = figure.add_subplot()
    ax.plot([0, 1, 2], [2, 1, 0])
    return figure


def long_document() -> ReportDocument:
    """Many warnings and a long table with wrapping cells: needs several pages."""
    rows = tuple(
        (f"Row {i}", 1.5 + i, f"comment {i} " + "with words that wrap " * (1 + i % 4))
        for i in range(N_LONG_ROWS)
    )
    warnings = tuple(
        Notice(f"Warning {i}: " + "check this value against the limit. " * (1 + i % 3))
        for i in range(N_WARNINGS)
    )
    return ReportDocument(
        title="Long test report",
        patient_id="TEST-001",
        created=CREATED,
        warnings=(*warnings, Notice("refused", Severity.CRITICAL)),
        sections=(
            Section(
                "Tables",
                (
                    "A paragraph $with dollars$ that must not become math. " * 12,
                    Table(
                        ("Item", "Dose (Gy)", "Comment"),
                        rows,
                        caption="Long table",
                        highlight_rows={3: Highlight.BINDING, 7: Highlight.FAILED},
                    ),
                    ReportFigure(small_figure, "A figure"),
                ),
            ),
        ),
    )


@pytest.fixture
def document() -> ReportDocument:
    return long_document()


@pytest.fixture
def small_doc() -> ReportDocument:
    """A one-page document with one small table."""
    return ReportDocument(
        title="Small report",
        patient_id="TEST-002",
        created=CREATED,
        sections=(Section("Only", ("Text.", Table(("A", "B (Gy)"), (("x", 1.0),)))),),
    )


@pytest.fixture
def make_volume() -> Callable[..., Volume]:
    return box_volume


def box_volume(
    shape_kji: tuple[int, int, int] = (10, 12, 14),
    spacing_mm: tuple[float, float, float] = (2.0, 3.0, 4.0),
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0),
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
    units: str = "HU",
    fill: float = 40.0,
) -> Volume:
    return Volume(np.full(shape_kji, fill), spacing_mm, origin_mm, direction, units=units)
