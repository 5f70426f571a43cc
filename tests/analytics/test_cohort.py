"""The cohort table: reading, the checks that name the line and the column, writing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensirt.analytics.cohort import COLUMN_NAMES, read_cohort, write_cohort
from opensirt.cli import app
from opensirt.errors import InputError

HEADER = (
    "patient_id,group,diagnosis,os_months,death,pfs_months,progression,best_response,"
    "response_criteria,tumour_dose_gy,normal_liver_dose_gy,liver_toxicity_grade,ecog\n"
)
GOOD = (
    HEADER
    + """P1,A,HCC,12.5,1,6.1,1,pr,mRECIST,150,40,0,1
P2,B,crc,30,0,,,SD,recist1.1,,,,0
P3,,,4,1,4,1,,,95.5,22,3,
"""
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_and_normalises_a_good_table(tmp_path: Path) -> None:
    cohort = read_cohort(_write(tmp_path, GOOD))
    frame = cohort.frame
    assert cohort.n == 3
    assert frame["diagnosis"].tolist() == ["hcc", "crc", ""]
    assert frame["best_response"].tolist() == ["PR", "SD", ""]
    assert frame["response_criteria"].tolist() == ["mrecist", "recist1.1", ""]
    assert frame["death"].tolist() == [1, 0, 1]
    assert frame["pfs_months"].isna().tolist() == [False, True, False]
    assert cohort.extra_columns == ("ecog",)


def test_write_then_read_gives_the_same_table(tmp_path: Path) -> None:
    cohort = read_cohort(_write(tmp_path, GOOD))
    out = write_cohort(cohort, tmp_path / "out" / "again.csv")
    again = read_cohort(out)
    assert list(again.frame.columns) == [*COLUMN_NAMES, "ecog"]
    assert again.frame.equals(cohort.frame.astype(again.frame.dtypes.to_dict()))
    assert not list(out.parent.glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("os_months,death", "os_months,died"),
         r"line 1 \(the header\): column death is missing"),
        (lambda t: t.replace("P2,B,crc,30,", "P2,B,crc,-3,"),
         r"line 3, column os_months: '-3' is negative, expected a time in months >= 0"),
        (lambda t: t.replace("P3,,,4,1,", "P3,,,4,2,"),
         r"line 4, column death: '2' is not a flag, expected 0 or 1"),
        (lambda t: t.replace("P3,,,4", "P1,,,4"),
         r"line 4, column patient_id: 'P1' repeats line 2, expected a unique id"),
        (lambda t: t.replace("P2,B,crc,30", "P2,B,crc,"),
         r"line 3, column os_months: the cell is empty"),
        (lambda t: t.replace("P1,A,HCC,12.5", "P1,A,HCC,twelve"),
         r"line 2, column os_months: 'twelve' is not a number"),
        (lambda t: t.replace(",pr,", ",partial,"),
         r"line 2, column best_response: 'partial' is not a known code"),
        (lambda t: t.replace("40,0,1", "40,7,1"),
         r"line 2, column liver_toxicity_grade: '7' is not a grade"),
        (lambda t: t.replace("6.1,1,pr", "6.1,,pr"),
         r"line 2, column progression: the cell is empty while pfs_months is given"),
    ],
)  # fmt: skip
def test_bad_tables_name_the_line_and_the_column(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(InputError, match=message):
        read_cohort(path)


def test_bad_table_on_the_command_line_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("P3,,,4,1,", "P3,,,4,2,"))
    result = CliRunner().invoke(app, ["analytics", "response", "--cohort", str(path)])
    assert result.exit_code == 2
    assert "line 4, column death" in " ".join(result.output.split())


def test_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the cohort table is empty"):
        read_cohort(_write(tmp_path, "\n"))


def test_semicolon_table_gets_a_hint(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="separated by semicolons"):
        read_cohort(_write(tmp_path, "patient_id;os_months;death\nA;1;0\n"))
