"""Malformed DICOM found by fuzzing: each is refused with an ImageReadError naming the file, or
read correctly; reader tolerances are arguments and every warning is kept with the result."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from copy import deepcopy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import RLELossless

from opensirt.errors import ImageReadError
from opensirt.imaging import Segmentation, read_dicom_seg, read_image, read_rtstruct
from opensirt.imaging.dicom_common import DicomContext
from opensirt.imaging.dicom_file import MAX_PIXEL_BYTES

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

WHEN = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
SmallDicom = Any  # the ``small_dicom`` fixture of conftest.py (CT files, NM, RTSTRUCT, SEG)


def _copy(files: tuple[Path, ...] | Path, folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = [files] if isinstance(files, Path) else list(files)
    return [Path(shutil.copy(p, folder / p.name)) for p in paths]


def _mutate(path: Path, change: Callable[[Dataset], None]) -> Path:
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=False)
    return path


def _truncate(path: Path, n_bytes: int) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:-n_bytes])
    return path


def _no_meta(path: Path) -> Path:
    ds = pydicom.dcmread(path)
    del ds.file_meta
    ds.preamble = None
    pydicom.dcmwrite(path, ds, implicit_vr=False, little_endian=True)
    return path


# ---------------------------------------------------------------- images
def test_truncated_ct_pixel_data_names_the_file(small_dicom: SmallDicom, tmp_path: Path) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "ct")
    _truncate(paths[2], 20)
    with pytest.raises(
        ImageReadError, match=rf"{paths[2].name}: the pixel data holds .* truncated"
    ):
        read_image(tmp_path / "ct")


def test_truncated_nm_and_header_name_the_file(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (nm,) = _copy(small_dicom.nm_file, tmp_path)
    _truncate(nm, 50)
    with pytest.raises(ImageReadError, match=r"nm\.dcm: the pixel data holds"):
        read_image(nm)
    nm.write_bytes(small_dicom.nm_file.read_bytes()[:400])  # cut inside the header
    with pytest.raises(ImageReadError, match=r"nm\.dcm"):
        read_image(nm)


def test_truncated_pet_slice(small_dicom: SmallDicom, tmp_path: Path) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "pt")
    for p in paths:
        _mutate(p, lambda ds: setattr(ds, "Modality", "PT"))
    _truncate(paths[0], 7)
    with pytest.raises(ImageReadError, match=rf"{paths[0].name}: the pixel data"):
        read_image(tmp_path / "pt")


def test_missing_pixel_data(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.ct_files[0], tmp_path)
    _mutate(path, lambda ds: delattr(ds, "PixelData"))
    with pytest.raises(ImageReadError, match=rf"{path.name}: no PixelData"):
        read_image(path)


def test_file_without_meta_header_is_read_with_a_warning(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "ct")
    for p in paths:
        _no_meta(p)
    volume = read_image(tmp_path / "ct")
    assert volume.same_grid(small_dicom.ct)
    np.testing.assert_array_equal(volume.array, small_dicom.ct.array)
    assert any("no DICOM preamble" in w for w in volume.metadata["reader_warnings"])


def test_non_dicom_file_given_alone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcm"
    path.write_text("a radiology report, not an image\n" * 20)
    with pytest.raises(ImageReadError, match=r"notes\.dcm: not a DICOM file"):
        read_image(path)


def test_huge_matrix_is_refused_before_allocating(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.ct_files[0], tmp_path)

    def huge(ds: Dataset) -> None:
        ds.Rows = ds.Columns = 65535

    _mutate(path, huge)
    with pytest.raises(ImageReadError, match=rf"{path.name}: Rows 65535 .* 8.0 GiB, more than"):
        read_image(path)
    assert MAX_PIXEL_BYTES == 4 * 2**30


@pytest.mark.parametrize(("factor", "expected"), [(2.0, "truncated"), (0.5, "NumberOfFrames is")])
def test_number_of_frames_doubled_or_halved(
    small_dicom: SmallDicom, tmp_path: Path, factor: float, expected: str
) -> None:
    (nm,) = _copy(small_dicom.nm_file, tmp_path)

    def frames(ds: Dataset) -> None:
        n = int(int(ds.NumberOfFrames) * factor)
        ds.NumberOfFrames = n
        ds.SliceVector = list(range(1, n + 1))
        ds.EnergyWindowVector = [1] * n
        ds.DetectorVector = [1] * n

    _mutate(nm, frames)
    with pytest.raises(ImageReadError, match=rf"nm\.dcm: the pixel data holds .*{expected}"):
        read_image(nm)


@pytest.mark.parametrize("factor", [2, 0.5])
def test_number_of_frames_changed_alone_names_the_vector(
    small_dicom: SmallDicom, tmp_path: Path, factor: float
) -> None:
    """The frame vectors keep their length: the message counts them (it printed them all)."""
    (nm,) = _copy(small_dicom.nm_file, tmp_path)
    n = int(pydicom.dcmread(nm).NumberOfFrames)
    _mutate(nm, lambda ds: setattr(ds, "NumberOfFrames", int(n * factor)))
    match = rf"nm\.dcm: \w+Vector holds {n} values but NumberOfFrames is {int(n * factor)}; "
    with pytest.raises(ImageReadError, match=match) as error:
        read_image(nm)
    assert len(str(error.value)) < 400


@pytest.mark.parametrize("value", ["nan", None])
def test_nan_or_missing_slice_position(
    small_dicom: SmallDicom, tmp_path: Path, value: str | None
) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "ct")

    def position(ds: Dataset) -> None:
        if value is None:
            del ds.ImagePositionPatient
        else:
            ds.ImagePositionPatient = ["0", value, "12"]

    _mutate(paths[3], position)
    expected = "finite numbers" if value else "ImagePositionPatient is missing"
    with pytest.raises(ImageReadError, match=rf"{paths[3].name}: .*{expected}"):
        read_image(tmp_path / "ct")


_EXPLICIT_LE = b"1.2.840.10008.1.2.1\x00"  # Explicit VR Little Endian, padded to 20 bytes
_RLE = b"1.2.840.10008.1.2.5\x00"  # RLE Lossless: the same length, so the header stays valid


def test_raw_data_labelled_compressed_and_back(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.ct_files[0], tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw.replace(_EXPLICIT_LE, _RLE, 1))
    with pytest.raises(ImageReadError, match=r"raw bytes labelled as compressed"):
        read_image(path)
    path.write_bytes(raw)
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    path.write_bytes(path.read_bytes().replace(_RLE, _EXPLICIT_LE, 1))
    with pytest.raises(ImageReadError, match=r"encapsulated \(compressed\) but the transfer"):
        read_image(path)


def test_compressed_series_decodes(small_dicom: SmallDicom, tmp_path: Path) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "ct")
    for p in paths:
        ds = pydicom.dcmread(p)
        ds.compress(RLELossless)
        ds.save_as(p)
    volume = read_image(tmp_path / "ct")
    np.testing.assert_array_equal(volume.array, small_dicom.ct.array)


def test_missing_decoder_names_syntax_and_package(
    small_dicom: SmallDicom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydicom.pixels.decoders.base import get_decoder

    (path,) = _copy(small_dicom.ct_files[0], tmp_path)
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    decoder = get_decoder(RLELossless)
    monkeypatch.setattr(decoder, "_available", {}, raising=False)
    monkeypatch.setattr(type(decoder), "is_available", property(lambda self: False))
    with pytest.raises(ImageReadError, match=r"no decoder installed for transfer syntax RLE .*rle"):
        read_image(path)


@pytest.mark.parametrize(
    ("keyword", "vr", "value", "expected"),
    [
        ("NumberOfFrames", "IS", "1A", "NumberOfFrames is not a valid integer"),
        ("SliceThickness", "DS", "3.0a", "SliceThickness is .*3.0a"),
        ("RescaleIntercept", "DS", "abc", "RescaleIntercept is not a decimal number"),
    ],
)
def test_invalid_number_strings(
    small_dicom: SmallDicom, tmp_path: Path, keyword: str, vr: str, value: str, expected: str
) -> None:
    (path,) = _copy(small_dicom.ct_files[0], tmp_path)
    ds = pydicom.dcmread(path)
    tag = Tag(keyword)
    text = value.encode() + b" " * (len(value) % 2)
    ds._dict[tag] = RawDataElement(tag, vr, len(text), text, 0, False, True)  # as read from disk
    ds.save_as(path, enforce_file_format=False)
    with pytest.raises(ImageReadError, match=rf"{path.name}: .*{expected}"):
        read_image(path)


def test_rescale_slope_zero_is_refused(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.ct_files[0], tmp_path)
    _mutate(path, lambda ds: setattr(ds, "RescaleSlope", 0))
    with pytest.raises(ImageReadError, match=rf"{path.name}: RescaleSlope is 0.*not 1"):
        read_image(path)


def test_nm_reconstruction_without_position_is_refused(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    """Placed at (0, 0, 0) it would lie anywhere relative to its CT: refused, not guessed."""
    (nm,) = _copy(small_dicom.nm_file, tmp_path)

    def drop(ds: Dataset) -> None:
        for item in ds.get("DetectorInformationSequence", []):
            if "ImagePositionPatient" in item:
                del item.ImagePositionPatient
        if "ImagePositionPatient" in ds:
            del ds.ImagePositionPatient

    _mutate(nm, drop)
    with pytest.raises(ImageReadError, match=rf"{nm.name}: no ImagePositionPatient.*cannot be"):
        read_image(nm)


def test_half_a_rescale_pair_is_a_reader_warning(small_dicom: SmallDicom, tmp_path: Path) -> None:
    """A PET without RescaleSlope was read as slope 1 without a word (found by a hostile test;
    verify then blamed the assay)."""
    paths = _copy(small_dicom.ct_files, tmp_path / "pt")
    for p in paths:
        _mutate(p, lambda ds: (setattr(ds, "Modality", "PT"), delattr(ds, "RescaleSlope")))
    volume = read_image(tmp_path / "pt")
    assert any(
        "RescaleSlope is missing (its partner" in w for w in volume.metadata["reader_warnings"]
    )


# ---------------------------------------------------------------- tolerances and warnings
def _drop_slice(small_dicom: SmallDicom, folder: Path, modality: str) -> None:
    paths = _copy(small_dicom.ct_files, folder)
    for p in paths:
        _mutate(p, lambda ds: setattr(ds, "Modality", modality))
    paths[2].unlink()


def test_missing_slice_refused_for_emission_unless_allowed(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    _drop_slice(small_dicom, tmp_path / "pt", "PT")
    with pytest.raises(ImageReadError, match=r"1 slice\(s\) of the PT series are missing"):
        read_image(tmp_path / "pt")
    volume = read_image(tmp_path / "pt", allow_missing_slices=True)
    assert volume.shape == small_dicom.ct.shape
    assert any("filled by linear interpolation" in w for w in volume.metadata["reader_warnings"])


def test_missing_ct_slice_filled_by_default_and_refused_on_request(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    _drop_slice(small_dicom, tmp_path / "ct", "CT")
    with pytest.warns(UserWarning, match="filled by linear interpolation"):
        volume = read_image(tmp_path / "ct")
    expected = small_dicom.ct.array
    np.testing.assert_allclose(volume.array[2], (expected[1] + expected[3]) / 2)
    with pytest.raises(ImageReadError, match="allow_missing_slices=True"):
        read_image(tmp_path / "ct", allow_missing_slices=False)


def test_uneven_spacing_refused_for_emission_unless_allowed(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    paths = _copy(small_dicom.ct_files, tmp_path / "pt")
    for p in paths:
        _mutate(p, lambda ds: setattr(ds, "Modality", "PT"))

    def jitter(ds: Dataset) -> None:
        x, y, z = (float(v) for v in ds.ImagePositionPatient)
        ds.ImagePositionPatient = [x, y, z + 0.05]

    _mutate(paths[3], jitter)
    with pytest.raises(ImageReadError, match=r"allow_uneven_spacing=True"):
        read_image(tmp_path / "pt")
    assert read_image(tmp_path / "pt", spacing_tolerance_mm=0.1).shape == small_dicom.ct.shape
    volume = read_image(tmp_path / "pt", allow_uneven_spacing=True)
    assert any("deviate up to" in w for w in volume.metadata["reader_warnings"])


def test_clean_series_has_no_reader_warnings(small_dicom: SmallDicom) -> None:
    volume = read_image(small_dicom.ct_files[0].parent)
    assert volume.metadata["reader_warnings"] == ()


# ---------------------------------------------------------------- RTSTRUCT
def _contour_change(path: Path, change: Callable[[Dataset], None]) -> Path:
    return _mutate(path, lambda ds: change(ds.ROIContourSequence[0].ContourSequence[0]))


def test_rtstruct_without_meta_header_reads(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.rtstruct_file, tmp_path)
    expected = read_rtstruct(small_dicom.rtstruct_file, small_dicom.ct)
    seg = read_rtstruct(_no_meta(path), small_dicom.ct)
    np.testing.assert_array_equal(seg["Liver"].array, expected["Liver"].array)
    assert any("no DICOM preamble" in w for w in seg.warnings)


def test_rtstruct_3n_minus_1_coordinates(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.rtstruct_file, tmp_path)
    _contour_change(path, lambda c: setattr(c, "ContourData", list(c.ContourData)[:-1]))
    with pytest.raises(ImageReadError, match=r"rs\.dcm: a contour of 'Liver' has \d+ Contour"):
        read_rtstruct(path, small_dicom.ct)


def test_rtstruct_nan_coordinate(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.rtstruct_file, tmp_path)
    _contour_change(path, lambda c: setattr(c, "ContourData", ["nan", *c.ContourData[1:]]))
    with pytest.raises(ImageReadError, match=r"rs\.dcm: .*not a finite number"):
        read_rtstruct(path, small_dicom.ct)


def test_rtstruct_truncated(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.rtstruct_file, tmp_path)
    _truncate(path, path.stat().st_size // 3)
    with pytest.raises(ImageReadError, match=r"rs\.dcm"):
        read_rtstruct(path, small_dicom.ct)


# ---------------------------------------------------------------- SEG
def test_seg_one_frame_short_is_refused(small_dicom: SmallDicom, tmp_path: Path) -> None:
    (path,) = _copy(small_dicom.seg_file, tmp_path)
    _mutate(path, lambda ds: setattr(ds, "NumberOfFrames", int(ds.NumberOfFrames) - 1))
    with pytest.raises(ImageReadError, match=r"seg\.dcm: NumberOfFrames is \d+ but \d+ per-frame"):
        read_dicom_seg(path, small_dicom.ct)

    def drop_frame(ds: Dataset) -> None:
        rows, columns = int(ds.Rows), int(ds.Columns)
        n = int(ds.NumberOfFrames)
        bits = np.unpackbits(np.frombuffer(ds.PixelData, np.uint8), bitorder="little")
        ds.PixelData = np.packbits(bits[: (n - 1) * rows * columns], bitorder="little").tobytes()

    shutil.copy(small_dicom.seg_file, path)
    _mutate(path, drop_frame)
    with pytest.raises(ImageReadError, match=r"seg\.dcm: the pixel data holds .* truncated"):
        read_dicom_seg(path, small_dicom.ct)


def test_seg_segment_numbers_are_checked(small_dicom: SmallDicom, tmp_path: Path) -> None:
    """A frame of a segment the SEG does not describe was dropped without a word, and two
    segments sharing a number reported a structure as missing (found by fuzzing)."""
    (path,) = _copy(small_dicom.seg_file, tmp_path)

    def unknown_segment(ds: Dataset) -> None:
        frame = ds.PerFrameFunctionalGroupsSequence[0]
        shared = ds.SharedFunctionalGroupsSequence[0]
        identification = frame.get("SegmentIdentificationSequence") or deepcopy(
            shared.SegmentIdentificationSequence
        )
        identification[0].ReferencedSegmentNumber = 99
        frame.SegmentIdentificationSequence = identification

    _mutate(path, unknown_segment)
    with pytest.raises(ImageReadError, match=r"seg\.dcm: frame 1 refers to segment 99, but"):
        read_dicom_seg(path, small_dicom.ct)

    def repeated_number(ds: Dataset) -> None:
        twin = deepcopy(ds.SegmentSequence[0])
        twin.SegmentLabel = "Lungs"
        ds.SegmentSequence.append(twin)

    shutil.copy(small_dicom.seg_file, path)
    _mutate(path, repeated_number)
    with pytest.raises(ImageReadError, match=r"seg\.dcm: SegmentNumber 1 is used by 2 segments"):
        read_dicom_seg(path, small_dicom.ct)


def test_seg_decoding_errors_are_wrapped(
    small_dicom: SmallDicom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("too many SQL variables")

    monkeypatch.setattr(hd.seg.Segmentation, "get_volume", broken)
    with pytest.raises(ImageReadError, match=r"seg\.dcm: cannot be decoded .*OperationalError"):
        read_dicom_seg(small_dicom.seg_file, small_dicom.ct)


def test_fractional_seg_keeps_partial_voxel_weights(
    small_dicom: SmallDicom, tmp_path: Path
) -> None:
    slices = [pydicom.dcmread(p) for p in small_dicom.ct_files]
    ct = small_dicom.ct
    fractions = np.zeros(ct.shape, dtype=np.float32)
    fractions[1:4, 2:5, 2:5] = 1.0
    fractions[1:4, 2:5, 5] = 0.4  # a rim of partial voxels
    fractions[4, 2:5, 2:5] = 0.6
    description = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="T1",
        segmented_property_category=hd.sr.CodedConcept(
            "49755003", "SCT", "Morphologically Altered Structure"
        ),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    context = DicomContext("DEMO-004", WHEN, "small")
    seg = hd.seg.Segmentation(
        source_images=slices,
        pixel_array=fractions[..., None],
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        segment_descriptions=[description],
        series_instance_uid=context.uid("fseg"),
        series_number=12,
        sop_instance_uid=context.uid("fseg", 1),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
        max_fractional_value=255,
    )
    path = tmp_path / "fseg.dcm"
    seg.save_as(path)
    read = read_dicom_seg(path, ct)
    weights = read.fractions["T1"].array
    np.testing.assert_allclose(weights, fractions, atol=0.5 / 255)
    expected_ml = float(fractions.sum()) * ct.voxel_volume_ml
    assert read.volume_ml("T1") == pytest.approx(expected_ml, rel=1e-2)
    np.testing.assert_array_equal(read["T1"].array, fractions >= 0.5)  # rim at 0.4 outside
    coarse = ct.with_array(np.zeros(ct.shape))  # same grid: coverage equals the weights
    np.testing.assert_allclose(read.fractions_on(coarse)["T1"].array, weights, atol=1e-9)


def test_segmentation_fractions_are_checked(small_dicom: SmallDicom) -> None:
    ct = small_dicom.ct
    with pytest.raises(ValueError, match=r"fractions of structure 'T1' lie outside \[0, 1\]"):
        Segmentation.from_fractions(ct, {"T1": ct.with_array(np.full(ct.shape, 1.5))})
