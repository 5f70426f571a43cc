"""The measurement table separated by commas, semicolons or tabs, and decimal commas."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensirt.clinical.measurements import parse_measurements, sniff_delimiter
from opensirt.errors import InputError

SPEC = (Path(__file__).parent / "data" / "measurements.csv").read_text()


def _european(text: str, delimiter: str = ";") -> str:
    """``text`` as a spreadsheet with a European locale saves it: ``;`` and decimal commas."""
    d = delimiter
    return (
        text.replace(",", d).replace(f"{d}52{d}", f"{d}52,0{d}").replace(f"{d}48{d}", f"{d}48,0{d}")
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    assert sniff_delimiter(SPEC.replace(",", delimiter)) == delimiter


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_tables_read_like_the_comma_table(delimiter: str) -> None:
    rows, warnings = parse_measurements(SPEC)
    text = _european(SPEC, delimiter)
    assert "52,0" in text
    assert parse_measurements(text) == (rows, warnings)


def test_a_decimal_comma_is_read_in_a_semicolon_table() -> None:
    text = SPEC.replace(",", ";").replace(";52;", ";52,5;", 1)
    rows, _ = parse_measurements(text)
    assert rows[0].longest_diameter_mm == 52.5


def test_both_decimal_marks_in_one_table_are_refused() -> None:
    text = SPEC.replace(",", ";").replace(";52;", ";52,5;", 1).replace(";31;", ";31.5;", 1)
    with pytest.raises(InputError, match=r"row 2 writes a decimal comma .* row 3 a decimal point"):
        parse_measurements(text, source="m.csv")


@pytest.mark.parametrize("cell", ["1.234,5", "1,234,5", ",", "5_2,1", "1,5e"])
def test_thousands_separators_and_odd_numbers_are_refused(cell: str) -> None:
    text = SPEC.replace(",", ";").replace(";52;", f";{cell};", 1)
    with pytest.raises(InputError, match=r"row 2: longest_diameter_mm is .*like 52, 52.5 or 52,5"):
        parse_measurements(text)


def test_a_decimal_comma_in_a_comma_table_is_refused() -> None:
    text = SPEC.replace(",52,", ',"52,5",', 1)
    with pytest.raises(InputError, match=r"row 2: longest_diameter_mm is '52,5', .*like 52 or"):
        parse_measurements(text)


def test_the_bounds_hold_with_a_decimal_comma() -> None:
    text = SPEC.replace(",", ";").replace(";52;", ";520,5;", 1)
    with pytest.raises(
        InputError, match=r"row 2: longest_diameter_mm is '520,5', expected at most"
    ):
        parse_measurements(text)


def test_an_unknown_separator_is_explained() -> None:
    with pytest.raises(InputError, match="separated by commas, semicolons or tabs"):
        parse_measurements(SPEC.replace(",", "|"), source="m.csv")
