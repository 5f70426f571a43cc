"""Case-file keys the images supply (volumes, T/N), and method ``mird`` for every device,
Ho-166 included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.errors import CaseFileError, InputError
from opensirt.physics.devices import DEVICES, DeviceName
from opensirt.planning import parse_case, plan_case
from opensirt.planning.case import untyped_volumes

MakeCase = Callable[..., dict[str, Any]]
REL = 1e-9
K_HO = 15.87  # Gy kg/GBq, QuiremSpheres IFU
IMAGES = {
    "ct": "ct/",
    "spect": "maa_spect/",
    "segmentation": "rtstruct.dcm",
    "structures": {"liver": "Liver", "lungs": "Lungs", "tumours": ["T1"]},
}


@pytest.mark.parametrize(
    ("remove", "key"),
    [
        (("liver", "volume_ml"), r"liver\.volume_ml"),
        (("territory", "volume_ml"), r"territories\[0\]\.volume_ml"),
        (("tumour", "volume_ml"), r"territories\[0\]\.tumours\[0\]\.volume_ml"),
    ],
)
def test_a_case_without_images_needs_every_volume(
    case_dict: MakeCase, remove: tuple[str, str], key: str
) -> None:
    data = case_dict()
    where = {
        "liver": data["liver"],
        "territory": data["territories"][0],
        "tumour": data["territories"][0]["tumours"][0],
    }[remove[0]]
    del where[remove[1]]
    pattern = rf"{key} is missing: a case without an images: section must give it .*measured"
    with pytest.raises(CaseFileError, match=pattern):
        parse_case(data)


def test_every_missing_volume_is_named_at_once(case_dict: MakeCase) -> None:
    data = case_dict(territories=[{"name": "right lobe", "tumours": [{"name": "T1"}]}])
    del data["liver"]["volume_ml"]
    with pytest.raises(CaseFileError) as info:
        parse_case(data)
    assert (
        "liver.volume_ml, territories[0].volume_ml, territories[0].tumours[0].volume_ml are missing"
    ) in str(info.value)


def test_a_case_with_images_leaves_volumes_and_tn_to_them(case_dict: MakeCase) -> None:
    data = case_dict(
        images=IMAGES, territories=[{"name": "right lobe", "tumours": [{"name": "T1"}]}]
    )
    del data["liver"]["volume_ml"]
    case = parse_case(data)
    assert case.liver.volume_ml is None
    assert case.territories[0].tumours[0].tn_ratio is None
    assert untyped_volumes(case) == [
        "liver.volume_ml",
        "territories[0].volume_ml",
        "territories[0].tumours[0].volume_ml",
    ]
    # the typed-only planner names what it lacks and where it comes from
    with pytest.raises(InputError, match=r"liver\.volume_ml is not in the case file: .*images"):
        plan_case(case)


def test_typed_planning_of_an_images_case_without_tn_names_the_tumour(
    case_dict: MakeCase,
) -> None:
    data = case_dict(images=IMAGES)
    del data["territories"][0]["tumours"][0]["tn_ratio"]
    with pytest.raises(InputError, match=r"the tn_ratio of tumour 'T1' is not in the case file"):
        plan_case(parse_case(data))


def test_a_partly_typed_images_case_still_checks_what_is_typed(case_dict: MakeCase) -> None:
    data = case_dict(images=IMAGES)
    data["territories"][0]["volume_ml"] = 100  # smaller than its 150 mL tumour
    with pytest.raises(CaseFileError, match=r"add up to 150 mL, expected less than its volume_ml"):
        parse_case(data)


@pytest.mark.parametrize("device", list(DeviceName))
def test_mird_applies_to_every_device(case_dict: MakeCase, device: DeviceName) -> None:
    assert "mird" in DEVICES[device].methods
    result = plan_case(parse_case(case_dict(device=device.value, method="mird")))
    assert result.target is not None
    assert result.target.name == "perfused_dose_gy"
    assert result.perfused_gy == pytest.approx(DEVICES[device].limits.perfused_target_gy, rel=REL)


def test_holmium_mird_by_hand(case_dict: MakeCase) -> None:
    # 1000 mL territory at 1.0 g/mL = 1 kg, LSF 0.08, residual 0.03, 60 Gy (EANM 2022):
    # A = 60 * 1 / (15.87 * 0.92 * 0.97) = 60 / 14.162388 = 4.236574 GBq
    data = case_dict(device="quiremspheres", method="mird")
    data["prescription"] = {"residual_fraction": 0.03}
    result = plan_case(parse_case(data))
    expected = 60.0 * 1.0 / (K_HO * 0.92 * 0.97)
    assert expected == pytest.approx(4.236574, abs=1e-6)
    assert result.activity_gbq == pytest.approx(expected, rel=REL)
    assert result.perfused_gy == pytest.approx(60.0, rel=REL)
    assert result.lung_gy == pytest.approx(K_HO * 0.08 * 0.97 * expected / 1.0, rel=REL)
    assert result.target is not None
    assert "doi:10.1007/s00259-021-05600-z" in result.target.source
    assert result.constants.dose_constant_gy_kg_per_gbq == K_HO
    # a prescribed perfused dose replaces the default
    data["prescription"]["perfused_dose_gy"] = 90.0
    again = plan_case(parse_case(data))
    assert again.activity_gbq == pytest.approx(expected * 90.0 / 60.0, rel=REL)


def _whole_liver_pair(case_dict: MakeCase, lsf: float) -> tuple[Any, Any]:
    territory = {"name": "liver", "volume_ml": 1500, "tumours": [{"name": "T1", "volume_ml": 150}]}
    plans = []
    for method in ("whole-liver", "mird"):
        data = case_dict(
            device="quiremspheres",
            method=method,
            lung={"shunt_fraction": lsf},
            territories=[territory],
            prescription={"residual_fraction": 0.02},
        )
        plans.append(plan_case(parse_case(data)))
    return plans[0], plans[1]


def test_mird_over_the_whole_liver_is_the_whole_liver_method(case_dict: MakeCase) -> None:
    whole, mird = _whole_liver_pair(case_dict, lsf=0.0)
    # 60 Gy x 1.5 kg / (15.87 x 0.98) = 5.787 GBq by either method
    assert whole.activity_gbq == pytest.approx(60 * 1.5 / (K_HO * 0.98), rel=REL)
    assert mird.activity_gbq == pytest.approx(whole.activity_gbq, rel=REL)
    assert mird.perfused_gy == pytest.approx(whole.whole_liver_gy, rel=REL)
    assert mird.perfused_gy == pytest.approx(whole.perfused_gy, rel=REL)


def test_with_a_lung_shunt_mird_adds_what_the_lungs_take(case_dict: MakeCase) -> None:
    # whole-liver follows the IFU (activity not raised for the shunt); MIRD gives the
    # perfused volume its 60 Gy after the shunt: A_mird = A_whole / (1 - LSF)
    whole, mird = _whole_liver_pair(case_dict, lsf=0.05)
    assert mird.activity_gbq == pytest.approx(whole.activity_gbq / 0.95, rel=REL)
    assert mird.perfused_gy == pytest.approx(60.0, rel=REL)
    assert whole.perfused_gy == pytest.approx(60.0 * 0.95, rel=REL)


def test_plan_cli_names_the_missing_volume(case_dict: MakeCase, tmp_path: Path) -> None:
    data = case_dict()
    del data["liver"]  # the whole section may go: its density has a default
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert "case.yaml: invalid case file: liver.volume_ml is missing: a case without an" in message
    data["images"] = IMAGES
    assert parse_case(data).liver.density_g_ml == 1.03
