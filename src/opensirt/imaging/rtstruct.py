"""DICOM RT Structure Sets: contours to voxel masks, and masks to contours.

Reading
    Each CLOSED_PLANAR contour is placed on the image slice it lies on and rasterised: a
    voxel belongs to the contour if its centre lies inside the polygon or on its edge
    (1e-3 voxel tolerance). All contours of one structure on one slice are combined with the
    even-odd rule (exclusive or), so an inner contour cuts a hole, whether written as a
    separate contour or as CLOSEDPLANAR_XOR.

Writing
    Each slice of a mask is outlined with marching squares at level 0.5
    (:func:`skimage.measure.find_contours`), so every contour runs half-way between voxel
    centres inside and outside: reading it back gives the same voxels.

References
----------
.. [PS3.3] DICOM PS3.3 C.8.8.5 Structure Set, C.8.8.6 ROI Contour (Contour Data in patient
   coordinates, mm; Contour Geometric Type), C.8.8.8 RT ROI Observations modules.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import Tag
from pydicom.uid import RTStructureSetStorage

from opensirt.errors import GeometryError, ImageReadError
from opensirt.imaging.dicom_common import DicomContext, dicom_date, dicom_time, new_dataset
from opensirt.imaging.dicom_file import as_read_error, read_dataset, recording_warnings
from opensirt.imaging.segmentation import Segmentation, missing_structure_error
from opensirt.imaging.volume import Volume

__all__ = [
    "contour_points",
    "contours_of_mask",
    "rasterise_polygons",
    "read_rtstruct",
    "rtstruct_dataset",
]

_CONTOUR_DATA = Tag(0x3006, 0x0050)
_EDGE_TOL = 1e-3  # voxel
_PLANE_TOL = 0.25  # voxel: how far off a slice centre a contour plane may lie


def rasterise_polygons(
    polygons: Sequence[npt.NDArray[np.float64]], shape: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Boolean ``[j, i]`` mask of the pixels inside ``polygons`` (even-odd rule).

    Each polygon is an ``(n, 2)`` array of continuous ``(i, j)`` pixel indices (pixel
    centres at integers). A pixel is inside a polygon if its centre is inside or on the edge.

    Parameters
    ----------
    polygons : sequence of numpy.ndarray
        Closed polygons, each ``(n, 2)`` float in ``(i, j)`` = (column, row) pixel-index
        order (the last point joins the first); they combine by exclusive or.
    shape : tuple of 2 int
        Slice shape ``(nj, ni)`` = (rows, columns).

    Returns
    -------
    numpy.ndarray
        Boolean mask of ``shape``, indexed ``[j, i]``.

    Examples
    --------
    >>> square = np.array([[1.0, 1.0], [3.0, 1.0], [3.0, 2.0], [1.0, 2.0]])
    >>> rasterise_polygons([square], (4, 5)).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    out = np.zeros(shape, dtype=bool)
    for polygon in polygons:
        lo = np.maximum(np.floor(polygon.min(axis=0) - _EDGE_TOL).astype(int), 0)
        hi = np.minimum(
            np.ceil(polygon.max(axis=0) + _EDGE_TOL).astype(int), (shape[1] - 1, shape[0] - 1)
        )
        if np.any(hi < lo):
            continue
        inside = np.zeros((hi[1] - lo[1] + 1, hi[0] - lo[0] + 1), dtype=bool)
        for dx in (_EDGE_TOL, -_EDGE_TOL):
            for dy in (_EDGE_TOL, -_EDGE_TOL):
                inside |= _scanline_inside(polygon, lo, inside.shape, dx, dy)
        out[lo[1] : hi[1] + 1, lo[0] : hi[0] + 1] ^= inside
    return out


def _scanline_inside(
    polygon: npt.NDArray[np.float64],
    lo: npt.NDArray[np.int_],
    shape: tuple[int, int],
    dx: float,
    dy: float,
) -> npt.NDArray[np.bool_]:
    """Even-odd test of the points ``(i + dx, j + dy)`` of a box at ``lo``, row by row.

    The crossing-number test of every point at once: each edge that crosses a row's line
    flips the inside state of every point right of the crossing; a cumulative sum of the
    flips along the row counts the crossings left of each point.
    """
    start, end = polygon, np.roll(polygon, -1, axis=0)
    y = lo[1] + np.arange(shape[0]) + dy  # the rows' lines
    crosses = (start[:, 1, None] > y[None, :]) != (end[:, 1, None] > y[None, :])
    edge, row = np.nonzero(crosses)
    x0, y0 = start[edge, 0], start[edge, 1]
    slope = (end[edge, 0] - x0) / (end[edge, 1] - y0)
    x = x0 + (y[row] - y0) * slope
    # a crossing at x counts for the points with i + dx > x: the first is floor(x - dx) + 1
    first = np.clip(np.floor(x - dx).astype(np.int64) + 1 - lo[0], 0, shape[1])
    flips = np.zeros((shape[0], shape[1] + 1), dtype=np.int32)
    np.add.at(flips, (row, first), 1)
    inside: npt.NDArray[np.bool_] = (np.cumsum(flips[:, :-1], axis=1) % 2).astype(bool)
    return inside


def _roi_names(ds: Dataset) -> dict[int, tuple[str, str]]:
    return {
        int(item.ROINumber): (str(item.ROIName), str(item.get("ReferencedFrameOfReferenceUID", "")))
        for item in ds.get("StructureSetROISequence", [])
    }


def _check_frame(ds: Dataset, name: str, frame_uid: str, reference: Volume, source: str) -> None:
    frames = (
        {frame_uid}
        if frame_uid
        else {
            str(item.get("FrameOfReferenceUID", ""))
            for item in ds.get("ReferencedFrameOfReferenceSequence", [])
        }
    )
    frames.discard("")
    if (
        reference.frame_of_reference_uid
        and frames
        and reference.frame_of_reference_uid not in frames
    ):
        raise GeometryError(
            f"{source}: structure {name!r} is drawn in frame of reference {sorted(frames)}, but "
            f"the reference image is in {reference.frame_of_reference_uid}: the structures were "
            "drawn on another image; use the image they were drawn on (or register them)"
        )


def _contour_data(contour: Dataset) -> npt.NDArray[np.float64]:
    """Contour Data (mm), parsed from the file's bytes while the element is still raw.

    pydicom makes one validated ``DS`` object per number (about 10 us each: seconds for the
    hundreds of thousands of a clinical structure set); text that numpy cannot parse goes
    through pydicom as before.
    """
    element: Any = contour.get_item(_CONTOUR_DATA)  # raw until first accessed
    if isinstance(element, RawDataElement) and isinstance(element.value, bytes):
        try:
            return np.array(element.value.split(b"\\")).astype(np.float64)
        except ValueError:
            pass
    raw = contour.get("ContourData")
    values = [] if raw is None else list(raw) if isinstance(raw, MultiValue | list) else [raw]
    return np.asarray([float(v) for v in values], dtype=np.float64)


def contour_points(contour: Dataset, name: str, source: str) -> npt.NDArray[np.float64]:
    """The ``(n, 3)`` points (mm) of a contour's Contour Data, checked.

    Parameters
    ----------
    contour : pydicom.dataset.Dataset
        An item of a ROI Contour's Contour Sequence.
    name : str
        The structure's name, for messages.
    source : str
        The file the contour comes from, for messages.

    Returns
    -------
    numpy.ndarray
        float64 ``(n, 3)`` patient-frame (LPS) points in mm, ``(x, y, z)`` per row.

    Raises
    ------
    ImageReadError
        If the Contour Data are not numbers, not triples, or not finite.
    """
    try:
        points = _contour_data(contour)
    except (TypeError, ValueError) as exc:
        raise ImageReadError(
            f"{source}: a contour of {name!r} has Contour Data that are not numbers ({exc})"
        ) from exc
    if points.size % 3:
        raise ImageReadError(
            f"{source}: a contour of {name!r} has {points.size} Contour Data values, not a "
            "multiple of 3 (x, y, z per point); the structure set is corrupt"
        )
    if not np.all(np.isfinite(points)):
        raise ImageReadError(
            f"{source}: a contour of {name!r} has a coordinate that is not a finite number "
            "(NaN or infinity); the structure set is corrupt"
        )
    return points.reshape(-1, 3)


def _contour_slices(
    item: Dataset, reference: Volume, name: str, source: str
) -> dict[int, list[npt.NDArray[np.float64]]]:
    by_slice: dict[int, list[npt.NDArray[np.float64]]] = {}
    skipped = outside = 0
    for contour in item.get("ContourSequence", []):
        kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR")).upper()
        if kind not in {"CLOSED_PLANAR", "CLOSEDPLANAR_XOR"}:
            skipped += 1
            continue
        points = contour_points(contour, name, source)
        if len(points) < 3:
            skipped += 1
            continue
        index = reference.physical_to_index(points)
        k = index[:, 2]
        if np.ptp(k) > 2 * _PLANE_TOL or abs(float(k.mean()) - round(float(k.mean()))) > _PLANE_TOL:
            raise ImageReadError(
                f"{source}: a contour of {name!r} does not lie on an image slice of the "
                f"reference (slice index {k.min():.2f}..{k.max():.2f}); the structures were "
                "drawn on an image with other slices or an oblique plane"
            )
        slice_k = round(float(k.mean()))
        if not 0 <= slice_k < reference.shape[0]:
            outside += 1
            continue
        by_slice.setdefault(slice_k, []).append(index[:, :2])
    if skipped:
        warnings.warn(
            f"{source}: {name!r}: {skipped} contour(s) that are not closed polygons of at least "
            "3 points ignored",
            stacklevel=3,
        )
    if outside:
        warnings.warn(
            f"{source}: {name!r}: {outside} contour(s) lie outside the reference image's slices "
            "and are ignored",
            stacklevel=3,
        )
    return by_slice


def read_rtstruct(
    path: str | os.PathLike[str], reference: Volume, names: Iterable[str] | None = None
) -> Segmentation:
    """Rasterise the structures of an RTSTRUCT file onto ``reference``'s grid.

    Parameters
    ----------
    path : path-like
        The RT Structure Set file.
    reference : Volume
        The image the structures were drawn on (its slices must be the contour planes).
    names : iterable of str, optional
        Read only these structures (each must exist).

    Returns
    -------
    Segmentation
        One boolean mask per structure on ``reference``'s grid (a structure without contours
        is empty, with a warning); the reader's warnings are kept in its ``warnings``.

    Raises
    ------
    ImageReadError
        If the file is not an RTSTRUCT, is truncated or corrupt (Contour Data not triples of
        finite numbers), or a contour does not lie on a reference slice. A file without
        preamble or File Meta header is read if it is an RT Structure Set.
    GeometryError
        If the structures are in another frame of reference than ``reference``.
    InputError
        If a requested name is absent (the message lists the available names).
    """
    source = str(path)
    messages: list[str] = []
    with recording_warnings(messages), as_read_error(source, "an RT Structure Set"):
        structures = _read_structures(source, reference, names)
    return Segmentation(reference, structures, source=source, warnings=tuple(messages))


def structure_items(
    ds: Dataset, source: str, reference: Volume, names: Iterable[str] | None
) -> tuple[dict[int, tuple[str, str]], list[tuple[str, Dataset]]]:
    """The ROIs of a structure set (number -> (name, frame UID)) and the ``(name, ROI
    Contour item)`` pairs of the structures ``names`` asks for (all when None).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The RT Structure Set dataset.
    source : str
        The file it was read from, for messages.
    reference : Volume
        The image the structures are to lie on; only its frame of reference is checked.
    names : iterable of str or None
        The structures wanted; None for all.

    Returns
    -------
    tuple of (dict of int to tuple of (str, str), list of tuple of (str, Dataset))
        ROI Number -> (ROI Name, Referenced Frame of Reference UID, empty if absent) for every
        ROI of the set; and the ``(name, ROI Contour item)`` pairs wanted, in file order.

    Raises
    ------
    ImageReadError
        If ``ds`` is not an RT Structure Set.
    InputError
        If a structure of ``names`` is not in it (with the closest names).
    GeometryError
        If a structure is drawn in another frame of reference than ``reference``.
    """
    if str(ds.get("Modality", "")) != "RTSTRUCT":
        raise ImageReadError(f"{source}: Modality is {ds.get('Modality')!r}, expected RTSTRUCT")
    rois = _roi_names(ds)
    wanted = None if names is None else list(names)
    available = [name for name, _frame in rois.values()]
    for name in wanted or []:
        if name not in available:
            raise missing_structure_error(name, available, source)
    items = []
    for item in ds.get("ROIContourSequence", []):
        name, frame_uid = rois.get(
            int(item.ReferencedROINumber), (f"ROI {item.ReferencedROINumber}", "")
        )
        if wanted is not None and name not in wanted:
            continue
        _check_frame(ds, name, frame_uid, reference, source)
        items.append((name, item))
    return rois, items


def _read_structures(
    source: str, reference: Volume, names: Iterable[str] | None
) -> dict[str, Volume]:
    wanted = None if names is None else list(names)
    rois, items = structure_items(read_dataset(source), source, reference, wanted)
    structures: dict[str, Volume] = {}
    for name, item in items:
        mask = np.zeros(reference.shape, dtype=bool)
        for k, polygons in _contour_slices(item, reference, name, source).items():
            mask[k] ^= rasterise_polygons(polygons, mask.shape[1:])
        structures[name] = reference.with_array(mask, units="mask")
    for number, (name, _frame) in rois.items():  # ROIs without any contour: empty structures
        if name not in structures and (wanted is None or name in wanted):
            structures[name] = reference.with_array(np.zeros(reference.shape, bool), units="mask")
            warnings.warn(
                f"{source}: structure {name!r} (ROI {number}) has no contour", stacklevel=2
            )
    return structures


def _corners(ring: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The points of a closed polygon that are not collinear with their two neighbours.

    >>> _corners(np.array([[0, 0], [1, 0], [2, 0], [2, 1], [0, 1]], float)).tolist()
    [[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0]]
    """
    before = ring - np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0) - ring
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    return ring[np.abs(cross) > 1e-9]


def contours_of_mask(mask: Volume) -> dict[int, list[npt.NDArray[np.float64]]]:
    """Per slice ``k``, the closed contours of a boolean mask as ``(n, 3)`` LPS points (mm).

    Contours run at level 0.5 between voxel centres, counter-clockwise or not as marching
    squares gives them; inner contours (holes) are included and follow the even-odd rule.

    Parameters
    ----------
    mask : Volume
        Boolean (or 0/1) mask; its slices ``k`` are the contour planes.

    Returns
    -------
    dict of int to list of numpy.ndarray
        Slice index ``k`` -> closed polygons, each float64 ``(n, 3)`` LPS points in mm (the
        first point is not repeated); slices without voxels are absent.
    """
    from skimage.measure import find_contours

    array = np.asarray(mask.array, dtype=bool)
    out: dict[int, list[npt.NDArray[np.float64]]] = {}
    for k in np.nonzero(array.any(axis=(1, 2)))[0]:
        padded = np.pad(array[k], 1).astype(np.float64)
        polygons = []
        for contour in find_contours(padded, 0.5):
            rows_cols = _corners(contour[:-1]) - 1.0  # open the ring, undo the padding
            ijk = np.column_stack([rows_cols[:, 1], rows_cols[:, 0], np.full(len(rows_cols), k)])
            polygons.append(mask.index_to_physical(ijk))
        out[int(k)] = polygons
    return out


_COLOURS = [(255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 160, 0), (160, 0, 255), (0, 200, 200)]


def rtstruct_dataset(
    segmentation: Segmentation,
    image_slices: Sequence[Dataset],
    context: DicomContext,
    *,
    series_number: int = 10,
    interpreted_types: dict[str, str] | None = None,
) -> Dataset:
    """An RT Structure Set of every structure, referencing the image slices it was drawn on.

    ``image_slices[k]`` is the single-frame image dataset of slice ``k`` of the
    segmentation's reference grid (the CT as written). ``interpreted_types`` gives the RT ROI
    Interpreted Type per name (``ORGAN``, ``GTV``, ``EXTERNAL``; default ``ORGAN``).

    Parameters
    ----------
    segmentation : Segmentation
        The structures; every one (empty ones too) becomes a ROI, numbered from 1 in order.
    image_slices : sequence of pydicom.dataset.Dataset
        One single-frame image dataset per slice of the reference grid, slice ``k`` first to
        last (e.g. :func:`~opensirt.imaging.dicom_write.ct_datasets`).
    context : DicomContext
        Patient, study and frame of reference of the examination.
    series_number : int, optional
        Series Number (default 10).
    interpreted_types : dict of str to str or None, optional
        RT ROI Interpreted Type per structure name; names absent get ``ORGAN``.

    Returns
    -------
    pydicom.dataset.Dataset
        The RT Structure Set (contours in LPS mm, 3 decimals).

    Raises
    ------
    GeometryError
        If the number of image slices differs from the reference grid's.
    """
    when = context.study_datetime
    ds = new_dataset(
        context,
        sop_class_uid=RTStructureSetStorage,
        modality="RTSTRUCT",
        series_key="rtstruct",
        series_number=series_number,
        series_description="Structures",
        series_datetime=when,
    )
    add_structure_set(
        ds, segmentation, image_slices, when=when, interpreted_types=interpreted_types
    )
    return ds


def add_structure_set(
    ds: Dataset,
    segmentation: Segmentation,
    image_slices: Sequence[Dataset],
    *,
    when: datetime,
    interpreted_types: Mapping[str, str] | None = None,
) -> None:
    """Fill the Structure Set, ROI Contour and RT ROI Observations modules of ``ds``.

    ROIs are numbered from 1 in the order of ``segmentation.names``; each contour references
    the slice it lies on, and the structure set references the slices' series, study and
    frame of reference (PS3.3 C.8.8.5, C.8.8.6, C.8.8.8).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A dataset with the Patient, Study, Series and SOP Common modules filled in; changed in
        place.
    segmentation : Segmentation
        The structures, on the grid of ``image_slices``.
    image_slices : sequence of pydicom.dataset.Dataset
        One single-frame image dataset (or header) per slice ``k`` of the reference grid.
    when : datetime
        Structure Set Date and Time.
    interpreted_types : mapping of str to str or None, optional
        RT ROI Interpreted Type per structure name; names absent get ``ORGAN``.

    Raises
    ------
    GeometryError
        If the number of image slices differs from the reference grid's.
    """
    if len(image_slices) != segmentation.reference.shape[0]:
        raise GeometryError(
            f"{len(image_slices)} image slices given for a reference grid of "
            f"{segmentation.reference.shape[0]} slices; pass the slices of the image the "
            "structures are on"
        )
    ds.OperatorsName = ""
    ds.StructureSetLabel = "OpenSIRT"
    ds.StructureSetDate, ds.StructureSetTime = dicom_date(when), dicom_time(when)
    first = image_slices[0]
    contour_images = [_image_ref(s) for s in image_slices]
    series_ref = Dataset()
    series_ref.SeriesInstanceUID = first.SeriesInstanceUID
    series_ref.ContourImageSequence = DicomSequence(contour_images)
    study_ref = Dataset()
    study_ref.ReferencedSOPClassUID = (
        "1.2.840.10008.3.1.2.3.1"  # Detached Study Management (retired), as PS3.3 requires
    )
    study_ref.ReferencedSOPInstanceUID = first.StudyInstanceUID
    study_ref.RTReferencedSeriesSequence = DicomSequence([series_ref])
    frame_ref = Dataset()
    frame_ref.FrameOfReferenceUID = first.FrameOfReferenceUID
    frame_ref.RTReferencedStudySequence = DicomSequence([study_ref])
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([frame_ref])
    rois, contours, observations = [], [], []
    for number, name in enumerate(segmentation.names, start=1):
        rois.append(_roi_item(number, name, str(first.FrameOfReferenceUID)))
        contours.append(
            _roi_contour(number, segmentation.get(name, allow_empty=True), contour_images)
        )
        observations.append(_observation(number, (interpreted_types or {}).get(name, "ORGAN")))
    ds.StructureSetROISequence = DicomSequence(rois)
    ds.ROIContourSequence = DicomSequence(contours)
    ds.RTROIObservationsSequence = DicomSequence(observations)


def _image_ref(image: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    return ref


def _roi_item(number: int, name: str, frame_uid: str) -> Dataset:
    item = Dataset()
    item.ROINumber = number
    item.ReferencedFrameOfReferenceUID = frame_uid
    item.ROIName = name
    item.ROIGenerationAlgorithm = "AUTOMATIC"
    return item


def _roi_contour(number: int, mask: Volume, contour_images: list[Dataset]) -> Dataset:
    item = Dataset()
    item.ROIDisplayColor = list(_COLOURS[(number - 1) % len(_COLOURS)])
    item.ReferencedROINumber = number
    sequence: list[Dataset] = []
    for k, polygons in contours_of_mask(mask).items():
        for polygon in polygons:
            contour = Dataset()
            contour.ContourImageSequence = DicomSequence([contour_images[k]])
            contour.ContourGeometricType = "CLOSED_PLANAR"
            contour.NumberOfContourPoints = len(polygon)
            contour[_CONTOUR_DATA] = _raw_decimal_strings(np.round(polygon, 3).reshape(-1))
            sequence.append(contour)
    item.ContourSequence = DicomSequence(sequence)
    return item


def _raw_decimal_strings(values: npt.NDArray[np.float64]) -> RawDataElement:
    """Contour Data as the DS text it is written as (``%.3f``, explicit VR little endian).

    Kept raw, the element is written as it is: pydicom would otherwise build and validate one
    ``DS`` object per number (seconds for a clinical structure set).
    """
    text = "\\".join(f"{v:.3f}" for v in values).encode("ascii")
    text += b" " * (len(text) % 2)  # even length, padded with a space (PS3.5 6.2)
    return RawDataElement(_CONTOUR_DATA, "DS", len(text), text, 0, False, True, True, False)


def _observation(number: int, interpreted_type: str) -> Dataset:
    item = Dataset()
    item.ObservationNumber = number
    item.ReferencedROINumber = number
    item.RTROIInterpretedType = interpreted_type
    item.ROIInterpreter = ""
    return item
