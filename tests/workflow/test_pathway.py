"""The pathway end to end on the synthetic patient: ``opensirt demo``, plan from images,
verification, reports, RTDOSE, and the errors of wrong inputs.

The demo runs once per session (about 20 s); the tests read what it wrote.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
import yaml
from typer.testing import CliRunner

from dicom_chain import check_reference_chain
from opensirt.cli import app
from opensirt.errors import GeometryError, InputError
from opensirt.exports import read_nifti, read_rtdose
from opensirt.physics import DEFAULT_DOSE_METHOD
from opensirt.planning import load_case, parse_case, plan_case
from opensirt.workflow.inputs import load_images

runner = CliRunner()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = runner.invoke(app, ["demo", str(out)])
    assert result.exit_code == 0, result.output
    (out.parent / "terminal.txt").write_text(result.output)  # beside, not among, the outputs
    return out


def _words(text: str) -> str:
    """``text`` with table borders dropped and whitespace collapsed (cells fold over lines)."""
    return " ".join(re.sub(r"[│┃┆┊|─━┏┓┗┛┡┩└┘╇╈]", " ", text).split())


def _json(path: Path) -> Any:
    return json.loads(path.read_text())


def _case_data(demo_dir: Path) -> dict[str, Any]:
    data = yaml.safe_load((demo_dir / "case.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _write_case(demo_dir: Path, folder: Path, data: dict[str, Any]) -> Path:
    """A copy of the demo case in ``folder`` whose image paths point into the demo."""
    for key in ("ct", "spect", "segmentation", "post_treatment"):
        if key in data["images"] and not Path(data["images"][key]).is_absolute():
            data["images"][key] = str(demo_dir / data["images"][key])
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_demo_writes_every_output(demo_dir: Path) -> None:
    for name in (
        "case.yaml",
        "plan/plan.pdf",
        "plan/plan.json",
        "plan/plan_rtdose.dcm",
        "plan/plan_dose.nii.gz",
        "plan/plan_dvh.csv",
        *(f"plan/plan_{kind}.dcm" for kind in ("rtstruct", "seg", "dose_sr", "report")),
        "verification/verification.pdf",
        "verification/verification.json",
        "verification/delivered_rtdose.dcm",
        *(f"verification/delivered_{k}.dcm" for k in ("rtstruct", "seg", "dose_sr", "report")),
        "dicom/rtstruct.dcm",
        "dicom/seg.dcm",
    ):
        assert (demo_dir / name).is_file(), name
    for pdf in ("plan/plan.pdf", "verification/verification.pdf"):
        assert (demo_dir / pdf).read_bytes().startswith(b"%PDF")
    assert not list(demo_dir.parent.glob(".*staging*"))


def test_plan_json_keeps_the_contract_and_the_limits(
    demo_dir: Path, plan_json_keys: frozenset[str]
) -> None:
    plan = _json(demo_dir / "plan/plan.json")
    assert plan_json_keys <= set(plan)
    assert plan["method"] == "voxel"
    assert plan["refused"] is None
    for name, check in plan["limits"].items():
        if check["value"] is not None and check["dose_gy"] is not None:
            assert check["dose_gy"] <= check["value"] * (1 + 1e-9), name
    assert set(plan["methods"]) == {"bsa", "mird", "partition", "voxel"}
    # the phantom's MAA truth: LSF 7 %, T/N 4, 6, 2.5 (SPECT blur lowers T/N of small tumours)
    m = plan["image_measurements"]
    assert m["lung_shunt_fraction_spect"] == pytest.approx(0.07, abs=0.015)
    tn = {u["name"]: u["tn_ratio"] for t in m["territories"] for u in t["tumours"]}
    assert 2.8 < tn["T1"] <= 4.0  # 50 mm tumour: little partial-volume loss
    assert tn["T3"] < tn["T1"]  # 18 mm tumour: strong partial-volume loss


def test_plan_from_images_agrees_with_a_case_file_of_the_same_numbers(
    demo_dir: Path, tmp_path: Path
) -> None:
    plan = _json(demo_dir / "plan/plan.json")
    m = plan["image_measurements"]
    case = {
        "opensirt_case": 1,
        "patient": {"id": "DEMO-001", "height_m": 1.75, "weight_kg": 80},
        "device": "sir-spheres",
        "method": "partition",
        "lung": {"shunt_fraction": m["lung_shunt_fraction_used"], "mass_kg": m["lung_mass_kg"]},
        "liver": {"volume_ml": m["liver_volume_ml"]},
        "territories": [
            {
                "name": t["name"],
                "volume_ml": t["volume_ml"],
                "tumours": [
                    {k: u[k] for k in ("name", "volume_ml", "tn_ratio")} for u in t["tumours"]
                ],
            }
            for t in m["territories"]
        ],
        "prescription": {"tumour_dose_gy": 120, "residual_fraction": 0.02},
    }
    from_file = plan_case(parse_case(case)).to_dict()
    from_images = plan["methods"]["partition"]
    assert from_images["activity_gbq"] == pytest.approx(from_file["activity_gbq"], rel=0.02)
    for key in ("lung", "normal_liver", "perfused"):
        assert from_images["doses_gy"][key] == pytest.approx(from_file["doses_gy"][key], rel=0.02)
    for name, dose in from_file["doses_gy"]["tumours"].items():
        assert from_images["doses_gy"]["tumours"][name] == pytest.approx(dose, rel=0.02)


def test_voxel_and_partition_agree_where_they_should(demo_dir: Path) -> None:
    plan = _json(demo_dir / "plan/plan.json")
    voxel, partition = plan["methods"]["voxel"], plan["methods"]["partition"]
    # same lung shunt and lung mass: identical lung dose per GBq
    assert voxel["doses_gy"]["lung"] / voxel["activity_gbq"] == pytest.approx(
        partition["doses_gy"]["lung"] / partition["activity_gbq"], rel=1e-9
    )
    # the mean dose over the perfused liver is the same energy over the same mass, except
    # that the voxel mass comes from the CT (liver 60 HU -> 1.074 g/mL, 4 % above the
    # 1.03 g/mL convention of the partition model) and betas escape at the liver surface
    per_gbq_voxel = voxel["doses_gy"]["perfused"] / voxel["activity_gbq"]
    per_gbq_partition = partition["doses_gy"]["perfused"] / partition["activity_gbq"]
    assert per_gbq_voxel == pytest.approx(per_gbq_partition * 1.03 / 1.074, rel=0.03)


def test_verification_flags_what_the_phantom_changed(demo_dir: Path) -> None:
    result = _json(demo_dir / "verification/verification.json")
    rows = {s["name"]: s for s in result["structures"]}
    # the phantom's Y-90 delivery equals the MAA in the normal liver ...
    for name in ("Normal liver", "Liver", "RightLobe"):
        assert not rows[name]["flagged"], rows[name]
        assert abs(rows[name]["mean_difference_fraction"]) < 0.10
    # ... but T2 took half the T/N it had on MAA (6 -> 3): delivered clearly lower, flagged
    assert rows["T2"]["flagged"]
    assert rows["T2"]["mean_difference_fraction"] < -0.2
    # and the Y-90 lung shunt was 5 % instead of 7 %
    assert result["lung_shunt_fraction"]["delivered"] == pytest.approx(0.05, abs=0.01)
    assert result["lung_dose_gy"]["delivered"] < result["lung_dose_gy"]["predicted"]
    delivered = result["delivered"]
    assert delivered["delivered_gbq"] == pytest.approx(1.8, rel=1e-3)  # the phantom's 1800 MBq
    assert delivered["image_total_at_injection_gbq"] == pytest.approx(1.8, rel=0.1)


def test_rtdose_validates_and_reimports(demo_dir: Path, dciodvfy: Callable[[Path], str]) -> None:
    path = demo_dir / "plan/plan_rtdose.dcm"
    report = dciodvfy(path)
    assert not [line for line in report.splitlines() if line.startswith("Error")], report
    dose = read_rtdose(path)
    nifti = read_nifti(demo_dir / "plan/plan_dose.nii.gz")
    assert dose.same_grid(nifti)
    scaling = float(pydicom.dcmread(path).DoseGridScaling)
    np.testing.assert_allclose(dose.array, nifti.array, atol=scaling)
    ct = pydicom.dcmread(next((demo_dir / "dicom/ct").iterdir()), stop_before_pixels=True)
    assert pydicom.dcmread(path).FrameOfReferenceUID == ct.FrameOfReferenceUID


@pytest.mark.parametrize(("folder", "stem"), [("plan", "plan"), ("verification", "delivered")])
def test_dicom_objects_validate_and_reference_the_planning_ct(
    demo_dir: Path, folder: str, stem: str, dciodvfy: Callable[[Path], str]
) -> None:
    for path in sorted((demo_dir / folder).glob(f"{stem}_*.dcm")):
        report = dciodvfy(path)
        assert not [line for line in report.splitlines() if line.startswith("Error")], report
    ct = [pydicom.dcmread(p, stop_before_pixels=True) for p in (demo_dir / "dicom/ct").iterdir()]
    check_reference_chain(demo_dir / folder, stem, ct)


def test_plan_cli_on_the_demo_case_writes_the_same_plan(demo_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(demo_dir / "case.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    before = _json(demo_dir / "plan/plan.json")
    assert again["activity_gbq"] == pytest.approx(before["activity_gbq"], rel=1e-6)


@pytest.mark.slow
def test_help_examples_on_the_demo_folder_run_as_written(
    demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan and verify examples of ``--help`` right after ``opensirt demo demo-output``
    (the verify example once wrote into the demo's own, non-empty verification folder)."""
    import re

    from opensirt.commands.pathway import _VERIFY_HELP
    from opensirt.commands.plan import _HELP as PLAN_HELP

    shutil.copytree(demo_dir, tmp_path / "demo-output")
    monkeypatch.chdir(tmp_path)
    examples = re.findall(
        r"opensirt ((?:plan|verify) demo-output/\S+ --out \S+)", PLAN_HELP + _VERIFY_HELP
    )
    assert len(examples) == 2, examples
    for example in examples:
        result = runner.invoke(app, example.split())
        assert result.exit_code == 0, (example, result.output)
        assert (tmp_path / example.split()[-1]).is_dir()


@pytest.mark.slow
def test_ct_without_meta_header_plans_with_out(demo_dir: Path, tmp_path: Path) -> None:
    """A CT exported without preamble and File Meta header is read with ``force``; writing
    the RT Dose re-read it without and ended in a traceback (found as a new user would)."""
    ct = tmp_path / "ct"
    shutil.copytree(demo_dir / "dicom/ct", ct)
    for file in ct.iterdir():
        ds = pydicom.dcmread(file)
        del ds.file_meta
        ds.preamble = None
        pydicom.dcmwrite(file, ds, implicit_vr=False, little_endian=True)
    data = _case_data(demo_dir)
    data["images"]["ct"] = str(ct)
    result = runner.invoke(
        app, ["plan", str(_write_case(demo_dir, tmp_path, data)), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    dose = pydicom.dcmread(tmp_path / "out/plan_rtdose.dcm")
    assert dose.PatientID == pydicom.dcmread(next(ct.iterdir()), force=True).PatientID
    plan = _json(tmp_path / "out/plan.json")
    assert any("no DICOM preamble" in warning for warning in plan["warnings"])
    seg = pydicom.dcmread(tmp_path / "out/plan_seg.dcm")
    assert seg.StudyInstanceUID == dose.StudyInstanceUID


@pytest.mark.slow
def test_plan_without_dicom_objects_writes_only_the_rtdose(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["plan", str(demo_dir / "case.yaml"), "--out", str(out), "--no-dicom-objects"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.dcm")) == ["plan_rtdose.dcm"]


def test_spect_in_another_frame_of_reference_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    spect = tmp_path / "spect"
    shutil.copytree(demo_dir / "dicom/maa_spect", spect)
    for file in spect.iterdir():
        ds = pydicom.dcmread(file)
        ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.999"
        ds.save_as(file)
    data = _case_data(demo_dir)
    data["images"]["spect"] = str(spect)
    case = load_case(_write_case(demo_dir, tmp_path, data))
    with pytest.raises(GeometryError, match="different frames of reference"):
        load_images(case)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"liver": "Liverr"}, r"structure 'Liverr' not found .* did you mean 'Liver'"),
        ({"tumours": ["T1", "T9"]}, r"structure 'T9' not found"),
    ],
)
def test_wrong_structures_are_named(
    demo_dir: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    data = _case_data(demo_dir)
    data["images"]["structures"].update(change)
    case = load_case(_write_case(demo_dir, tmp_path, data))
    with pytest.raises(InputError, match=message):
        load_images(case)


def test_missing_series_is_named(demo_dir: Path, tmp_path: Path) -> None:
    data = _case_data(demo_dir)
    data["images"]["spect"] = str(tmp_path / "no_such_series")
    case = load_case(_write_case(demo_dir, tmp_path, data))
    with pytest.raises(InputError, match=r"images\.spect is .*no_such_series, which does not"):
        load_images(case)


def test_empty_tumour_is_named(demo_dir: Path, tmp_path: Path) -> None:
    from opensirt.imaging import read_image, write_nifti

    ct = read_image(demo_dir / "dicom/ct")
    labels = np.zeros(ct.shape, dtype=np.uint8)
    labels[10:40, 20:60, 20:60] = 1  # a liver; the tumour label 3 is absent
    labels[45:60, 20:60, 20:60] = 2
    write_nifti(ct.with_array(labels, units="label"), tmp_path / "labels.nii.gz")
    data = _case_data(demo_dir)
    data["images"]["segmentation"] = str(tmp_path / "labels.nii.gz")
    data["images"]["labels"] = {1: "Liver", 2: "Lungs", 3: "T1"}
    data["images"]["structures"] = {"liver": "Liver", "lungs": "Lungs", "tumours": ["T1"]}
    data["territories"] = [{"name": "whole liver", "volume_ml": 1000}]
    case = load_case(_write_case(demo_dir, tmp_path, data))
    with pytest.raises(InputError, match=r"structure 'T1' .* is empty"):
        load_images(case)


def test_failed_verify_leaves_nothing_behind(demo_dir: Path, tmp_path: Path) -> None:
    data = _case_data(demo_dir)
    del data["treatment"]
    case_path = _write_case(demo_dir, tmp_path, data)
    out = tmp_path / "verification"
    result = runner.invoke(app, ["verify", str(case_path), "--out", str(out)])
    assert result.exit_code == 2
    assert "treatment: section" in result.output
    assert not out.exists()
    assert not list(tmp_path.glob(".*staging*"))


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["demo", str(tmp_path)])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_pdf_pages_render(demo_dir: Path, tmp_path: Path, pdftoppm: str) -> None:
    subprocess.run(
        [pdftoppm, "-r", "20", "-png", str(demo_dir / "plan/plan.pdf"), str(tmp_path / "p")],
        check=True,
    )
    assert len(list(tmp_path.glob("p-*.png"))) >= 4


def test_assess_voxel_case_uses_the_image_plan(demo_dir: Path) -> None:
    result = runner.invoke(app, ["assess", str(demo_dir / "case.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    reasons = {r["rule"]: r for r in json.loads(result.stdout)["eligibility"]["reasons"]}
    assert reasons["lung_shunt"]["status"] == "pass"
    assert reasons["lung_dose"]["status"] == "pass"
    plan = _json(demo_dir / "plan/plan.json")
    assert f"{plan['doses_gy']['lung']:.1f} Gy" in reasons["lung_dose"]["message"]


def test_overlapping_territory_structures_are_a_clean_error(demo_dir: Path, tmp_path: Path) -> None:
    data = _case_data(demo_dir)
    names = list(data["images"]["structures"]["territories"])
    data["images"]["structures"]["territories"] = dict.fromkeys(names, "Liver")
    result = runner.invoke(app, ["plan", str(_write_case(demo_dir, tmp_path, data))])
    assert result.exit_code == 2, result.output
    assert "images.structures (the volumes, lung shunt and T/N measured" in result.output
    assert "must not overlap" in result.output
    assert "ValidationError" not in result.output


def test_demo_case_file_has_no_yaml_anchors(demo_dir: Path) -> None:
    text = (demo_dir / "case.yaml").read_text()
    assert not re.search(r"(^|[\s:\-\[,])[&*][A-Za-z0-9_]+", text), text
    data = yaml.safe_load(text)
    # the injection time, written twice in full, loads as the same value
    assert data["schedule"]["treatment"] == data["treatment"]["injection"]
    assert load_case(demo_dir / "case.yaml").schedule.treatment == data["treatment"]["injection"]


def test_verify_help_example_works_right_after_the_demo(demo_dir: Path, tmp_path: Path) -> None:
    from opensirt.commands.pathway import _DEMO_HELP, _VERIFY_HELP

    demo_line = next(line for line in _DEMO_HELP.splitlines() if "opensirt demo " in line)
    demo_folder = demo_line.split()[2]
    example = next(line for line in _VERIFY_HELP.splitlines() if f"{demo_folder}/" in line)
    here = tmp_path / demo_folder
    shutil.copytree(demo_dir, here)  # the demo's folder as `opensirt demo` left it
    args = [a.replace(demo_folder, str(here), 1) for a in example.split()[1:]]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = Path(args[args.index("--out") + 1])
    assert out.parent == here
    assert (out / "verification.json").is_file()


def test_demo_terminal_says_what_each_dose_is(demo_dir: Path) -> None:
    text = _words((demo_dir.parent / "terminal.txt").read_text())
    verification = _json(demo_dir / "verification/verification.json")
    planned = verification["delivered"]["planned_activity_gbq"]
    delivered = verification["delivered"]["delivered_gbq"]
    for label in (
        f"predicted as planned ({planned:.3f} GBq)",
        f"predicted scaled to the delivered activity ({delivered:.3f} GBq)",
        "delivered (post-treatment image)",
        "vs scaled",
        "partition lung dose: D = k x A x LSF / M_lung",
        "voxel mean lung dose: the mean of the voxel dose",
        "verified lung dose: the partition lung dose of the delivered activity",
    ):
        assert label in text, label
    assert f"verified lung dose {verification['lung_dose_gy']['delivered']:.1f} Gy" in text
    method = verification["dose_method"]["name"]
    assert method == DEFAULT_DOSE_METHOD.value
    assert f"voxel dose method {method} ({DEFAULT_DOSE_METHOD.abbreviation})" in text
    assert f"voxel mean lung dose ({method}), predicted as planned" in text


def test_verification_report_and_json_say_what_each_dose_is(
    demo_dir: Path, pdftotext: Callable[[Path], str]
) -> None:
    verification = _json(demo_dir / "verification/verification.json")
    text = pdftotext(demo_dir / "verification/verification.pdf")
    planned = verification["delivered"]["planned_activity_gbq"]
    delivered = verification["delivered"]["delivered_gbq"]
    for label in (
        f"predicted as planned ({planned:.3f} GBq)",
        f"predicted scaled to the delivered activity ({delivered:.3f} GBq)",
        "delivered (post-treatment image)",
        "compare the delivered dose with the scaled prediction",
        "Verified lung dose",
        f"M_lung = {verification['lung_dose_gy']['lung_mass_kg']:.3g} kg the lung mass used",
        "voxel mean lung dose: the mean of the voxel dose",
    ):
        assert label in text, label
    lung = verification["lung_dose_gy"]
    plan = _json(demo_dir / "plan/plan.json")
    assert lung["predicted_as_planned"] == pytest.approx(plan["doses_gy"]["lung"])
    # the scaled prediction and the verified dose differ only by the lung shunt
    shunt = verification["lung_shunt_fraction"]
    assert lung["delivered"] / lung["predicted"] == pytest.approx(
        shunt["delivered"] / shunt["planned"]
    )
    assert f"Dose method {DEFAULT_DOSE_METHOD.value} (" in text
    assert verification["dose_method"]["description"] == DEFAULT_DOSE_METHOD.description
    definitions = verification["definitions"]
    assert "scaled to the delivered activity" in definitions["structures.predicted_*"]
    assert definitions["lung_dose_gy.delivered"].startswith("verified lung dose")


def test_plan_report_and_terminal_define_the_lung_doses(
    demo_dir: Path, pdftotext: Callable[[Path], str]
) -> None:
    text = pdftotext(demo_dir / "plan/plan.pdf")
    assert "Lung, this session (partition lung dose)" in text
    assert "partition lung dose: D = k x A x LSF / M_lung" in text
    assert "voxel mean lung dose: the mean of the voxel dose" in text
    assert "verified lung dose" not in text  # no post-treatment image in a plan
    result = runner.invoke(app, ["plan", str(demo_dir / "case.yaml")])
    assert result.exit_code == 0, result.output
    shown = _words(result.output)
    assert "lung, this session (partition)" in shown
    assert "Lung doses: partition lung dose: D = k x A x LSF / M_lung" in shown
    mass_kg = _json(demo_dir / "plan/plan.json")["constants"]["lung_mass_kg"]
    assert f"M_lung = {mass_kg:.3g} kg the lung mass used" in shown
    planned = _json(demo_dir / "plan/plan.json")["activity_gbq"]
    assert f"Voxel doses predicted as planned ({planned:.3f} GBq)" in shown
    assert "is the voxel mean lung dose: the mean of the voxel dose" in shown
    assert f"Dose method {DEFAULT_DOSE_METHOD.label}" in shown
    assert f"Dose method {DEFAULT_DOSE_METHOD.value} (" in text
    assert _json(demo_dir / "plan/plan.json")["dose_method"]["name"] == DEFAULT_DOSE_METHOD.value


def test_demo_records_the_pathway_in_its_own_registry(demo_dir: Path) -> None:
    """MDT decision -> plan signed by two users -> session delivering it -> verification."""
    import sqlalchemy as sa

    from opensirt.registry.database import open_registry
    from opensirt.registry.models import (
        ImagingStudy,
        MdtDecision,
        Patient,
        PlanVersion,
        TreatmentSession,
        Verification,
    )

    registry = open_registry(demo_dir / "registry.sqlite3")
    try:
        with registry.transaction(readonly=True) as session:
            patient = session.scalars(sa.select(Patient)).one()
            assert patient.pseudonym == _case_data(demo_dir)["patient"]["id"] == "DEMO-001"
            roles = {s.role.value for s in session.scalars(sa.select(ImagingStudy))}
            assert roles == {"planning-ct", "maa-spect", "post-pet"}
            mdt = session.scalars(sa.select(MdtDecision)).one()
            assert mdt.assessment is not None
            assert "eligibility" in mdt.assessment
            version = session.scalars(sa.select(PlanVersion)).one()
            assert version.state.value == "approved"
            assert len({s.user_name for s in version.signatures}) == 2
            assert version.report_path == str((demo_dir / "plan" / "plan.pdf").resolve())
            assert version.activity_gbq == pytest.approx(
                _json(demo_dir / "plan/plan.json")["activity_gbq"]
            )
            verification = session.scalars(sa.select(Verification)).one()
            treated = session.get(TreatmentSession, verification.session_id)
            assert treated is not None
            assert treated.plan_version_id == version.id
            assert mdt.date < version.date < treated.date <= verification.date
    finally:
        registry.dispose()


def test_reports_show_the_fused_images_and_the_flagged_structures(
    demo_dir: Path, pdftotext: Callable[[Path], str]
) -> None:
    plan = pdftotext(demo_dir / "plan/plan.pdf")
    for tumour in ("T1", "T2", "T3"):
        assert f"The work-up image through the centre of {tumour}" in plan
    assert "The work-up image through the lung base: the axial plane z =" in plan
    assert "below which 5% of the lung voxels lie" in plan
    assert "SPECT (counts per voxel), colour from 5% of the image's maximum" in plan
    verification = pdftotext(demo_dir / "verification/verification.pdf")
    assert "The post-treatment image through the centre of T1" in verification
    assert "Y-90 PET (MBq/mL)" in verification
    flagged = _json(demo_dir / "verification/verification.json")["structures"]
    names = [s["name"] for s in flagged if s["flagged"]]
    assert "T2" in names
    for name in names:
        assert f"({name}, flagged)" in verification
    assert "Delivered dose through the lung base (Lungs, flagged)" in verification
    for name in {"T1", "T2", "T3"} - set(names):
        assert f"({name}, flagged)" not in verification  # no slices through what agrees
