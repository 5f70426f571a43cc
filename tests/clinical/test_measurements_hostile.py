"""Measurement tables found by fuzzing: each is refused naming the row, column and fix, or read
correctly; never a csv, decoding or memory error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opensirt.clinical.measurements import MAX_TABLE_BYTES, parse_measurements, read_measurements
from opensirt.errors import InputError

DATA = Path(__file__).parent / "data" / "measurements.csv"
HEADER = (
    "patient_id,lesion_id,date,role,organ,is_node,longest_diameter_mm,short_axis_mm,"
    "viable_diameter_mm,enhancing_area_mm2,status"
)


def _table(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            "P1,L1,2026-01-10,target,liver,false,5_2,,,,present",
            r"row 2: longest_diameter_mm is '5_2', expected a decimal number of mm",
        ),
        ("P1,L1,2026-01-10,target,liver,false,0x1f,,,,present", r"'0x1f', expected a decimal"),
        ("P1,L1,2026-01-10,target,liver,false,١٢,,,,present", r"expected a decimal number"),
        (
            "P1,L1,2026-01-10,target,liver,false,1e308,,,,present",
            r"longest_diameter_mm is '1e308', expected at most 500 mm",
        ),
        (
            "P1,L1,2026-01-10,target,liver,false,52,,,1e12,present",
            r"enhancing_area_mm2 is '1e12', expected at most 250000 mm2",
        ),
        (
            "P1,L1,2026-01-10,target,liver,false,40,,48,,present",
            r"viable_diameter_mm is '48', expected at most the longest_diameter_mm 40",
        ),
        (
            "P1,L1,2026-01-10,target,liver,false,40,,,,absent",
            r"row 2: longest_diameter_mm is '40', expected 0 or an empty cell for a lesion whose "
            r"status is 'absent'",
        ),
        (
            "P1,N1,2026-01-10,target,node,true,,18,,,absent",
            r"short_axis_mm is '18', expected below 10 mm for an 'absent' \(normal\) node",
        ),
        (
            "P1," + "L" * 3000 + ",2026-01-10,target,liver,false,40,,,,present",
            r"lesion_id is 'LLLL.*\(3000 characters\)', expected at most 64 characters",
        ),
    ],
)
def test_bad_cells_are_refused(row: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        parse_measurements(_table(row))


def test_absent_lesion_without_size_and_normal_node_are_accepted() -> None:
    rows, _ = parse_measurements(
        _table(
            "P1,L1,2026-01-10,target,liver,false,40,,30,900,present",
            "P1,N1,2026-01-10,target,node,true,,20,,,present",
            "P1,L1,2026-03-10,target,liver,false,0,,,,absent",
            "P1,N1,2026-03-10,target,node,true,,8,,,absent",
        )
    )
    assert [r.longest_diameter_mm for r in rows] == [40.0, None, 0.0, None]
    assert rows[3].short_axis_mm == 8.0


def test_duplicated_column_is_refused() -> None:
    text = _table("P1,L1,2026-01-10,target,liver,false,40,,,,present,30")
    text = text.replace(HEADER, HEADER + ",longest_diameter_mm", 1)
    with pytest.raises(InputError, match=r"names column 'longest_diameter_mm' twice"):
        parse_measurements(text)


def test_huge_cell_is_a_clean_error() -> None:
    row = "P1,L1,2026-01-10,target,liver,false,40,,,,present," + "x" * 200_000
    text = _table(row).replace(HEADER, HEADER + ",notes", 1)
    with pytest.raises(InputError, match=r"line 2: not valid CSV \(field larger than"):
        parse_measurements(text)


def test_nul_bytes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"NUL character"):
        parse_measurements(_table("P1,L1,2026-01-10,target,liver,false,4\x000,,,,present"))
    path = tmp_path / "m.csv"
    path.write_bytes(DATA.read_bytes().replace(b"52", b"5\x002"))
    with pytest.raises(InputError, match=r"line 2 of the measurement table holds a NUL"):
        read_measurements(path)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_spreadsheet_unicode_encodings_are_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(DATA.read_text(encoding="utf-8").encode(encoding))
    rows, _ = read_measurements(path)
    assert rows == read_measurements(DATA)[0]


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_other_encodings_name_the_fix(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "m.csv"
    text = DATA.read_text(encoding="utf-8").replace("lymph node", "ganglion lymphatique ré")
    path.write_bytes(text.encode(encoding))
    with pytest.raises(InputError, match=r"not valid UTF-8 text .* save it as UTF-8"):
        read_measurements(path)


def test_size_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    with path.open("wb") as stream:
        stream.truncate(MAX_TABLE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(InputError, match=r"larger than the 10 MiB a measurement table"):
        read_measurements(path)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "/proc/self"])
def test_devices_and_folders_are_refused(special: str) -> None:
    if not os.path.exists(special):
        pytest.skip(f"{special} does not exist here")
    with pytest.raises(InputError, match=r"(is a folder|not a regular file)"):
        read_measurements(special)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "m.csv"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"not a regular file"):
        read_measurements(fifo)
