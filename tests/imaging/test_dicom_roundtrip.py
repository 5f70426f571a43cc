"""The phantom written as DICOM and read back: values, geometry, metadata, other readers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from opensirt.demo.dicom import PhantomDicomPaths
from opensirt.demo.phantom import SyntheticPatient
from opensirt.errors import ImageReadError
from opensirt.imaging import MetaKey, read_image


def test_ct_round_trip(phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths) -> None:
    ct = read_image(phantom_dicom.ct_dir)
    assert ct.same_grid(phantom.ct)
    assert ct.frame_of_reference_uid == phantom.ct.frame_of_reference_uid
    assert ct.units == "HU"
    # stored as int16 HU: rounding is the only change
    np.testing.assert_array_equal(ct.array, np.rint(phantom.ct.array))
    assert ct.metadata[MetaKey.PATIENT_ID] == "DEMO-001"


def test_spect_round_trip(phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths) -> None:
    nm = read_image(phantom_dicom.spect_file)
    assert nm.same_grid(phantom.maa.image)
    assert nm.spacing_mm == pytest.approx((4.42, 4.42, 4.42))
    assert nm.units == "counts"
    np.testing.assert_array_equal(nm.array, phantom.maa.image.array)
    meta = nm.metadata
    assert meta[MetaKey.RADIONUCLIDE] == "Tc-99m"
    assert meta[MetaKey.ACQUISITION_DURATION_S] == pytest.approx(1200.0)
    assert meta[MetaKey.ACQUISITION_DATETIME] == phantom.maa.acquisition_datetime
    assert meta[MetaKey.RADIOPHARMACEUTICAL_START_DATETIME] == (
        phantom.maa.radiopharmaceutical.administration_datetime
    )
    assert meta[MetaKey.RADIONUCLIDE_TOTAL_DOSE_BQ] == pytest.approx(150e6)


def test_pet_round_trip(phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths) -> None:
    pt = read_image(phantom_dicom.pet_dir)
    truth = phantom.pet.image
    assert pt.same_grid(truth)
    assert pt.units == "Bq/mL"
    # per-slice slope = slice max / 32767: the error is at most half a step
    step = np.abs(truth.array).max(axis=(1, 2)) / 32767.0
    assert np.all(np.abs(pt.array - truth.array) <= step[:, None, None] * 0.5 + 1e-6)
    meta = pt.metadata
    assert meta[MetaKey.DECAY_CORRECTION] == "START"
    assert meta[MetaKey.ACTIVITY_REFERENCE_DATETIME] == phantom.pet.acquisition_datetime
    assert meta[MetaKey.RADIONUCLIDE] == "Y-90"
    assert meta[MetaKey.ACQUISITION_DURATION_S] == pytest.approx(1800.0)


def test_folder_with_several_series_is_refused(phantom_root: Path) -> None:
    with pytest.raises(ImageReadError, match=r"(?s)holds 3 image series.*CT.*NM.*PT.*series_uid="):
        read_image(phantom_root)
    ct = read_image(phantom_root, modality="CT")
    assert ct.units == "HU"


def test_choose_by_series_uid(phantom_root: Path, phantom_dicom: PhantomDicomPaths) -> None:
    uid = pydicom.dcmread(phantom_dicom.spect_file).SeriesInstanceUID
    assert read_image(phantom_root, series_uid=uid).units == "counts"
    with pytest.raises(ImageReadError, match=r"(?s)no image series.*matches"):
        read_image(phantom_root, series_uid="1.2.3")


def test_other_readers_accept_the_files(
    phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths
) -> None:
    import highdicom as hd

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(phantom_dicom.ct_dir)))
    image = reader.Execute()
    assert image.GetSize() == phantom.ct.shape[::-1]
    np.testing.assert_allclose(image.GetOrigin(), phantom.ct.origin_mm, atol=1e-3)
    seg = hd.seg.segread(phantom_dicom.seg_file)
    labels = {seg.get_segment_description(n).segment_label for n in seg.segment_numbers}
    assert labels == set(phantom.structures.names)
    rt = pydicom.dcmread(phantom_dicom.rtstruct_file)
    assert rt.FrameOfReferenceUID == phantom.ct.frame_of_reference_uid


def test_dciodvfy_reports_no_error(
    phantom_dicom: PhantomDicomPaths, dciodvfy: Callable[[Path], str]
) -> None:
    files = [
        next(phantom_dicom.ct_dir.iterdir()),
        phantom_dicom.spect_file,
        next(phantom_dicom.pet_dir.iterdir()),
        phantom_dicom.rtstruct_file,
        phantom_dicom.seg_file,
    ]
    for file in files:
        report = dciodvfy(file)
        assert [line for line in report.splitlines() if "Error" in line] == [], report
