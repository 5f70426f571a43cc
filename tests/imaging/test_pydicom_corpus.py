"""Every file of pydicom's bundled test files and of the pydicom-data package is either read
correctly (geometry against its own tags, values against pydicom's own decoding) or refused
with an OpenSIRTError that names the file; nothing else is raised.

The directories are read where they are installed (no download).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from opensirt.errors import OpenSIRTError
from opensirt.imaging import Volume, read_image

pytestmark = pytest.mark.filterwarnings("ignore")


def _corpus_dirs() -> list[Path]:
    dirs = [Path(pydicom.__file__).parent / "data" / "test_files"]
    try:
        import data_store  # the pydicom-data package

        dirs.append(Path(data_store.__file__).parent / "data")
    except ImportError:  # pragma: no cover - declared as a test dependency
        pass
    return [d for d in dirs if d.is_dir()]


FILES = sorted(p for d in _corpus_dirs() for p in d.rglob("*") if p.is_file())


def _expected_values(path: Path) -> tuple[pydicom.Dataset, np.ndarray]:
    """The file's values as pydicom decodes them, mapped by its own rescale tags."""
    ds = pydicom.dcmread(path, force=True)
    stored = np.asarray(ds.pixel_array, dtype=np.float64)
    rescale = ds
    for groups in ds.get("SharedFunctionalGroupsSequence", []):  # enhanced: a shared rescale
        rescale = (groups.get("PixelValueTransformationSequence") or [ds])[0]
    slope = float(rescale.get("RescaleSlope", ds.get("DoseGridScaling", 1.0)) or 1.0)
    intercept = float(rescale.get("RescaleIntercept", 0.0) or 0.0)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return ds, (stored * slope + intercept).reshape(frames, int(ds.Rows), int(ds.Columns))


def _check_geometry(volume: Volume, ds: pydicom.Dataset, values: np.ndarray) -> None:
    frames = values.shape[0]
    assert volume.shape == values.shape
    measures = ds
    if "SharedFunctionalGroupsSequence" in ds:
        shared = ds.SharedFunctionalGroupsSequence[0]
        if "PixelMeasuresSequence" in shared:
            measures = shared.PixelMeasuresSequence[0]
    row_mm, column_mm = (float(v) for v in measures.PixelSpacing)
    assert volume.spacing_mm[:2] == pytest.approx((column_mm, row_mm))
    if frames == 1 or "GridFrameOffsetVector" in ds:  # single slice or RT Dose: its own tags
        assert volume.origin_mm == pytest.approx([float(v) for v in ds.ImagePositionPatient])
        cosines = np.asarray([float(v) for v in ds.ImageOrientationPatient])
        direction = volume.direction_matrix
        np.testing.assert_allclose(direction[:, 0], cosines[:3] / np.linalg.norm(cosines[:3]))
        np.testing.assert_allclose(direction[:, 1], cosines[3:] / np.linalg.norm(cosines[3:]))
    if "GridFrameOffsetVector" in ds:
        offsets = [float(v) for v in ds.GridFrameOffsetVector]
        assert volume.spacing_mm[2] == pytest.approx(abs(offsets[1] - offsets[0]))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_is_read_correctly_or_refused_clearly(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            volume = read_image(path)
        except OpenSIRTError as exc:
            refusal: str | None = str(exc)
        else:
            refusal = None
        if refusal is not None:
            # a DICOMDIR is read through the files it references: the message names that file
            named = str(path.parent) if path.name.upper() == "DICOMDIR" else path.name
            assert named in refusal, f"the message does not name the file: {refusal}"
            return
        ds, values = _expected_values(path)
    _check_geometry(volume, ds, values)
    if values.shape[0] == 1:
        np.testing.assert_allclose(volume.array[0], values[0], rtol=1e-6, atol=1e-6)
    else:  # frames are sorted along the normal: compare them as a set
        got = sorted(float(v) for v in volume.array.sum(axis=(1, 2)))
        want = sorted(float(v) for v in values.sum(axis=(1, 2)))
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert isinstance(volume.metadata["reader_warnings"], tuple)


def test_corpus_is_installed_and_mostly_images() -> None:
    assert len(FILES) > 100, "pydicom's test files and pydicom-data should be installed"


#: Greyscale corpus files per compressed transfer syntax that lack only a patient position
#: (the files above that read fully cover JPEG Lossless SV1, JPEG-LS lossless, JPEG 2000, RLE).
_NEEDS_POSITION = (
    "JPGExtended.dcm",  # JPEG Extended
    "JPEG-LL.dcm",  # JPEG Lossless, First-Order Prediction
    "JPEGLSNearLossless_16.dcm",  # JPEG-LS near-lossless
    "JPEG2000.dcm",  # JPEG 2000
)


@pytest.mark.parametrize("name", _NEEDS_POSITION)
def test_compressed_transfer_syntaxes_decode(name: str, tmp_path: Path) -> None:
    matches = [p for p in FILES if p.name == name]
    if not matches:  # pragma: no cover - pydicom-data holds some of them
        pytest.skip(f"{name} is not installed")
    ds = pydicom.dcmread(matches[0])
    ds.ImagePositionPatient = [-10.0, 20.0, 30.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = ds.get("PixelSpacing") or [0.5, 0.5]
    ds.Modality = ds.get("Modality") or "OT"
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=False)
    volume = read_image(path)
    _, values = _expected_values(path)
    assert volume.origin_mm == pytest.approx((-10.0, 20.0, 30.0))
    np.testing.assert_allclose(volume.array[0], values[0])


def _modality(path: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        return str(ds.get("Modality", ""))
    except Exception:  # not DICOM: not a structure file
        return ""


STRUCTURE_FILES = [p for p in FILES if p.suffix == ".dcm" and _modality(p) in {"SEG", "RTSTRUCT"}]


@pytest.mark.parametrize("path", STRUCTURE_FILES, ids=lambda p: p.name)
def test_corpus_structures_are_read_or_refused_clearly(path: Path) -> None:
    """SEGs on their own grid give highdicom's voxels; RTSTRUCTs (whose CT is not bundled)
    read or are refused by name."""
    import highdicom as hd

    from opensirt.imaging import Segmentation
    from opensirt.imaging.dicom_seg import _volume_from_hd

    dummy = Volume(np.zeros((3, 4, 4)), spacing_mm=(1.0, 1.0, 1.0))
    try:
        source = hd.seg.segread(path)
        frame = str(source.FrameOfReferenceUID)
        truths = {
            str(source.get_segment_description(n).segment_label): _volume_from_hd(
                source.get_volume(segment_numbers=[n]), frame
            )
            for n in source.segment_numbers
        }
    except Exception:  # highdicom cannot read it (an RTSTRUCT, a big-endian or cut SEG)
        truths = {}
    for label, truth in truths.items() or [("", dummy)]:
        try:
            read = _read_structures(path, truth.with_array(np.zeros(truth.shape)))
        except OpenSIRTError as exc:
            refusal: str | None = str(exc)
        else:
            refusal = None
            assert isinstance(read, Segmentation)
            if label:
                expected_ml = np.count_nonzero(truth.array) * truth.voxel_volume_ml
                assert read.volume_ml(label) == pytest.approx(expected_ml)
        assert refusal is None or path.name in refusal, refusal


def _read_structures(path: Path, reference: Volume) -> object:
    from opensirt.imaging import read_dicom_seg, read_rtstruct

    if _modality(path) == "RTSTRUCT":
        return read_rtstruct(path, reference)
    return read_dicom_seg(path, reference)
