"""Planning a case with images by partition, MIRD and voxel from what the images measure,
without typing it; values typed anyway are checked against the measurement.

The synthetic patient at half size (about 5 s to build and write once for the module).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.demo.case import demo_case
from opensirt.demo.dicom import write_phantom_dicom
from opensirt.demo.phantom import make_phantom
from opensirt.errors import InputError
from opensirt.planning import load_case, parse_case, plan_case
from opensirt.planning.case import Case
from opensirt.report.plan_report import build_plan_document
from opensirt.workflow.pretreatment import PreTreatmentResult, needs_images, plan_from_images

runner = CliRunner()
METHODS = ("partition", "mird", "voxel")


@pytest.fixture(scope="module")
def untyped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo patient's folder and its case (volumes, T/N and lung shunt not typed)."""
    folder = tmp_path_factory.mktemp("image_planning")
    patient = make_phantom(seed=1, size=0.5)
    paths = write_phantom_dicom(patient, folder / "dicom")
    data = demo_case(patient, paths, folder)
    data.pop("treatment")
    data["images"].pop("post_treatment")
    return folder, data


@pytest.fixture(scope="module")
def measured(untyped: tuple[Path, dict[str, Any]]) -> PreTreatmentResult:
    """The plan of the untyped case (method partition), every method side by side."""
    folder, data = untyped
    return plan_from_images(_case(folder, {**data, "method": "partition"}))


def _case(folder: Path, data: dict[str, Any], name: str = "case.yaml") -> Case:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_case(path)


def _typed(data: dict[str, Any], pre: PreTreatmentResult, scale: dict[str, float]) -> Any:
    """``data`` with the measured volumes and T/N typed, each times ``scale[key]`` (1 if absent)."""
    out = copy.deepcopy(data)
    m = pre.measures
    out["liver"]["volume_ml"] = m.liver_volume_ml * scale.get("liver", 1.0)
    by_name = {t.name: t for t in m.territories}
    for terr in out["territories"]:
        seen = by_name[terr["name"]]
        terr["volume_ml"] = seen.volume_ml * scale.get(terr["name"], 1.0)
        tumours = {u.name: u for u in seen.tumours}
        for tumour in terr.get("tumours", []):
            u = tumours[tumour["name"]]
            tumour["volume_ml"] = u.volume_ml * scale.get(tumour["name"], 1.0)
            tumour["tn_ratio"] = u.tn_ratio * scale.get(tumour["name"] + " tn", 1.0)
    return out


def _same_plan(a: dict[str, Any], b: dict[str, Any], rel: float = 1e-9) -> None:
    assert a["activity_gbq"] == pytest.approx(b["activity_gbq"], rel=rel)
    for key in ("lung", "normal_liver", "perfused"):
        assert a["doses_gy"][key] == pytest.approx(b["doses_gy"][key], rel=rel), key
    assert a["doses_gy"]["tumours"] == pytest.approx(b["doses_gy"]["tumours"], rel=rel)


def test_the_untyped_case_loads_and_needs_its_images(
    untyped: tuple[Path, dict[str, Any]],
) -> None:
    folder, data = untyped
    assert "volume_ml" not in data["liver"]
    assert all("volume_ml" not in t for t in data["territories"])
    case = _case(folder, data)
    assert case.liver.volume_ml is None
    assert needs_images(case)


def test_plans_by_every_method_with_the_measured_values(measured: PreTreatmentResult) -> None:
    assert set(METHODS) <= set(measured.plans)
    m = measured.measures
    assert measured.image_case.liver.volume_ml == m.liver_volume_ml
    assert measured.lung_shunt_fraction == m.lung_shunt.fraction
    assert "SPECT/CT" in measured.lung_shunt_source
    assert measured.warnings == ()
    for name in METHODS:
        assert measured.plans[name].refused is None
        assert (measured.plans[name].activity_gbq or 0.0) > 0.0


def test_a_typed_case_of_the_measured_numbers_plans_the_same(
    measured: PreTreatmentResult,
) -> None:
    """Partition and MIRD from the images equal the same numbers typed (no images; the
    half-size patient's organs are below the typed-value ranges, hence ``measured``)."""
    m = measured.measures
    typed: dict[str, Any] = {
        "opensirt_case": 1,
        "patient": {"id": "DEMO-001", "height_m": 1.75, "weight_kg": 80},
        "device": "sir-spheres",
        "lung": {"shunt_fraction": m.lung_shunt.fraction, "mass_kg": measured.lung_mass_kg},
        "liver": {"volume_ml": m.liver_volume_ml, "density_g_ml": 1.03},
        "territories": [
            {
                "name": t.name,
                "volume_ml": t.volume_ml,
                "tumours": [
                    {"name": u.name, "volume_ml": u.volume_ml, "tn_ratio": u.tn_ratio}
                    for u in t.tumours
                ],
            }
            for t in m.territories
        ],
        "prescription": {"tumour_dose_gy": 120.0, "residual_fraction": 0.02},
    }
    for method in ("partition", "mird"):
        from_file = plan_case(parse_case({**typed, "method": method}, measured=True)).to_dict()
        _same_plan(measured.plans[method].to_dict(), from_file)


def test_typed_values_equal_to_the_measurement_change_nothing(
    untyped: tuple[Path, dict[str, Any]], measured: PreTreatmentResult
) -> None:
    folder, data = untyped
    typed = _typed({**data, "method": "voxel"}, measured, {})
    pre = plan_from_images(_case(folder, typed, "typed.yaml"))
    assert pre.warnings == ()
    for name in METHODS:
        _same_plan(pre.plans[name].to_dict(), measured.plans[name].to_dict())
    assert pre.prescribed.method.value == "voxel"


def test_typed_values_beyond_5_percent_warn_and_the_measured_ones_are_used(
    untyped: tuple[Path, dict[str, Any]], measured: PreTreatmentResult
) -> None:
    folder, data = untyped
    scale = {"liver": 1.10, "right lobe": 0.97, "T1": 1.03, "T1 tn": 0.90, "T2": 1.10}
    typed = _typed(data, measured, scale)
    pre = plan_from_images(_case(folder, typed, "off.yaml"))
    text = "\n".join(pre.warnings)
    assert len(pre.warnings) == 3, text
    m = measured.measures
    assert (
        f"liver.volume_ml is {m.liver_volume_ml * 1.1:g} mL in the case file but "
        f"{m.liver_volume_ml:.4g} mL on the segmentation (more than 5% apart); the plan uses "
        f"the measured {m.liver_volume_ml:.4g}"
    ) in pre.warnings
    assert "territories[0].tumours[0].tn_ratio is" in text
    assert "territories[0].tumours[1].volume_ml is" in text
    # 3 % off: no warning
    assert "territories[0].volume_ml" not in text
    assert "territories[0].tumours[0].volume_ml" not in text
    # the measured values are the ones planned with
    for name in METHODS:
        _same_plan(pre.plans[name].to_dict(), measured.plans[name].to_dict())
    # and the warnings reach the JSON and the report
    out = pre.to_dict()
    assert all(w in out["warnings"] for w in pre.warnings)
    doc = build_plan_document(
        pre.case,
        pre.prescribed,
        case_path="off.yaml",
        created=datetime.now(UTC),
        provenance=None,
        pre=pre,
    )
    assert all(w in [n.text for n in doc.warnings] for w in pre.warnings)


def test_partition_without_a_segmented_tumour_in_a_territory_is_explained(
    untyped: tuple[Path, dict[str, Any]],
) -> None:
    folder, data = untyped
    images = {**data["images"], "structures": {**data["images"]["structures"], "tumours": []}}
    territories = [{"name": t["name"]} for t in data["territories"]]
    case = _case(
        folder,
        {**data, "method": "partition", "images": images, "territories": territories},
        "no_tumours.yaml",
    )
    with pytest.raises(InputError, match=r"'partition' could not be planned .* plan by mird"):
        plan_from_images(case)


def test_a_typed_lung_shunt_is_used_and_compared(
    untyped: tuple[Path, dict[str, Any]], measured: PreTreatmentResult
) -> None:
    folder, data = untyped
    seen = measured.measures.lung_shunt.fraction
    for factor, warns in ((1.10, True), (1.03, False)):
        typed = {**data, "lung": {"shunt_fraction": seen * factor}}
        pre = plan_from_images(_case(folder, typed, "lsf.yaml"))
        assert pre.lung_shunt_fraction == pytest.approx(seen * factor, rel=1e-12)
        assert any("the plan uses the case file's value" in w for w in pre.warnings) is warns


def test_plan_cli_plans_an_untyped_case_by_mird_from_the_images(
    untyped: tuple[Path, dict[str, Any]], measured: PreTreatmentResult
) -> None:
    folder, data = untyped
    path = folder / "mird.yaml"
    path.write_text(yaml.safe_dump({**data, "method": "mird"}, sort_keys=False))
    result = runner.invoke(app, ["plan", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["method"] == "mird"
    _same_plan(out, measured.plans["mird"].to_dict())
    assert out["image_measurements"]["liver_volume_ml"] == measured.measures.liver_volume_ml
    assess = runner.invoke(app, ["assess", str(path), "--json"])
    assert assess.exit_code == 0, assess.output


def _assess(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = runner.invoke(app, ["assess", str(path), "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def _uptake_rule(out: dict[str, Any]) -> dict[str, str]:
    return next(r for r in out["eligibility"]["reasons"] if r["rule"] == "extrahepatic_maa_uptake")


def test_assess_uses_the_extrahepatic_uptake_measured_on_the_spect(
    untyped: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, data = untyped
    assert "extrahepatic_maa_uptake" not in data["clinical"]
    clean = _assess(folder / "assess_voxel.yaml", data)  # method voxel, planned from images
    assert clean["extrahepatic_uptake_source"] == "the SPECT analysis of the plan"
    rule = _uptake_rule(clean)
    assert rule["status"] == "pass", rule
    assert "the SPECT analysis finds no extrahepatic uptake" in rule["message"]
    # a hot cluster on the MAA SPECT far from the liver and the lungs (a gastric shunt)
    patient = make_phantom(seed=1, size=0.5)
    counts = np.array(patient.maa.image.array, dtype=np.float32)
    counts[7:10, 31:34, 54:57] = np.round(3.0 * np.percentile(counts[counts > 0], 99))
    hot = replace(patient, maa=replace(patient.maa, image=patient.maa.image.with_array(counts)))
    hot_data = demo_case(hot, write_phantom_dicom(hot, tmp_path / "dicom"), tmp_path)
    hot_data.pop("treatment")
    hot_data["images"].pop("post_treatment")
    out = _assess(tmp_path / "hot.yaml", hot_data)
    rule = _uptake_rule(out)
    assert rule["status"] == "caution", rule
    assert "finds 1 cluster of extrahepatic uptake" in rule["message"]
    assert "(from the SPECT analysis of the plan)" in rule["message"]
    assert out["eligibility"]["verdict"] != "eligible"
    # the case file's reviewed finding decides when given; the SPECT's is shown beside it
    hot_data["clinical"]["extrahepatic_maa_uptake"] = True
    reviewed = _assess(tmp_path / "reviewed.yaml", hot_data)
    rule = _uptake_rule(reviewed)
    assert rule["status"] == "not eligible"
    assert (
        reviewed["extrahepatic_uptake_source"]
        == "clinical.extrahepatic_maa_uptake of the case file"
    )
    assert "finds 1 cluster of extrahepatic uptake" in rule["message"]
