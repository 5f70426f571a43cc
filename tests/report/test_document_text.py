"""The document model's validation, number formatting and the escaping of user text."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.errors import InputError
from opensirt.report.document import (
    Highlight,
    Notice,
    ReportDocument,
    Section,
    Severity,
    Signature,
    Table,
    format_value,
)
from opensirt.report.story import markup, paragraph


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.23456, "1.23"),  # 3 significant digits: 2 decimals below 10
        (12.345, "12.3"),
        (120.5, "120"),  # Python rounds half to even: 120.5 -> "120"
        (1234.5, "1234"),  # no exponent below 1e6, no decimals above 100
        (0.0081, "0.00810"),  # 3 significant digits of 8.1e-3
        (2.5e-4, "2.50e-04"),  # below 1e-3: exponent form
        (0.0, "0"),
        (7, "7"),
        (None, "—"),
        (float("inf"), "n/a"),
        ("as given", "as given"),
    ],
)
def test_format_value(value: float | str | None, text: str) -> None:
    assert format_value(value) == text


def test_table_checks_rows_and_highlights() -> None:
    with pytest.raises(InputError, match=r"Table row 1 has 1 cells, expected 2"):
        Table(("A", "B"), (("x", 1), ("y",)))
    with pytest.raises(
        InputError, match=r"highlight_rows names row 5, expected a row index in \[0, 0\]"
    ):
        Table(("A",), (("x",),), highlight_rows={5: Highlight.FAILED})
    table = Table(("A",), (("x",), ("y",)), highlight_rows=[1])
    assert table.highlight_rows == {1: Highlight.BINDING}
    with pytest.raises(InputError, match=r"Table\.align has 2 entries, expected 1"):
        Table(("A",), (("x",),), align=("left", "right"))


def test_document_requires_aware_time_and_pseudonym() -> None:
    with pytest.raises(InputError, match=r"created is .* expected an aware datetime"):
        ReportDocument("t", "p", datetime(2026, 1, 1))
    with pytest.raises(InputError, match="patient_id is empty"):
        ReportDocument("t", " ", datetime.fromisoformat("2026-01-01T00:00+01:00"))


def test_warnings_become_notices_and_bad_blocks_are_refused() -> None:
    created = datetime.fromisoformat("2026-01-01T00:00+01:00")
    doc = ReportDocument("t", "p", created, warnings=("a", Notice("b", "critical")))
    assert [(n.text, n.severity) for n in doc.warnings] == [
        ("a", Severity.WARNING),
        ("b", Severity.CRITICAL),
    ]
    with pytest.raises(InputError, match="warnings is a single string"):
        ReportDocument("t", "p", created, warnings="oops")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="block 0 is int, expected str"):
        Section("s", (3,))  # type: ignore[arg-type]
    with pytest.raises(InputError, match="severity is 'loud'"):
        Notice("x", "loud")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="roles is empty"):
        Signature(roles=())


def test_markup_escapes_and_keeps_line_breaks() -> None:
    assert markup("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    two_lines = paragraph("a\nb")
    two_lines.wrap(500.0, 1e6)
    assert len(two_lines.blPara.lines) == 2


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    words=st.lists(
        st.text(alphabet="abcWM09.,%()<>&;/\"'µ≥≤±—₇₀αΔ", min_size=1, max_size=30),
        min_size=1,
        max_size=25,
    ),
    width=st.floats(min_value=40.0, max_value=400.0),
)
def test_any_text_is_printed_as_written(words: list[str], width: float) -> None:
    text = " ".join(words)
    flowable = paragraph(text)
    _, height = flowable.wrap(width, 1e6)
    assert height > 0
    assert flowable.getPlainText() == text
