"""Hostile and mistaken case files found by fuzzing: each is refused with a message naming
the key, the value and the plausible range (never planned, never a traceback)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opensirt.errors import CaseFileError
from opensirt.planning import load_case, parse_case
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES

MakeCase = Callable[..., dict[str, Any]]
TERRITORY = {"name": "right lobe", "volume_ml": 1000}
TUMOUR = {"name": "T1", "volume_ml": 150, "tn_ratio": 4.0}


def _territory(**tumour: Any) -> list[dict[str, Any]]:
    return [{**TERRITORY, "tumours": [{**TUMOUR, **tumour}]}]


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"lung": {"shunt_fraction": False}}, r"lung\.shunt_fraction is False: .*valid number"),
        ({"lung": {"shunt_fraction": 0.1, "mass_kg": True}}, r"lung\.mass_kg is True"),
        (
            {"lung": {"shunt_fraction": 0.1, "previous_dose_gy": True}},
            r"lung\.previous_dose_gy is True",
        ),
        ({"territories": _territory(tn_ratio=True)}, r"tumours\[0\]\.tn_ratio is True"),
        ({"territories": _territory(volume_ml=True)}, r"tumours\[0\]\.volume_ml is True"),
        ({"liver": {"volume_ml": True}}, r"liver\.volume_ml is True"),
        ({"opensirt_case": True}, r"opensirt_case is True: expected the integer 1"),
        (
            {"patient": {"id": "P", "height_m": 1.7, "weight_kg": 70, "labs": {"inr": True}}},
            r"patient\.labs\.inr is True",
        ),
        ({"clinical": {"ecog": True}}, r"clinical\.ecog is True"),
    ],
)
def test_booleans_are_not_numbers(case_dict: MakeCase, changes: dict[str, Any], match: str) -> None:
    with pytest.raises(CaseFileError, match=match):
        parse_case(case_dict(**changes))


def test_integers_are_still_accepted_where_floats_are_expected(case_dict: MakeCase) -> None:
    case = parse_case(case_dict(liver={"volume_ml": 1500}, lung={"shunt_fraction": 0}))
    assert case.liver.volume_ml == 1500.0
    assert case.lung.shunt_fraction == 0.0


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"prescription": {"residual_fraction": 0.999999}},
            r"residual_fraction is 0\.999999: expected a fraction below 0\.5",
        ),
        ({"liver": {"volume_ml": 1e-300}}, r"liver\.volume_ml is 1e-300: expected 200 to 10000 mL"),
        ({"liver": {"volume_ml": 1e308}}, r"liver\.volume_ml is 1e\+308: expected 200 to 10000"),
        (
            {"territories": [{"name": "a", "volume_ml": 1e-300}]},
            r"territories\[0\]\.volume_ml is 1e-300: expected 1 to 10000 mL",
        ),
        (
            {"territories": _territory(volume_ml=1e-300)},
            r"tumours\[0\]\.volume_ml is 1e-300: expected 0\.01 to 10000 mL",
        ),
        (
            {"lung": {"shunt_fraction": 0.1, "mass_kg": 1e-300}},
            r"lung\.mass_kg is 1e-300: expected 0\.3 to 3 kg",
        ),
        (
            {"territories": _territory(tn_ratio=1e308)},
            r"tn_ratio is 1e\+308: expected 0 to 100 \(reported",
        ),
        (
            {"lung": {"shunt_fraction": 0.1, "previous_dose_gy": 1e6}},
            r"previous_dose_gy is 1000000\.0: .*less than or equal to 100",
        ),
        ({"prescription": {"tumour_dose_gy": 1e308}}, r"tumour_dose_gy is 1e\+308"),
        (
            {"lung": {"planar_counts": {"lung": [1e308, 1], "liver": [1, 1]}}},
            r"planar_counts\.lung\[0\] is 1e\+308",
        ),
    ],
)
def test_absurd_values_are_refused_with_the_range(
    case_dict: MakeCase, changes: dict[str, Any], match: str
) -> None:
    with pytest.raises(CaseFileError, match=match):
        parse_case(case_dict(**changes))


SCHEDULE = {"treatment": "2026-11-25T10:00:00+01:00"}


@pytest.mark.parametrize(
    ("schedule", "match"),
    [
        (
            {**SCHEDULE, "vial_activity_gbq": 81, "vial_calibration": "2026-11-25T09:00:00+01:00"},
            r"schedule\.vial_activity_gbq is 81 GBq, more than sir-spheres vials hold "
            r"\(at most 3\.3 GBq; vials: 3 GBq\); was it given in mCi\? 81 mCi is 3 GBq",
        ),
        (
            {**SCHEDULE, "vial_activity_gbq": 3, "vial_calibration": "2026-12-25T10:00:00+01:00"},
            r"schedule\.treatment .* is 30 days before schedule\.vial_calibration .*; expected "
            r"at most 2\.67 days before",
        ),
        (
            {**SCHEDULE, "vial_activity_gbq": 3, "vial_calibration": "2026-10-25T10:00:00+01:00"},
            r"is 31 days after schedule\.vial_calibration .* at most 16 days after it",
        ),
    ],
)
def test_vial_and_calibration_are_checked(
    case_dict: MakeCase, schedule: dict[str, Any], match: str
) -> None:
    with pytest.raises(CaseFileError, match=match):
        parse_case(case_dict(schedule=schedule))


def test_a_vial_within_its_size_and_window_is_accepted(case_dict: MakeCase) -> None:
    data = case_dict(
        device="therasphere",
        schedule={
            **SCHEDULE,
            "vial_activity_gbq": 20,
            "vial_calibration": "2026-11-22T12:00:00-05:00",
        },
    )
    case = parse_case(data)
    assert case.schedule is not None
    assert case.schedule.vial_activity_gbq == 20.0


TREATMENT = {
    "injection": "2026-11-25T11:00:00+01:00",
    "vial_activity_gbq": 2.0,
    "vial_measured": "2026-11-25T09:00:00+01:00",
    "residual_activity_gbq": 0.05,
    "residual_measured": "2026-11-25T12:00:00+01:00",
}


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (
            {"vial_activity_gbq": 50.18},
            r"treatment\.vial_activity_gbq is 50\.18 GBq, more than sir-spheres vials hold "
            r"\(at most 6\.6 GBq",
        ),
        (
            {"vial_measured": "2026-11-25T12:00:00+01:00"},
            r"treatment\.injection .* is 0\.0417 days before treatment\.vial_measured .*; "
            r"expected at or after treatment\.vial_measured",
        ),
        (
            {"residual_measured": "2026-11-25T10:00:00+01:00"},
            r"treatment\.residual_measured .* is 0\.0417 days before treatment\.injection",
        ),
        (
            {"injection": "2100-11-25T11:00:00+01:00", "residual_measured": None},
            r"treatment\.injection \(2100-11-25.* is 2\.7e\+04 days after "
            r"treatment\.vial_measured .* at most 16 days after it",
        ),
        ({"residual_activity_gbq": 3.0}, r"residual_activity_gbq 3 GBq is more than the vial"),
    ],
)
def test_treatment_record_order_and_size(
    case_dict: MakeCase, changes: dict[str, Any], match: str
) -> None:
    record = {k: v for k, v in {**TREATMENT, **changes}.items() if v is not None}
    with pytest.raises(CaseFileError, match=match):
        parse_case(case_dict(treatment=record))


def test_a_treatment_assay_before_calibration_or_of_two_vials_is_accepted(
    case_dict: MakeCase,
) -> None:
    """A resin vial assayed 24 h before its calibration holds 3 x 2^(24/64.1) = 3.89 GBq."""
    record = {**TREATMENT, "vial_activity_gbq": 3.89}
    case = parse_case(case_dict(treatment=record))
    assert case.treatment is not None
    assert case.treatment.vial_activity_gbq == 3.89


@pytest.mark.parametrize("field", ["name", "tumour"])
def test_long_names_are_refused(case_dict: MakeCase, field: str) -> None:
    long = "x" * 3000
    territory = {**TERRITORY, "tumours": [dict(TUMOUR)]}
    if field == "name":
        territory["name"] = long
    else:
        territory["tumours"][0]["name"] = long  # type: ignore[index]
    with pytest.raises(CaseFileError, match=r"'xxxx.*\.\.\. \(3002 characters\): .*at most 64"):
        parse_case(case_dict(territories=[territory]))
    with pytest.raises(CaseFileError, match=r"patient\.id is 'xxx.*at most 64 characters"):
        parse_case(case_dict(patient={"id": long, "height_m": 1.7, "weight_kg": 70}))


def test_too_many_tumours_or_territories(case_dict: MakeCase) -> None:
    tumours = [{"name": f"T{i}", "volume_ml": 1, "tn_ratio": 2} for i in range(101)]
    with pytest.raises(CaseFileError, match=r"tumours: .*at most 100 items"):
        parse_case(case_dict(territories=[{**TERRITORY, "tumours": tumours}]))
    many = [{"name": f"S{i}", "volume_ml": 10} for i in range(21)]
    with pytest.raises(CaseFileError, match=r"territories: .*at most 20 items"):
        parse_case(case_dict(territories=many))


def _write(tmp_path: Path, data: bytes | str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


EXAMPLE = Path(__file__).parents[2] / "examples" / "partition_resin.yaml"


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b"")]
)
def test_unicode_encodings_are_read(tmp_path: Path, encoding: str, bom: bytes) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("EX-PART-RESIN-01", "Zoë-01")
    case = load_case(_write(tmp_path, bom + text.encode(encoding)))  # utf-16 writes its BOM
    assert case.patient.id == "Zoë-01"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_other_encodings_name_the_fix(tmp_path: Path, encoding: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("EX-PART-RESIN-01", "Zoë—01")
    data = text.encode(encoding, errors="replace")
    with pytest.raises(CaseFileError, match=r"not valid UTF-8 text .*save it as UTF-8"):
        load_case(_write(tmp_path, data))


def test_binary_and_nul_bytes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"not valid UTF-8"):
        load_case(_write(tmp_path, bytes(range(256)) * 4))
    with pytest.raises(CaseFileError, match=r"line 2 of the case file holds a NUL"):
        load_case(_write(tmp_path, "opensirt_case: 1\npatient: \x00\n"))


def test_yaml_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{','.join([f'*{prev}'] * 9)}]")
    with pytest.raises(CaseFileError, match=r"alias \(\*name\) of a mapping or list"):
        load_case(_write(tmp_path, "\n".join(lines)))


def test_scalar_aliases_are_allowed(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("  id: EX-PART-RESIN-01", "  id: &i X1")
    text += "schedule:\n  treatment: &t 2026-11-25T10:00:00+01:00\n"
    assert load_case(_write(tmp_path, text)).patient.id == "X1"


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"nested deeper than 32 levels"):
        load_case(_write(tmp_path, "a: " + "[" * 100_000 + "]" * 100_000))
    with pytest.raises(CaseFileError, match=r"nested deeper than 32 levels"):
        load_case(_write(tmp_path, "".join(f"{' ' * i}k{i}:\n" for i in range(40)) + " x: 1\n"))


def test_size_is_bounded_before_parsing(tmp_path: Path) -> None:
    path = _write(tmp_path, "# " + "x" * MAX_CASE_FILE_BYTES + "\nopensirt_case: 1\n")
    with pytest.raises(CaseFileError, match=r"larger than the 1 MiB a case file may have"):
        load_case(path)


def test_700000_tumours_are_refused_by_size(tmp_path: Path) -> None:
    tumour = "      - {name: T%d, volume_ml: 1, tn_ratio: 2}\n"
    body = "".join(tumour % i for i in range(700_000))
    with pytest.raises(CaseFileError, match=r"larger than the 1 MiB"):
        load_case(_write(tmp_path, "territories:\n  - tumours:\n" + body))


def test_many_values_under_the_size_bound_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"more than 100000 values"):
        load_case(_write(tmp_path, "a: [" + ",".join(["1"] * 150_000) + "]\n"))


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "/proc/self", "/dev/null"])
def test_devices_and_folders_are_refused(special: str) -> None:
    if not os.path.exists(special):
        pytest.skip(f"{special} does not exist here")
    with pytest.raises(CaseFileError, match=r"(is a folder|not a regular file)"):
        load_case(special)


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "case.yaml"
    os.mkfifo(fifo)
    with pytest.raises(CaseFileError, match=r"not a regular file \(a FIFO, device or socket\)"):
        load_case(fifo)  # an open() of a FIFO without a writer would block forever


@pytest.mark.parametrize(
    ("written", "match"),
    [
        ("5_2", r"tn_ratio is '5_2': Input should be a valid number"),
        ("1:30", r"tn_ratio is '1:30': Input should be a valid number"),
        ("0x1f", r"tn_ratio is '0x1f': Input should be a valid number"),
    ],
)
def test_yaml_1_1_number_forms_are_not_numbers(tmp_path: Path, written: str, match: str) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("tn_ratio: 4.0", f"tn_ratio: {written}")
    with pytest.raises(CaseFileError, match=match):
        load_case(_write(tmp_path, text))


def test_numbers_read_as_decimals(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("volume_ml: 1800", "volume_ml: 01800").replace(
        "tn_ratio: 4.0", "tn_ratio: 4e0"
    )
    case = load_case(_write(tmp_path, text))
    assert case.liver.volume_ml == 1800.0  # not octal
    assert case.territories[0].tumours[0].tn_ratio == 4.0
