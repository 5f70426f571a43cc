"""Enhanced multi-frame images (per-frame functional groups, DICOM PS3.3 C.7.6.16)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from opensirt.errors import ImageReadError
from opensirt.imaging import read_image

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def _item(**values: object) -> Dataset:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


def _enhanced_ct(
    path: Path, stored: np.ndarray, order: list[int], *, with_positions: bool = True
) -> Path:
    """An Enhanced CT of ``stored`` (k, j, i) with 2.5 x 2.0 mm pixels, 3 mm slices, frames
    written in ``order``; HU = stored - 1024 (shared Pixel Value Transformation)."""
    nk, nj, ni = stored.shape
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = ENHANCED_CT, generate_uid()
    ds.Modality, ds.PatientID = "CT", "TEST-ENH"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames = nj, ni, nk
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit, ds.PixelRepresentation = 15, 0
    ds.SharedFunctionalGroupsSequence = [
        _item(
            PixelMeasuresSequence=[_item(PixelSpacing=[2.0, 2.5], SliceThickness=3.0)],
            PlaneOrientationSequence=[_item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])],
            PixelValueTransformationSequence=[
                _item(RescaleSlope=1, RescaleIntercept=-1024, RescaleType="HU")
            ],
        )
    ]
    frames = []
    for k in order:
        groups = Dataset()
        if with_positions:
            groups.PlanePositionSequence = [_item(ImagePositionPatient=[-10.0, 20.0, 3.0 * k])]
        frames.append(groups)
    ds.PerFrameFunctionalGroupsSequence = frames
    ds.PixelData = np.ascontiguousarray(stored[order]).astype("<u2").tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def test_enhanced_ct_frames_are_sorted_rescaled_and_placed(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2000, size=(5, 4, 6)).astype(np.uint16)
    path = _enhanced_ct(tmp_path / "enh.dcm", stored, order=[3, 0, 4, 1, 2])
    volume = read_image(path)
    np.testing.assert_array_equal(volume.array, stored.astype(np.float64) - 1024.0)
    assert volume.units == "HU"
    # PixelSpacing is (row spacing, column spacing) = (y, x)
    assert volume.spacing_mm == pytest.approx((2.5, 2.0, 3.0))
    assert volume.origin_mm == pytest.approx((-10.0, 20.0, 0.0))
    # voxel (i=5, j=3, k=4) lies at x = -10 + 5 * 2.5, y = 20 + 3 * 2.0, z = 4 * 3
    assert volume.index_to_physical([5, 3, 4]) == pytest.approx([2.5, 26.0, 12.0])


def test_enhanced_frame_without_position_is_refused(tmp_path: Path) -> None:
    stored = np.zeros((2, 3, 3), dtype=np.uint16)
    path = _enhanced_ct(tmp_path / "enh.dcm", stored, order=[0, 1], with_positions=False)
    with pytest.raises(ImageReadError, match="frame 1 has no PlanePositionSequence"):
        read_image(path)
