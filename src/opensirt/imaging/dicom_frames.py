"""Image planes of DICOM objects, whatever the encoding: single-frame slices, NM multi-frame
reconstructed tomography, and enhanced multi-frame objects with functional groups.

Each plane becomes a :class:`Plane` (stored pixels, rescale, position); the geometry shared by
all planes of a series is a :class:`PlaneGeometry`. :mod:`opensirt.imaging.dicom_io` stacks them.

References
----------
.. [PS3.3] DICOM PS3.3: C.7.6.2 Image Plane module (Image Position/Orientation (Patient),
   Pixel Spacing = row spacing then column spacing); C.8.4.8 NM Multi-frame module (Frame
   Increment Pointer, Slice Vector, Energy Window Vector); C.8.4.11 NM Detector module
   (Image Position/Orientation in the Detector Information Sequence for RECON TOMO);
   C.7.6.16 Multi-frame Functional Groups (Plane Position, Plane Orientation, Pixel Measures,
   Pixel Value Transformation).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from opensirt.errors import ImageReadError
from opensirt.imaging.dicom_file import decode_pixels, header_int
from opensirt.imaging.dicom_meta import pixel_value_mapping

__all__ = ["Plane", "PlaneGeometry", "planes_of"]


@dataclass(frozen=True)
class PlaneGeometry:
    """In-plane geometry: orientation (row then column direction cosines) and pixel spacing.

    ``pixel_spacing_mm`` is ``(column spacing along i, row spacing along j)`` = (x, y) order,
    the reverse of the DICOM Pixel Spacing attribute.
    """

    orientation: tuple[float, ...]
    pixel_spacing_mm: tuple[float, float]
    shape: tuple[int, int]
    slice_spacing_mm: float | None

    def matches(self, other: PlaneGeometry) -> bool:
        """True if orientation, spacing and matrix agree (within 1e-4 and 1e-3 mm).

        Parameters
        ----------
        other : PlaneGeometry
            The geometry of another plane of the same series.

        Returns
        -------
        bool
            True if the matrix (rows, columns) is equal, the direction cosines agree within
            1e-4 and the pixel spacings within 1e-3 mm; the slice spacing is not compared.
        """
        return (
            self.shape == other.shape
            and np.allclose(self.orientation, other.orientation, atol=1e-4)
            and np.allclose(self.pixel_spacing_mm, other.pixel_spacing_mm, atol=1e-3)
        )


@dataclass(frozen=True)
class Plane:
    """One image plane: stored pixel values, their linear mapping, and its position."""

    pixels: npt.NDArray[Any]
    slope: float
    intercept: float
    position_mm: npt.NDArray[np.float64]
    units: str | None = None


def finite_values(value: Any, count: int, name: str, source: str) -> npt.NDArray[np.float64]:
    """``count`` finite numbers from a DICOM multi-valued DS, or an :class:`ImageReadError`.

    Parameters
    ----------
    value : Any
        The attribute's value (a multi-valued DS such as Image Position (Patient)).
    count : int
        How many numbers it must hold (3 for a position, 6 for an orientation).
    name : str
        The attribute's keyword, for messages.
    source : str
        The file it was read from, for messages.

    Returns
    -------
    numpy.ndarray
        float64 array of ``count`` finite values, in the attribute's units (mm for
        positions and spacings, dimensionless for direction cosines).

    Raises
    ------
    ImageReadError
        If the value is not ``count`` finite numbers.
    """
    try:
        values = np.asarray([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ImageReadError(f"{source}: {name} is {value!r}, expected {count} numbers") from exc
    if values.size != count or not np.all(np.isfinite(values)):
        raise ImageReadError(
            f"{source}: {name} is {values.tolist()}, expected {count} finite numbers (mm or "
            "direction cosines); the header is corrupt"
        )
    return values


def _geometry(
    source: str, orientation: Any, pixel_spacing: Any, shape: tuple[int, int], slice_mm: Any
) -> PlaneGeometry:
    if orientation is None or len(orientation) != 6:
        warnings.warn(
            f"{source}: ImageOrientationPatient missing, assuming axial (1,0,0,0,1,0)",
            stacklevel=4,
        )
        orientation = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    cosines = finite_values(orientation, 6, "ImageOrientationPatient", source)
    if min(np.linalg.norm(cosines[:3]), np.linalg.norm(cosines[3:])) < 1e-6:
        raise ImageReadError(
            f"{source}: ImageOrientationPatient {cosines.tolist()} has a zero direction vector"
        )
    if pixel_spacing is None or len(pixel_spacing) != 2:
        raise ImageReadError(
            f"{source}: PixelSpacing is missing, so the voxel size is unknown; OpenSIRT needs "
            "it for every volume and dose (export the series with its geometry)"
        )
    spacing_mm = finite_values(pixel_spacing, 2, "PixelSpacing", source)
    if np.any(spacing_mm <= 0):
        raise ImageReadError(
            f"{source}: PixelSpacing is {spacing_mm.tolist()} mm, expected two positive distances"
        )
    spacing = None
    if slice_mm not in (None, ""):
        spacing = (
            abs(
                float(
                    finite_values([slice_mm], 1, "SpacingBetweenSlices/SliceThickness", source)[0]
                )
            )
            or None
        )
    return PlaneGeometry(
        orientation=tuple(float(v) for v in cosines),
        pixel_spacing_mm=(float(spacing_mm[1]), float(spacing_mm[0])),
        shape=shape,
        slice_spacing_mm=spacing,
    )


def _mapping(item: Dataset, source: str, *, required: bool) -> tuple[float, float, str | None]:
    mapping = pixel_value_mapping(item, source)
    if mapping is None:
        if required:
            warnings.warn(
                f"{source}: no RescaleSlope/RescaleIntercept nor Real World Value Mapping; "
                "using stored values as they are (slope 1, intercept 0)",
                stacklevel=4,
            )
        return 1.0, 0.0, None
    present = [k for k in ("RescaleSlope", "RescaleIntercept") if k in item]
    if required and len(present) == 1:  # both are Type 1 for CT and PET (PS3.3 C.8.2.1, C.8.9.4)
        missing = "RescaleIntercept" if present == ["RescaleSlope"] else "RescaleSlope"
        warnings.warn(
            f"{source}: {missing} is missing (its partner {present[0]} is there); taken as "
            f"{0 if missing == 'RescaleIntercept' else 1}: check the export, the values may be "
            "off by it",
            stacklevel=4,
        )
    return mapping


def _single_frame(ds: Dataset, source: str) -> tuple[list[Plane], PlaneGeometry]:
    if "ImagePositionPatient" not in ds:
        raise ImageReadError(
            f"{source}: ImagePositionPatient is missing, so the slice cannot be placed in the "
            "patient; this file is not a 3-D image slice"
        )
    geometry = _geometry(
        source,
        ds.get("ImageOrientationPatient"),
        ds.get("PixelSpacing"),
        _matrix(ds, source),
        ds.get("SpacingBetweenSlices", ds.get("SliceThickness")),
    )
    required = str(ds.get("Modality", "")) in {"CT", "PT"}
    slope, intercept, units = _mapping(ds, source, required=required)
    plane = Plane(
        pixels=decode_pixels(ds, source)[0],
        slope=slope,
        intercept=intercept,
        position_mm=finite_values(ds.ImagePositionPatient, 3, "ImagePositionPatient", source),
        units=units,
    )
    return [plane], geometry


def _matrix(ds: Dataset, source: str) -> tuple[int, int]:
    return header_int(ds, "Rows", source), header_int(ds, "Columns", source)


def _frame_vector(ds: Dataset, keyword: str, n: int, source: str) -> npt.NDArray[np.int64]:
    """An NM frame index vector (Energy Window, Detector, Slice Vector): one value per frame."""
    value = ds.get(keyword)
    if value in (None, ""):
        return np.arange(1, n + 1) if keyword == "SliceVector" else np.ones(n, dtype=np.int64)
    items = value if isinstance(value, MultiValue | list) else [value]
    if len(items) != n:
        raise ImageReadError(
            f"{source}: {keyword} holds {len(items)} values but NumberOfFrames is {n}; "
            "expected one value per frame: NumberOfFrames or the vector is wrong, the header "
            "is corrupt"
        )
    values = finite_values(items, n, keyword, source)
    if not np.array_equal(values, np.rint(values)):
        raise ImageReadError(f"{source}: {keyword} holds non-integer values")
    return values.astype(np.int64)


def _nm_frame_selection(ds: Dataset, source: str, energy_window: int | None) -> Any:
    n = header_int(ds, "NumberOfFrames", source)
    windows = _frame_vector(ds, "EnergyWindowVector", n, source)
    detectors = _frame_vector(ds, "DetectorVector", n, source)
    if len(set(detectors.tolist())) > 1:
        raise ImageReadError(
            f"{source}: a reconstructed NM object with frames from several detectors "
            f"({sorted(set(detectors.tolist()))}) is not one volume; this looks like "
            "projection data"
        )
    available = sorted(set(windows.tolist()))
    if energy_window is None:
        if len(available) > 1:
            names = [
                str(item.get("EnergyWindowName", ""))
                for item in ds.get("EnergyWindowInformationSequence", [])
            ]
            raise ImageReadError(
                f"{source}: NM object holds {len(available)} energy windows {available} "
                f"({', '.join(names) or 'unnamed'}); choose one with energy_window=<number>"
            )
        energy_window = available[0]
    if energy_window not in available:
        raise ImageReadError(
            f"{source}: energy_window is {energy_window}, expected one of {available}"
        )
    return np.nonzero(windows == energy_window)[0], energy_window


def _nm_multiframe(
    ds: Dataset, source: str, energy_window: int | None
) -> tuple[list[Plane], PlaneGeometry]:
    image_type = [str(v).upper() for v in ds.get("ImageType", [])]
    if len(image_type) > 2 and image_type[2] not in {"RECON TOMO", "RECON GATED TOMO"}:
        shown = "/".join(image_type)
        raise ImageReadError(
            f"{source}: NM ImageType is {shown}, expected RECON TOMO: planar, "
            "whole-body or projection data are not a 3-D volume; reconstruct it first"
        )
    detector = (ds.get("DetectorInformationSequence") or [Dataset()])[0]
    orientation = detector.get("ImageOrientationPatient", ds.get("ImageOrientationPatient"))
    position = detector.get("ImagePositionPatient", ds.get("ImagePositionPatient"))
    if position is None:
        raise ImageReadError(
            f"{source}: no ImagePositionPatient (in DetectorInformationSequence or the "
            "dataset), so the reconstruction cannot be placed on its CT; export it from the "
            "scanner's workstation with its position (a SPECT/CT reconstruction in DICOM)"
        )
    step = ds.get("SpacingBetweenSlices")
    if step in (None, ""):
        step = ds.get("SliceThickness")
        warnings.warn(
            f"{source}: SpacingBetweenSlices missing, using SliceThickness ({step} mm)",
            stacklevel=3,
        )
    if step in (None, ""):
        raise ImageReadError(
            f"{source}: neither SpacingBetweenSlices nor SliceThickness is given, so the slice "
            "spacing is unknown"
        )
    step_mm = float(finite_values([step], 1, "SpacingBetweenSlices", source)[0])
    if step_mm == 0:
        raise ImageReadError(f"{source}: SpacingBetweenSlices is 0 mm, expected the slice spacing")
    geometry = _geometry(source, orientation, ds.get("PixelSpacing"), _matrix(ds, source), step_mm)
    frames, _window = _nm_frame_selection(ds, source, energy_window)
    n = header_int(ds, "NumberOfFrames", source)
    slice_numbers = _frame_vector(ds, "SliceVector", n, source)
    row, col = np.asarray(geometry.orientation[:3]), np.asarray(geometry.orientation[3:])
    normal = np.cross(row, col)
    slope, intercept, units = _mapping(ds, source, required=False)
    pixels = decode_pixels(ds, source)
    origin = finite_values(position, 3, "ImagePositionPatient", source)
    planes = [
        Plane(
            pixels=pixels[f],
            slope=slope,
            intercept=intercept,
            position_mm=origin + (slice_numbers[f] - 1) * step_mm * normal,
            units=units,
        )
        for f in frames
    ]
    return planes, geometry


def _group(ds: Dataset, frame: Dataset, name: str) -> Dataset | None:
    for groups in (frame, (ds.get("SharedFunctionalGroupsSequence") or [Dataset()])[0]):
        seq = groups.get(name)
        if seq:
            item: Dataset = seq[0]
            return item
    return None


def _enhanced(ds: Dataset, source: str) -> tuple[list[Plane], PlaneGeometry]:
    per_frame = ds.PerFrameFunctionalGroupsSequence
    n = header_int(ds, "NumberOfFrames", source, default=1)
    if len(per_frame) != n:
        raise ImageReadError(
            f"{source}: {len(per_frame)} per-frame functional group item(s) for "
            f"NumberOfFrames {n}; the header is inconsistent"
        )
    first = per_frame[0]
    orientation = _group(ds, first, "PlaneOrientationSequence")
    measures = _group(ds, first, "PixelMeasuresSequence") or Dataset()
    geometry = _geometry(
        source,
        None if orientation is None else orientation.get("ImageOrientationPatient"),
        measures.get("PixelSpacing"),
        _matrix(ds, source),
        measures.get("SpacingBetweenSlices", measures.get("SliceThickness")),
    )
    pixels = decode_pixels(ds, source)
    planes = []
    for f, frame in enumerate(per_frame):
        position = _group(ds, frame, "PlanePositionSequence")
        if position is None or "ImagePositionPatient" not in position:
            raise ImageReadError(f"{source}: frame {f + 1} has no PlanePositionSequence")
        mapping_item = _group(ds, frame, "PixelValueTransformationSequence")
        if mapping_item is None or "RescaleSlope" not in mapping_item:
            mapping_item = Dataset()
            rwvm = _group(ds, frame, "RealWorldValueMappingSequence")
            if rwvm is not None:
                mapping_item.RealWorldValueMappingSequence = [rwvm]
        slope, intercept, units = _mapping(mapping_item, source, required=False)
        planes.append(
            Plane(
                pixels[f],
                slope,
                intercept,
                finite_values(position.ImagePositionPatient, 3, "ImagePositionPatient", source),
                units,
            )
        )
    return planes, geometry


def planes_of(
    ds: Dataset, source: str, *, energy_window: int | None = None
) -> tuple[list[Plane], PlaneGeometry]:
    """The image planes of one DICOM object and their shared in-plane geometry.

    Reads single-frame images (CT, PET, MR), enhanced multi-frame objects (per-frame
    functional groups) and NM reconstructed tomography (frames along the slice vector).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        One image dataset with pixel data.
    source : str
        The file it was read from, for messages.
    energy_window : int or None, optional
        For NM objects with several energy windows, the Energy Window Vector value (from 1)
        whose frames are read; None (default) accepts an object with a single window only.

    Returns
    -------
    tuple of (list of Plane, PlaneGeometry)
        The planes (stored pixels, rescale slope and intercept, LPS position in mm of the
        first pixel's centre) in file order, and their shared in-plane geometry.

    Raises
    ------
    ImageReadError
        If the object has no pixel data, is a multi-frame object of an unsupported kind
        (projections, several detectors, a non-NM object without functional groups), has
        several energy windows and none chosen (or one absent), or has a corrupt header.
    """
    if "PixelData" not in ds:
        raise ImageReadError(f"{source}: no PixelData, this is not an image")
    if "PerFrameFunctionalGroupsSequence" in ds:
        return _enhanced(ds, source)
    if header_int(ds, "NumberOfFrames", source, default=1) > 1:
        if str(ds.get("Modality", "")) != "NM":
            raise ImageReadError(
                f"{source}: multi-frame {ds.get('Modality', '')} object without functional "
                "groups is not supported (expected NM reconstructed tomography)"
            )
        return _nm_multiframe(ds, source, energy_window)
    return _single_frame(ds, source)
