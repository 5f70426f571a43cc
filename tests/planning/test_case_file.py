"""The case file: examples load, and every kind of mistake gives a message that names it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opensirt.errors import CaseFileError
from opensirt.planning import Method, load_case, parse_case

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))
MakeCase = Callable[..., dict[str, Any]]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load(path: Path) -> None:
    case = load_case(path)
    assert case.opensirt_case == 1
    assert case.territories


def test_example_set_covers_every_method_and_device() -> None:
    cases = [load_case(p) for p in EXAMPLES]
    pairs = {(c.device.value, c.method.value) for c in cases}
    assert {
        ("sir-spheres", "bsa"),
        ("therasphere", "mird"),
        ("sir-spheres", "mird"),
        ("sir-spheres", "partition"),
        ("therasphere", "partition"),
        ("quiremspheres", "whole-liver"),
    } <= pairs


def test_spec_keys_parse(case_dict: MakeCase) -> None:
    data = case_dict(
        prescription={
            "perfused_dose_gy": 120,
            "tumour_dose_gy": 120,
            "normal_liver_max_gy": 40,
            "lung_max_gy": 30,
            "lung_cumulative_max_gy": 50,
            "residual_fraction": 0.0,
        },
        schedule={"treatment": "2026-11-25T10:00:00+01:00"},
    )
    data["patient"]["labs"] = {"bilirubin_umol_l": 18, "albumin_g_l": 38, "inr": 1.1}
    data["lung"].update(mass_kg=1.0, previous_dose_gy=0.0)
    case = parse_case(data)
    assert case.method is Method.PARTITION
    assert case.schedule is not None
    assert case.schedule.treatment.utcoffset() is not None
    assert case.patient.labs is not None
    assert case.patient.labs.bilirubin_umol_l == 18


def test_percentage_shunt_fraction_is_named(case_dict: MakeCase) -> None:
    with pytest.raises(CaseFileError, match=r"lung\.shunt_fraction is 8: .*8 % is 0\.08"):
        parse_case(case_dict(lung={"shunt_fraction": 8}))


def test_unknown_key_names_path_and_suggests(case_dict: MakeCase) -> None:
    data = case_dict()
    tumour = data["territories"][0]["tumours"][0]
    tumour["tn_ratoi"] = tumour.pop("tn_ratio")
    with pytest.raises(
        CaseFileError,
        match=r"territories\[0\]\.tumours\[0\]\.tn_ratoi: unknown key; did you "
        r"mean 'tn_ratio'\?",
    ):
        parse_case(data)


def test_unknown_top_level_key(case_dict: MakeCase) -> None:
    with pytest.raises(
        CaseFileError, match=r"presciption: unknown key; did you mean 'prescription'"
    ):
        parse_case(case_dict(presciption={}))


def test_missing_and_wrong_type(case_dict: MakeCase) -> None:
    data = case_dict()
    del data["patient"]["height_m"]
    data["patient"]["weight_kg"] = "eighty"
    with pytest.raises(CaseFileError) as info:
        parse_case(data)
    message = str(info.value)
    assert "patient.height_m: required key is missing" in message
    assert "patient.weight_kg is 'eighty'" in message


def test_out_of_range_value(case_dict: MakeCase) -> None:
    with pytest.raises(CaseFileError, match=r"liver\.volume_ml is -5: .*greater than 0"):
        parse_case(case_dict(liver={"volume_ml": -5}))


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        (
            {
                "territories": [
                    {
                        "name": "a",
                        "volume_ml": 100,
                        "tumours": [{"name": "T", "volume_ml": 100, "tn_ratio": 2}],
                    }
                ]
            },
            r"tumour volumes of territory 'a' add up to 100 mL, expected less than",
        ),
        (
            {
                "territories": [
                    {
                        "name": "a",
                        "volume_ml": 900,
                        "tumours": [{"name": "T1", "volume_ml": 9, "tn_ratio": 2}],
                    },
                    {
                        "name": "b",
                        "volume_ml": 700,
                        "tumours": [{"name": "T2", "volume_ml": 9, "tn_ratio": 2}],
                    },
                ]
            },
            r"territory volumes add up to 1600 mL, more than liver\.volume_ml 1500 mL",
        ),
        (
            {"lung": {"shunt_fraction": 0.1, "planar_counts": {"lung": [1, 1], "liver": [9, 9]}}},
            r"only one of lung\.shunt_fraction .* or lung\.planar_counts",
        ),
        ({"lung": {"mass_kg": 1.0}}, r"give lung\.shunt_fraction .* only come from a SPECT/CT"),
        (
            {"device": "therasphere", "method": "bsa"},
            r"method 'bsa' does not apply to device "
            r"'therasphere'; expected one of mird, partition, voxel",
        ),
        ({"method": "voxel"}, r"method 'voxel' needs an images: section"),
        ({"schedule": {"treatment": "2026-11-25T10:00:00"}}, r"schedule\.treatment .*timezone"),
        ({"prescription": {"residual_fraction": 5}}, r"residual_fraction is 5: .*5 % is 0\.05"),
        ({"opensirt_case": 2}, r"opensirt_case is 2, expected 1"),
        ({"device": "sirspheres"}, r"device is 'sirspheres': Input should be 'sir-spheres'"),
    ],
)
def test_cross_field_checks(case_dict: MakeCase, changes: dict[str, Any], pattern: str) -> None:
    with pytest.raises(CaseFileError, match=pattern):
        parse_case(case_dict(**changes))


def test_partition_needs_tn_ratio(case_dict: MakeCase) -> None:
    data = case_dict()
    del data["territories"][0]["tumours"][0]["tn_ratio"]
    with pytest.raises(CaseFileError, match=r"needs tn_ratio for every tumour; tumour 'T1'"):
        parse_case(data)
    data["method"] = "mird"
    assert parse_case(data).territories[0].tumours[0].tn_ratio is None


def test_duplicate_names(case_dict: MakeCase) -> None:
    data = case_dict()
    data["territories"][0]["tumours"].append({"name": "T1", "volume_ml": 10, "tn_ratio": 2})
    with pytest.raises(CaseFileError, match=r"tumour name 'T1' is used twice"):
        parse_case(data)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("opensirt_case: 1\npatient: [unclosed\n", encoding="utf-8")
    with pytest.raises(CaseFileError, match=r"broken\.yaml: not valid YAML"):
        load_case(path)


def test_yaml_duplicate_key(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("opensirt_case: 1\ndevice: sir-spheres\ndevice: therasphere\n", "utf-8")
    with pytest.raises(CaseFileError, match=r"key 'device' is given twice"):
        load_case(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError, match=r"nope\.yaml: cannot read the case file"):
        load_case(tmp_path / "nope.yaml")


def test_images_resolved_relative_to_case_file(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "examples" / "partition_resin.yaml").read_text("utf-8")
    text = text.replace("method: partition", "method: voxel") + (
        "images:\n  ct: ct/\n  spect: maa_spect/\n  segmentation: rtstruct.dcm\n"
        "  structures:\n    liver: Liver\n    lungs: Lungs\n    tumours: [T1]\n"
        "    territories: {right lobe: RightLobe}\n"
    )
    path = tmp_path / "voxel.yaml"
    path.write_text(text, "utf-8")
    case = load_case(path)
    assert case.images is not None
    assert case.images.ct == (tmp_path / "ct").resolve()
    assert case.images.segmentation == (tmp_path / "rtstruct.dcm").resolve()
    assert case.images.structures.territories == {"right lobe": "RightLobe"}
    bad = text.replace("{right lobe: RightLobe}", "{left: Left}")
    path.write_text(bad, "utf-8")
    with pytest.raises(CaseFileError, match=r"names 'left', which is not a territory name"):
        load_case(path)


def test_numeric_patient_id_is_text(case_dict: MakeCase) -> None:
    data = case_dict()
    data["patient"]["id"] = 12345
    assert parse_case(data).patient.id == "12345"
