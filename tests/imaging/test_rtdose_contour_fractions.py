"""RT Dose reading (offset conventions, refusals) and RTSTRUCT occupancies on a dose grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from opensirt.errors import GeometryError, ImageReadError, InputError
from opensirt.exports import write_rtdose
from opensirt.imaging.contour_fractions import rtstruct_fractions
from opensirt.imaging.rtdose_io import read_rtdose
from opensirt.imaging.volume import Volume

FRAME = "1.2.826.0.1.3680043.8.498.77"


def _dose_file(tmp_path: Path) -> tuple[Volume, Path]:
    dose = Volume(
        np.arange(4 * 5 * 6, dtype=float).reshape(4, 5, 6),
        spacing_mm=(2.0, 3.0, 4.0),
        origin_mm=(-10.0, 20.0, -30.0),
        frame_of_reference_uid=FRAME,
        units="Gy",
    )
    return dose, write_rtdose(dose, tmp_path / "dose.dcm")


def _resave(path: Path, edit: dict[str, object]) -> Path:
    ds = pydicom.dcmread(path)
    for keyword, value in edit.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(path)
    return path


def test_absolute_and_decreasing_offsets_give_the_same_grid(tmp_path: Path) -> None:
    dose, path = _dose_file(tmp_path)
    relative = read_rtdose(path)
    assert np.allclose(relative.array, dose.array, atol=2e-3)  # 16-bit dose grid scaling
    # absolute offsets: the first element is the first frame's z
    _resave(path, {"GridFrameOffsetVector": [-30.0, -26.0, -22.0, -18.0]})
    absolute = read_rtdose(path)
    assert absolute.same_grid(relative)
    assert np.array_equal(absolute.array, relative.array)
    # frames stored top first, offsets decreasing
    ds = pydicom.dcmread(path)
    frames = ds.pixel_array[::-1].copy()
    ds.PixelData = frames.tobytes()
    ds.ImagePositionPatient = [-10.0, 20.0, -18.0]
    ds.GridFrameOffsetVector = [0.0, -4.0, -8.0, -12.0]
    ds.save_as(path)
    flipped = read_rtdose(path)
    assert flipped.same_grid(relative)
    assert np.array_equal(flipped.array, relative.array)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        ({"DoseUnits": "RELATIVE"}, "Dose Units is 'RELATIVE', expected 'GY'"),
        ({"DoseGridScaling": None}, "DoseGridScaling is None"),
        ({"GridFrameOffsetVector": [0.0, 4.0, 9.0, 12.0]}, "not evenly spaced"),
        ({"GridFrameOffsetVector": [0.0, 4.0]}, "GridFrameOffsetVector is"),
        ({"NumberOfFrames": 5}, "pixel data"),
        ({"ImageOrientationPatient": [1, 0, 0, 1, 0, 0]}, "not two orthogonal unit vectors"),
        ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.2", "Modality": "CT"}, "not an RT Dose"),
    ],
)
def test_bad_rtdose_is_refused_naming_the_file(
    tmp_path: Path, edit: dict[str, object], match: str
) -> None:
    _dose, path = _dose_file(tmp_path)
    _resave(path, edit)
    with pytest.raises(ImageReadError, match=match) as info:
        read_rtdose(path)
    assert "dose.dcm" in str(info.value)


def test_not_dicom_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a dose")
    with pytest.raises(ImageReadError, match=r"notes\.txt: not a DICOM file"):
        read_rtdose(path)


def _rtstruct(path: Path, contours: dict[str, list[list[tuple[float, float, float]]]]) -> Path:
    ds = Dataset()
    ds.Modality = "RTSTRUCT"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.481.3"
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.78"
    rois, items = [], []
    for number, (name, polygons) in enumerate(contours.items(), start=1):
        roi = Dataset()
        roi.ROINumber, roi.ROIName, roi.ReferencedFrameOfReferenceUID = number, name, FRAME
        rois.append(roi)
        item = Dataset()
        item.ReferencedROINumber = number
        sequence = []
        for polygon in polygons:
            contour = Dataset()
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(polygon)
            contour.ContourData = [float(v) for point in polygon for v in point]
            sequence.append(contour)
        item.ContourSequence = Sequence(sequence)
        items.append(item)
    ds.StructureSetROISequence = Sequence(rois)
    ds.ROIContourSequence = Sequence(items)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def _square(x0: float, x1: float, y0: float, y1: float, z: float) -> list[tuple[float, ...]]:
    return [(x0, y0, z), (x1, y0, z), (x1, y1, z), (x0, y1, z)]


def test_fractions_on_a_coarser_grid(tmp_path: Path) -> None:
    # dose voxels 2 mm in-plane, 4 mm through-plane, centres at 0, 2, 4 ... mm (x, y) and
    # 0, 4, 8 mm (z); a square x in [-1, 2], y in [-1, 1] on two planes 2 mm apart (z = 3, 5)
    # fills pixel (0, 0) and half of pixel (1, 0), in slabs [2, 4] and [4, 6] mm: half of
    # dose slice 0 ([-2, 2]) is missed, slice 1 ([2, 6]) is filled, slice 2 untouched
    grid = Volume(np.zeros((3, 3, 3)), spacing_mm=(2, 2, 4), frame_of_reference_uid=FRAME)
    path = _rtstruct(
        tmp_path / "rs.dcm",
        {"T": [_square(-1, 2, -1, 1, 3.0), _square(-1, 2, -1, 1, 5.0)]},
    )
    f = rtstruct_fractions(path, grid)["T"].array
    expected = np.zeros((3, 3, 3))
    expected[1, 0, 0], expected[1, 0, 1] = 1.0, 0.5
    assert np.allclose(f, expected)
    assert f.sum() * grid.voxel_volume_ml == pytest.approx(3 * 2 * 4 / 1000.0)  # area x 4 mm


def test_holes_partial_edges_and_volume(tmp_path: Path) -> None:
    # a 9 x 9 mm square with a 3 x 3 mm hole on one plane, 1 mm pixels and 1 mm slab
    grid = Volume(np.zeros((1, 12, 12)), spacing_mm=(1, 1, 1), frame_of_reference_uid=FRAME)
    outer, hole = _square(0.25, 9.25, 0.25, 9.25, 0.0), _square(3.5, 6.5, 3.5, 6.5, 0.0)
    path = _rtstruct(tmp_path / "rs.dcm", {"Ring": [outer, hole]})
    f = rtstruct_fractions(path, grid, subdivisions=4)["Ring"].array[0]
    assert f.sum() == pytest.approx(81.0 - 9.0)
    assert f[5, 5] == 0.0
    assert f[1, 1] == 1.0
    assert f[0, 1] == pytest.approx(0.25)
    assert f[0, 0] == pytest.approx(0.0625)


def test_outside_wrong_frame_and_missing_names(tmp_path: Path) -> None:
    grid = Volume(np.zeros((1, 4, 4)), spacing_mm=(1, 1, 1), frame_of_reference_uid=FRAME)
    path = _rtstruct(tmp_path / "rs.dcm", {"Edge": [_square(2.0, 6.0, 0.0, 2.0, 0.0)]})
    with pytest.warns(UserWarning, match=r"mL of structure 'Edge' .* lies outside the grid"):
        f = rtstruct_fractions(path, grid)["Edge"]
    assert f.array.sum() == pytest.approx(1.5 * 2.0)  # x in [2, 3.5] of [2, 6], y in [0, 2]
    with pytest.raises(InputError, match="structure 'Liver' not found"):
        rtstruct_fractions(path, grid, ["Liver"])
    other = Volume(np.zeros((1, 4, 4)), spacing_mm=(1, 1, 1), frame_of_reference_uid="1.2.3")
    with pytest.raises(GeometryError, match="frame of reference"):
        rtstruct_fractions(path, other)
    tilted = _rtstruct(tmp_path / "t.dcm", {"Tilt": [[(0, 0, 0), (2, 0, 1), (2, 2, 1)]]})
    with pytest.raises(ImageReadError, match="not parallel to the grid's slices"):
        rtstruct_fractions(tilted, grid)
    with pytest.raises(InputError, match="subdivisions is 0"):
        rtstruct_fractions(path, grid, subdivisions=0)
