"""Registration of a post-treatment CT to the planning CT (rigid, deformable, from a file),
its quality check, and the resampling of the emission image into the planning frame."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from opensirt.demo.moved import MovedStudy, moved_posttreatment
from opensirt.demo.phantom import SyntheticPatient, make_phantom
from opensirt.errors import InputError, RegistrationError
from opensirt.imaging import Volume
from opensirt.imaging.registration import (
    Registration,
    RegistrationMethod,
    read_registration,
    register_ct,
)
from opensirt.imaging.registration_resample import resample_into_frame

ROTATION_DEG = (3.0, -2.0, 4.0)
TRANSLATION_MM = (12.0, -10.0, 15.0)


@pytest.fixture(scope="module")
def patient() -> SyntheticPatient:
    return make_phantom(seed=1, size=0.5)


@pytest.fixture(scope="module")
def moved(patient: SyntheticPatient) -> MovedStudy:
    return moved_posttreatment(patient, rotation_deg=ROTATION_DEG, translation_mm=TRANSLATION_MM)


@pytest.fixture(scope="module")
def rigid(patient: SyntheticPatient, moved: MovedStudy) -> Registration:
    return register_ct(patient.ct, patient.structures.get("Liver"), moved.ct)


def _liver_points(patient: SyntheticPatient) -> np.ndarray:
    liver = patient.structures.get("Liver")
    ijk = np.argwhere(np.asarray(liver.array))[::25, ::-1].astype(np.float64)
    return liver.index_to_physical(ijk)


def _errors_mm(registration: Registration, moved: MovedStudy, points: np.ndarray) -> np.ndarray:
    found = np.array([registration.transform.TransformPoint(tuple(map(float, p))) for p in points])
    return np.linalg.norm(found - moved.to_new_frame(points), axis=1)


def test_moved_study_is_in_a_new_frame(patient: SyntheticPatient, moved: MovedStudy) -> None:
    assert moved.ct.frame_of_reference_uid != patient.ct.frame_of_reference_uid
    assert moved.pet.frame_of_reference_uid == moved.ct.frame_of_reference_uid
    assert moved.pet.units == "Bq/mL"


def test_known_rotation_and_shift_are_recovered(
    patient: SyntheticPatient, moved: MovedStudy, rigid: Registration
) -> None:
    errors = _errors_mm(rigid, moved, _liver_points(patient))
    assert errors.max() < 1.0, errors.max()
    assert rigid.rotation_deg == pytest.approx(ROTATION_DEG, abs=0.5)
    assert rigid.method == "rigid"
    assert rigid.metric is not None
    assert rigid.metric < 0
    assert rigid.iterations > 0
    quality = rigid.quality
    assert quality is not None
    assert quality.correlation_before is not None
    assert quality.correlation_after > 0.9 > quality.correlation_before
    assert quality.rotation_deg == pytest.approx(math.dist((0, 0, 0), ROTATION_DEG), abs=0.5)
    # the matrix is the transform's own mapping
    matrix = np.asarray(rigid.matrix)
    point = _liver_points(patient)[0]
    assert matrix[:3, :3] @ point + matrix[:3, 3] == pytest.approx(
        rigid.transform.TransformPoint(tuple(map(float, point))), abs=1e-6
    )
    assert rigid.to_dict()["quality"]["correlation_after"] == quality.correlation_after


def test_registration_is_reproducible(
    patient: SyntheticPatient, moved: MovedStudy, rigid: Registration
) -> None:
    again = register_ct(patient.ct, patient.structures.get("Liver"), moved.ct)
    assert np.allclose(again.matrix, rigid.matrix, rtol=0, atol=1e-6)


def test_deformable_registration_refines_the_rigid_one(
    patient: SyntheticPatient, moved: MovedStudy, rigid: Registration
) -> None:
    result = register_ct(
        patient.ct, patient.structures.get("Liver"), moved.ct, method=RegistrationMethod.DEFORMABLE
    )
    assert result.method == "deformable"
    assert result.quality is not None
    assert rigid.quality is not None
    assert result.quality.correlation_after >= rigid.quality.correlation_after - 0.01
    assert _errors_mm(result, moved, _liver_points(patient)).max() < 1.5


def test_transform_file_round_trip(
    tmp_path: Path, patient: SyntheticPatient, moved: MovedStudy, rigid: Registration
) -> None:
    path = rigid.write(tmp_path / "registration.tfm")
    read = read_registration(path, patient.ct, patient.structures.get("Liver"), moved.ct)
    assert read.method == "file"
    assert read.source == "registration.tfm"
    assert np.allclose(read.matrix, rigid.matrix, atol=1e-6)
    assert read.quality is not None
    assert read.quality.correlation_after > 0.9


def test_transform_file_of_the_wrong_direction_is_refused(
    tmp_path: Path, patient: SyntheticPatient, moved: MovedStudy
) -> None:
    path = tmp_path / "inverse.tfm"
    sitk.WriteTransform(moved.transform.GetInverse(), str(path))
    with pytest.raises(RegistrationError, match=r"inverse\.tfm.*(correlate|lies inside)"):
        read_registration(path, patient.ct, patient.structures.get("Liver"), moved.ct)


def test_transform_shifting_the_liver_out_of_the_ct_is_refused(
    tmp_path: Path, patient: SyntheticPatient, moved: MovedStudy
) -> None:
    far = sitk.TranslationTransform(3, (0.0, 0.0, 500.0))
    path = tmp_path / "far.tfm"
    sitk.WriteTransform(far, str(path))
    with pytest.raises(RegistrationError, match=r"only 0% of the liver region"):
        read_registration(path, patient.ct, patient.structures.get("Liver"), moved.ct)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ((-1.0, 0, 0, 0, 1, 0, 0, 0, 1), "reflection"),
        ((math.cos(0.6), -math.sin(0.6), 0, math.sin(0.6), math.cos(0.6), 0, 0, 0, 1), "34.4 deg"),
    ],
)
def test_implausible_transform_files_are_refused(
    tmp_path: Path, patient: SyntheticPatient, matrix: tuple[float, ...], message: str
) -> None:
    path = tmp_path / "odd.tfm"
    sitk.WriteTransform(sitk.AffineTransform(matrix, (0.0, 0.0, 0.0)), str(path))
    with pytest.raises(RegistrationError, match=message):
        read_registration(path, patient.ct, patient.structures.get("Liver"), None)


def test_unreadable_transform_file_is_named(tmp_path: Path, patient: SyntheticPatient) -> None:
    path = tmp_path / "broken.tfm"
    path.write_text("not a transform\n")
    with pytest.raises(InputError, match=r"broken\.tfm is not a readable ITK transform"):
        read_registration(path, patient.ct, patient.structures.get("Liver"), None)


def test_unrelated_image_is_refused(patient: SyntheticPatient, moved: MovedStudy) -> None:
    noise = np.random.default_rng(3).normal(0.0, 300.0, moved.ct.shape).astype(np.float32)
    with pytest.raises(RegistrationError, match=r"correlate only|lies inside the study's CT"):
        register_ct(patient.ct, patient.structures.get("Liver"), moved.ct.with_array(noise))


def test_ct_without_the_liver_is_refused(patient: SyntheticPatient, moved: MovedStudy) -> None:
    head = moved.ct.crop((slice(moved.ct.shape[0] - 6, None), slice(None), slice(None)))
    with pytest.raises(RegistrationError, match=r"of the liver region .* lies inside"):
        register_ct(patient.ct, patient.structures.get("Liver"), head)


def test_resampling_conserves_counts_and_places_them(
    patient: SyntheticPatient, moved: MovedStudy, rigid: Registration
) -> None:
    image, registration = resample_into_frame(moved.pet, rigid, patient.ct)
    assert image.frame_of_reference_uid == patient.ct.frame_of_reference_uid
    assert image.spacing_mm == moved.pet.spacing_mm
    total = float(np.sum(moved.pet.array, dtype=np.float64)) * moved.pet.voxel_volume_ml
    assert float(np.sum(image.array, dtype=np.float64)) * image.voxel_volume_ml == pytest.approx(
        total, rel=1e-5
    )
    assert registration.resampling_scale == pytest.approx(1.0, abs=0.02)
    # the liver's counts land in the planning liver: compare with the PET in register
    reference = patient.pet.image
    liver = patient.structures.get("Liver")
    in_register = reference.total(reference.with_array(_on(liver, reference))) / reference.total()
    registered = image.total(image.with_array(_on(liver, image))) / image.total()
    assert registered == pytest.approx(in_register, rel=0.03)


def _on(mask: Volume, grid: Volume) -> np.ndarray:
    return np.asarray(mask.resample_to(grid, interpolation="nearest").array, dtype=bool)
