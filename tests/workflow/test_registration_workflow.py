"""Verification of a post-treatment PET/CT acquired in its own frame of reference.

The synthetic patient's post-treatment PET/CT is rendered twice, noise-free so that only
registration and resampling can differ: in register with the planning CT, and with the
patient moved (3, -2, 4 degrees; 12, -10, 15 mm) in a new frame of reference. Verified on
the moved study (registered through its CT), the doses must agree with those of the study in
register.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import SimpleITK as sitk
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.commands.outputs import write_verification_outputs
from opensirt.demo.case import demo_case
from opensirt.demo.dicom import write_phantom_dicom
from opensirt.demo.moved import (
    MovedStudy,
    moved_posttreatment,
    moved_spect,
    write_moved_posttreatment,
    write_moved_spect,
)
from opensirt.demo.phantom import make_phantom
from opensirt.errors import InputError
from opensirt.planning import load_case
from opensirt.report.document import ReportFigure
from opensirt.report.verification_report import build_verification_document
from opensirt.workflow.inputs import load_images
from opensirt.workflow.posttreatment import verify_case
from opensirt.workflow.pretreatment import plan_from_images

ROTATION_DEG = (3.0, -2.0, 4.0)


@dataclass(frozen=True)
class Studies:
    root: Path
    base: dict[str, Any]
    moved: MovedStudy
    moved_ct: Path
    moved_pet: Path
    register_pet: Path
    true_transform: Path
    moved_spect: Path


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> Studies:
    root = tmp_path_factory.mktemp("registration")
    patient = make_phantom(seed=1)
    paths = write_phantom_dicom(patient, root / "dicom")
    moved = moved_posttreatment(patient, rotation_deg=ROTATION_DEG, noise=False)
    in_register = moved_posttreatment(
        patient, rotation_deg=(0, 0, 0), translation_mm=(0, 0, 0), new_frame=False, noise=False
    )
    moved_ct, moved_pet = write_moved_posttreatment(moved, patient, root / "moved")
    _, register_pet = write_moved_posttreatment(in_register, patient, root / "in_register")
    transform = root / "true.tfm"
    sitk.WriteTransform(moved.transform, str(transform))
    spect = write_moved_spect(moved_spect(patient, moved), moved, patient, root / "moved")
    base = demo_case(patient, paths, root)
    return Studies(root, base, moved, moved_ct, moved_pet, register_pet, transform, spect)


def _case_path(studies: Studies, name: str, **images: Any) -> Path:
    data = yaml.safe_load(yaml.safe_dump(studies.base))
    data["images"].update({k: str(v) for k, v in images.items()})
    path = studies.root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
def test_moved_study_verifies_like_the_study_in_register(studies: Studies) -> None:
    in_register = load_case(_case_path(studies, "in_register", post_treatment=studies.register_pet))
    moved = load_case(
        _case_path(studies, "moved", post_treatment=studies.moved_pet, post_ct=studies.moved_ct)
    )
    pre = plan_from_images(in_register)
    assert pre.images.registration is None
    reference = verify_case(in_register, pre=pre)
    result = verify_case(moved, pre=pre)
    registration = result.images.registration
    assert registration is not None
    assert registration.method == "rigid"
    assert registration.rotation_deg == pytest.approx(ROTATION_DEG, abs=0.5)
    for name, dvh in reference.dvhs.items():
        assert result.dvhs[name].mean_gy == pytest.approx(dvh.mean_gy, rel=0.02), name
    assert result.lung_shunt_fraction == pytest.approx(reference.lung_shunt_fraction, rel=0.05)
    recorded = result.to_dict()["registration"]
    assert recorded["method"] == "rigid"
    assert recorded["quality"]["correlation_after"] > 0.9
    assert len(recorded["matrix"]) == 4
    assert reference.to_dict()["registration"] is None
    # recorded in the output folder: JSON, .tfm, and a section of the PDF report
    out = studies.root / "verification"
    written = write_verification_outputs(
        out, result, studies.root / "moved.yaml", created=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert out / "registration.tfm" in written
    again = sitk.ReadTransform(str(out / "registration.tfm"))
    point = (10.0, 20.0, 30.0)
    assert again.TransformPoint(point) == pytest.approx(
        registration.transform.TransformPoint(point), abs=1e-6
    )
    assert json.loads((out / "verification.json").read_text())["registration"]["method"] == "rigid"
    assert (out / "verification.pdf").read_bytes().startswith(b"%PDF")
    document = build_verification_document(result, created=datetime.now(UTC), provenance=None)
    titles = [section.title for section in document.sections]
    assert "Registration of the post-treatment image" in titles
    # the checkerboard of the two CTs: the study's own CT was kept for it
    assert result.images.study_ct is not None
    section = document.sections[titles.index("Registration of the post-treatment image")]
    checkerboard = section.blocks[-1]
    assert isinstance(checkerboard, ReportFigure)
    assert "tiles" in checkerboard.caption
    assert "quality check passed" in checkerboard.caption


def test_transform_file_of_the_case_is_used(studies: Studies) -> None:
    case = load_case(
        _case_path(
            studies,
            "with_transform",
            post_treatment=studies.moved_pet,
            post_ct=studies.moved_ct,
            post_transform=studies.true_transform,
        )
    )
    images = load_images(case, post_treatment=True)
    registration = images.registration
    assert registration is not None
    assert registration.method == "file"
    assert registration.source == "true.tfm"
    assert registration.rotation_deg == pytest.approx(ROTATION_DEG, abs=1e-6)
    assert images.emission.frame_of_reference_uid == images.ct.frame_of_reference_uid
    assert images.sources["ct"].parts[-2:] == ("dicom", "ct")  # the planning CT
    total = float(np.sum(images.emission.array, dtype=np.float64))
    assert total * images.emission.voxel_volume_ml == pytest.approx(
        float(np.sum(studies.moved.pet.array, dtype=np.float64))
        * studies.moved.pet.voxel_volume_ml,
        rel=1e-3,
    )


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ({"post_registration": "none"}, r"different frames of reference .* is none"),
        ({"post_ct": None}, r"give images\.post_ct"),
        ({"post_registration": "none", "post_transform": "T"}, r"remove one of the two"),
        ({"post_ct": None, "post_registration": "rigid", "post_treatment": "R"}, "no CT of its"),
    ],
)
def test_another_frame_without_a_way_to_register_is_refused(
    studies: Studies, images: dict[str, Any], message: str
) -> None:
    keys = {"post_treatment": studies.moved_pet, "post_ct": studies.moved_ct, **images}
    named = {"T": studies.true_transform, "R": studies.register_pet}
    keys = {k: named.get(v, v) if isinstance(v, str) else v for k, v in keys.items()}
    path = _case_path(studies, "refused", **{k: v for k, v in keys.items() if v is not None})
    with pytest.raises(InputError, match=message):
        load_images(load_case(path), post_treatment=True)


@pytest.mark.slow
def test_failed_registration_exits_2_with_the_reason(studies: Studies, tmp_path: Path) -> None:
    far = studies.root / "far.tfm"
    sitk.WriteTransform(sitk.TranslationTransform(3, (0.0, 0.0, 400.0)), str(far))
    path = _case_path(
        studies,
        "far",
        post_treatment=studies.moved_pet,
        post_ct=studies.moved_ct,
        post_transform=far,
    )
    result = CliRunner().invoke(app, ["verify", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "far.tfm" in result.output
    assert "liver region" in result.output


def test_spect_with_its_own_ct_is_registered(studies: Studies) -> None:
    case = load_case(
        _case_path(studies, "spect", spect=studies.moved_spect.parent, spect_ct=studies.moved_ct)
    )
    images = load_images(case)
    registration = images.registration
    assert registration is not None
    assert registration.method == "rigid"
    assert registration.rotation_deg == pytest.approx(ROTATION_DEG, abs=0.5)
    assert images.emission.frame_of_reference_uid == images.ct.frame_of_reference_uid
    assert images.emission.units == "counts"
