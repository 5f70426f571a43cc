"""Structures from RTSTRUCT, DICOM SEG and label maps land on the right voxels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import RTStructureSetStorage

from opensirt.demo.dicom import PhantomDicomPaths
from opensirt.demo.phantom import SyntheticPatient
from opensirt.errors import GeometryError, InputError
from opensirt.imaging import Segmentation, Volume, read_dicom_seg, read_image, read_rtstruct
from opensirt.imaging.dicom_common import DicomContext, new_dataset, save_dataset
from opensirt.imaging.rtstruct import rasterise_polygons

FRAME = "1.2.826.0.1.3680043.8.498.1"
GRID = Volume(
    np.zeros((3, 6, 8)), spacing_mm=(2, 2, 3), origin_mm=(10, 20, 30), frame_of_reference_uid=FRAME
)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


@pytest.fixture(scope="module")
def ct(phantom_dicom: PhantomDicomPaths) -> Volume:
    return read_image(phantom_dicom.ct_dir)


def test_rtstruct_structures_match_label_map(
    phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths, ct: Volume
) -> None:
    seg = read_rtstruct(phantom_dicom.rtstruct_file, ct)
    assert set(seg.names) == set(phantom.structures.names)
    for name in ("Body", "Lungs", "Liver", "RightLobe", "LeftLobe", "T1"):
        assert dice(seg[name].array, phantom.structures[name].array) > 0.9, name
    # contours run half-way between voxel centres, so the round trip is exact
    for name in seg.names:
        np.testing.assert_array_equal(seg[name].array, phantom.structures[name].array)


def test_seg_structures_match_label_map(
    phantom: SyntheticPatient, phantom_dicom: PhantomDicomPaths, ct: Volume
) -> None:
    seg = read_dicom_seg(phantom_dicom.seg_file, ct)
    for name in phantom.structures.names:
        np.testing.assert_array_equal(seg[name].array, phantom.structures[name].array)


def test_rtstruct_on_an_image_of_another_frame_is_refused(
    phantom_dicom: PhantomDicomPaths, ct: Volume
) -> None:
    other = Volume(ct.array, ct.spacing_mm, ct.origin_mm, frame_of_reference_uid="1.2.3.4")
    with pytest.raises(GeometryError, match="frame of reference"):
        read_rtstruct(phantom_dicom.rtstruct_file, other)
    with pytest.raises(GeometryError, match="frame"):
        read_dicom_seg(phantom_dicom.seg_file, other)


def test_missing_structure_lists_the_names(phantom_dicom: PhantomDicomPaths, ct: Volume) -> None:
    with pytest.raises(InputError, match=r"'liver' not found.*'Liver'.*did you mean 'Liver'"):
        read_rtstruct(phantom_dicom.rtstruct_file, ct, names=["liver"])


def _rtstruct(
    tmp_path: Path, contours: list[list[tuple[float, float, float]]], *, empty: bool = False
) -> Path:
    context = DicomContext("DEMO-002", datetime(2026, 1, 1, tzinfo=UTC), "test")
    ds = new_dataset(
        context,
        sop_class_uid=RTStructureSetStorage,
        modality="RTSTRUCT",
        series_key="rt",
        series_number=1,
        series_description="hand-made",
        series_datetime=context.study_datetime,
    )
    roi = Dataset()
    roi.ROINumber, roi.ROIName, roi.ReferencedFrameOfReferenceUID = 1, "Square", FRAME
    empty_roi = Dataset()
    empty_roi.ROINumber, empty_roi.ROIName = 2, "Empty"
    empty_roi.ReferencedFrameOfReferenceUID = FRAME
    ds.StructureSetROISequence = Sequence([roi, empty_roi] if empty else [roi])
    item = Dataset()
    item.ReferencedROINumber = 1
    items = []
    for points in contours:
        contour = Dataset()
        contour.ContourGeometricType = "CLOSED_PLANAR"
        contour.NumberOfContourPoints = len(points)
        contour.ContourData = [v for p in points for v in p]
        items.append(contour)
    item.ContourSequence = Sequence(items)
    ds.ROIContourSequence = Sequence([item])
    return save_dataset(ds, tmp_path / "rt.dcm")


def _square(i0: float, i1: float, j0: float, j1: float, k: int) -> list[tuple[float, float, float]]:
    # index -> LPS: x = 10 + 2 i, y = 20 + 2 j, z = 30 + 3 k
    corners = [(i0, j0), (i1, j0), (i1, j1), (i0, j1)]
    return [(10 + 2 * i, 20 + 2 * j, 30 + 3 * k) for i, j in corners]


def test_square_between_voxel_centres(tmp_path: Path) -> None:
    # edges at half-voxel positions i = 1.5..5.5, j = 0.5..3.5 enclose centres i 2..5, j 1..3
    seg = read_rtstruct(_rtstruct(tmp_path, [_square(1.5, 5.5, 0.5, 3.5, 1)]), GRID)
    expected = np.zeros(GRID.shape, bool)
    expected[1, 1:4, 2:6] = True
    np.testing.assert_array_equal(seg["Square"].array, expected)
    assert seg.volume_ml("Square") == pytest.approx(12 * 2 * 2 * 3 / 1000.0)


def test_square_through_voxel_centres_includes_its_edge(tmp_path: Path) -> None:
    seg = read_rtstruct(_rtstruct(tmp_path, [_square(2, 5, 1, 3, 2)]), GRID)
    expected = np.zeros(GRID.shape, bool)
    expected[2, 1:4, 2:6] = True
    np.testing.assert_array_equal(seg["Square"].array, expected)


def test_inner_contour_cuts_a_hole(tmp_path: Path) -> None:
    outer, inner = _square(-0.5, 7.5, -0.5, 5.5, 0), _square(1.5, 5.5, 1.5, 3.5, 0)
    seg = read_rtstruct(_rtstruct(tmp_path, [outer, inner]), GRID)
    expected = np.zeros(GRID.shape, bool)
    expected[0] = True
    expected[0, 2:4, 2:6] = False
    np.testing.assert_array_equal(seg["Square"].array, expected)


def test_empty_structure_is_an_error_when_used(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match=r"'Empty'.*no contour"):
        seg = read_rtstruct(_rtstruct(tmp_path, [_square(1.5, 5.5, 0.5, 3.5, 1)], empty=True), GRID)
    with pytest.raises(InputError, match=r"'Empty'.*is empty"):
        seg["Empty"]
    assert seg.get("Empty", allow_empty=True).array.sum() == 0


def test_contour_between_slices_is_refused(tmp_path: Path) -> None:
    points = [(x, y, z + 1.5) for x, y, z in _square(1.5, 5.5, 0.5, 3.5, 1)]
    with pytest.raises(Exception, match="does not lie on an image slice"):
        read_rtstruct(_rtstruct(tmp_path, [points]), GRID)


def test_rasterise_matches_polygon_area_for_a_circle() -> None:
    theta = np.linspace(0, 2 * np.pi, 400, endpoint=False)
    circle = np.stack([50 + 30 * np.cos(theta), 50 + 30 * np.sin(theta)], axis=1)
    mask = rasterise_polygons([circle], (101, 101))
    assert mask.sum() == pytest.approx(np.pi * 30**2, rel=0.01)


def test_label_map_segmentation_and_grid_checks() -> None:
    labels = GRID.with_array(np.zeros(GRID.shape, np.int16))
    labels.array[1, 2:4, 2:4] = 3
    seg = Segmentation.from_label_map(labels, {3: "T1", 4: "T2"})
    assert seg.volume_ml("T1") == pytest.approx(4 * 0.012)
    with pytest.raises(InputError, match=r"'T2'.*is empty"):
        seg["T2"]
    other = Volume(np.zeros((3, 6, 7), bool), spacing_mm=(2, 2, 3), frame_of_reference_uid=FRAME)
    with pytest.raises(GeometryError, match="different grids"):
        Segmentation(GRID, {"X": other})
