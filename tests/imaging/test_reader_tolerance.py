"""The DICOM reader accepts what scanners write (with warnings) and refuses the ambiguous."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest

from opensirt.errors import ImageReadError
from opensirt.imaging import read_image
from opensirt.imaging.dicom_common import DicomContext, save_dataset
from opensirt.imaging.dicom_write import Radiopharmaceutical, ct_datasets, nm_dataset, write_series
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import NuclideName

WHEN = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def _volume(seed: int = 0) -> Volume:
    rng = np.random.default_rng(seed)
    return Volume(
        rng.integers(-1000, 1500, size=(7, 6, 5)).astype(np.float32),
        spacing_mm=(1.5, 2.0, 3.0),
        origin_mm=(-10.0, 4.0, 100.0),
        frame_of_reference_uid=DicomContext("DEMO-003", WHEN, "r").frame_of_reference_uid,
    )


def _write_ct(folder: Path, key: str = "r") -> list[Path]:
    context = DicomContext("DEMO-003", WHEN, key)
    return write_series(ct_datasets(_volume(), context, acquired=WHEN), folder, f"CT{key}")


def test_shuffled_file_names_give_the_same_volume(tmp_path: Path) -> None:
    paths = _write_ct(tmp_path / "a")
    names = [p.name for p in paths]
    random.Random(3).shuffle(names)
    shuffled = tmp_path / "b"
    shuffled.mkdir()
    for src, name in zip(paths, names, strict=True):
        (shuffled / name).write_bytes(src.read_bytes())
    volume = read_image(shuffled)
    expected = _volume()
    assert volume.same_grid(expected)
    np.testing.assert_array_equal(volume.array, expected.array)


def test_missing_rescale_and_thickness_warn(tmp_path: Path) -> None:
    for path in _write_ct(tmp_path):
        ds = pydicom.dcmread(path)
        del ds.RescaleSlope, ds.RescaleIntercept, ds.SliceThickness
        save_dataset(ds, path)
    with pytest.warns(UserWarning, match="no RescaleSlope/RescaleIntercept"):
        volume = read_image(tmp_path)
    np.testing.assert_array_equal(volume.array, _volume().array)
    assert volume.spacing_mm[2] == pytest.approx(3.0)


def test_missing_slice_is_filled_with_a_warning(tmp_path: Path) -> None:
    paths = _write_ct(tmp_path)
    paths[3].unlink()
    with pytest.warns(UserWarning, match=r"1 slice\(s\) missing \(indices \[3\]\)"):
        volume = read_image(tmp_path)
    expected = _volume().array
    np.testing.assert_allclose(volume.array[3], (expected[2] + expected[4]) / 2)
    assert volume.shape == (7, 6, 5)


def test_duplicate_positions_are_refused(tmp_path: Path) -> None:
    paths = _write_ct(tmp_path)
    ds = pydicom.dcmread(paths[1])
    ds.ImagePositionPatient = pydicom.dcmread(paths[0]).ImagePositionPatient
    save_dataset(ds, paths[1])
    with pytest.raises(ImageReadError, match="two slices share a position"):
        read_image(tmp_path)


def test_irregular_spacing_is_refused(tmp_path: Path) -> None:
    paths = _write_ct(tmp_path)
    ds = pydicom.dcmread(paths[2])
    position = [float(v) for v in ds.ImagePositionPatient]
    ds.ImagePositionPatient = [position[0], position[1], position[2] + 1.2]
    save_dataset(ds, paths[2])
    with pytest.raises(ImageReadError, match="irregular"):
        read_image(tmp_path)


def test_two_series_in_one_folder_name_both(tmp_path: Path) -> None:
    _write_ct(tmp_path, "r")
    _write_ct(tmp_path, "s")
    with pytest.raises(ImageReadError, match=r"(?s)2 image series.*\(CT, .*7 files.*series_uid="):
        read_image(tmp_path)


def test_non_dicom_files_are_skipped(tmp_path: Path) -> None:
    _write_ct(tmp_path)
    (tmp_path / "notes.txt").write_text("not DICOM")
    with pytest.warns(UserWarning, match="skipped 1 file"):
        assert read_image(tmp_path).shape == (7, 6, 5)


def test_nm_without_spacing_between_slices_uses_thickness(tmp_path: Path) -> None:
    counts = Volume(
        np.arange(4 * 3 * 2, dtype=float).reshape(4, 3, 2),
        spacing_mm=(4.42, 4.42, 4.42),
        origin_mm=(1.0, 2.0, 3.0),
    )
    context = DicomContext("DEMO-003", WHEN, "nm")
    pharma = Radiopharmaceutical(NuclideName.TC99M, "Tc-99m MAA", 150.0, WHEN)
    ds = nm_dataset(counts, context, pharma, acquired=WHEN, duration_s=600.0)
    del ds.SpacingBetweenSlices
    path = save_dataset(ds, tmp_path / "nm.dcm")
    with pytest.warns(UserWarning, match="SpacingBetweenSlices missing"):
        volume = read_image(path)
    np.testing.assert_array_equal(volume.array, counts.array)
    assert volume.origin_mm == pytest.approx(counts.origin_mm)
    assert volume.metadata["acquisition_duration_s"] == pytest.approx(600.0)


def test_nm_projection_data_is_refused(tmp_path: Path) -> None:
    counts = Volume(np.ones((2, 3, 3)), spacing_mm=(4, 4, 4))
    pharma = Radiopharmaceutical(NuclideName.TC99M, "Tc-99m MAA", 150.0, WHEN)
    ds = nm_dataset(counts, DicomContext("D", WHEN, "p"), pharma, acquired=WHEN, duration_s=60)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "TOMO", "EMISSION"]
    path = save_dataset(ds, tmp_path / "nm.dcm")
    with pytest.raises(ImageReadError, match="expected RECON TOMO"):
        read_image(path)


def test_real_world_value_mapping_is_applied(tmp_path: Path) -> None:
    counts = Volume(np.full((2, 3, 3), 10.0), spacing_mm=(4, 4, 4))
    pharma = Radiopharmaceutical(NuclideName.TC99M, "Tc-99m MAA", 150.0, WHEN)
    ds = nm_dataset(counts, DicomContext("D", WHEN, "w"), pharma, acquired=WHEN, duration_s=60)
    mapping = pydicom.Dataset()
    mapping.RealWorldValueSlope, mapping.RealWorldValueIntercept = 2.5, 1.0
    unit = pydicom.Dataset()
    unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "Bq/ml", "UCUM", "Bq/ml"
    mapping.MeasurementUnitsCodeSequence = [unit]
    ds.RealWorldValueMappingSequence = [mapping]
    volume = read_image(save_dataset(ds, tmp_path / "nm.dcm"))
    assert volume.units == "Bq/mL"
    np.testing.assert_allclose(volume.array, 26.0)  # 10 x 2.5 + 1
