"""Read CT, MR, PET and NM/SPECT DICOM series into :class:`~opensirt.imaging.volume.Volume`.

Read tolerantly: slices in any file order, missing optional tags, small position jitter and
missing slices give a warning, not a failure. Refuse what cannot be a single volume, or
what is ambiguous: several series in one folder, tilted or sheared stacks, irregular spacing.

Slices are sorted along the slice normal n = row x column direction (DICOM Image Orientation
(Patient)); the volume's ``k`` axis is n, so the direction matrix is right-handed. Stored
pixel values are mapped to real values per slice (Rescale Slope/Intercept, or a Real World
Value Mapping). Header information goes to :attr:`Volume.metadata` (keys:
:class:`~opensirt.imaging.dicom_meta.MetaKey`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.dataset import Dataset

from opensirt.errors import ImageReadError
from opensirt.imaging.dicom_frames import Plane, PlaneGeometry, planes_of
from opensirt.imaging.dicom_meta import series_metadata, volume_units
from opensirt.imaging.dicom_series import choose_series, dicom_source, list_series
from opensirt.imaging.volume import Volume

__all__ = ["read_dicom_files", "read_image"]

_SPACING_WARN_MM = 0.01
_SPACING_FAIL_FRACTION = 0.05


def read_image(
    path: str | os.PathLike[str],
    series_uid: str | None = None,
    modality: str | None = None,
    *,
    description: str | None = None,
    energy_window: int | None = None,
) -> Volume:
    """Read one image volume: a DICOM file, a DICOM series folder, or a NIfTI file.

    Parameters
    ----------
    path : path-like
        A DICOM file (a multi-frame NM object, one slice), a folder (or a DICOMDIR, or a zip)
        holding image series (other series such as RTSTRUCT may be there too), or a
        ``.nii``/``.nii.gz`` file; see :mod:`opensirt.imaging.dicom_series`.
    series_uid : str, optional
        The Series Instance UID to read when the folder holds several image series.
    modality : str, optional
        Keep only series of this modality (``"CT"``, ``"PT"``, ``"NM"``, ``"MR"``).
    description : str, optional
        Keep only series whose Series Description matches (case-insensitive substring, or a
        glob such as ``"MAA*"``).
    energy_window : int, optional
        NM only: the energy window number, when the object holds several.

    Raises
    ------
    ImageReadError
        If nothing readable is found, or several series match (the message lists each with
        its UID, modality, description and file count, and how to choose).
    """
    location = Path(path)
    if location.is_file() and location.name.lower().endswith((".nii", ".nii.gz")):
        from opensirt.imaging.nifti_io import read_nifti

        return read_nifti(location)
    with dicom_source(location) as root:
        chosen = choose_series(
            location,
            list_series(root),
            series_uid=series_uid,
            modality=modality,
            description=description,
        )
        return read_dicom_files(chosen.paths, energy_window=energy_window)


def read_dicom_files(paths: Sequence[Path], *, energy_window: int | None = None) -> Volume:
    """Stack the image planes of the files of one series into a volume."""
    planes: list[Plane] = []
    geometry: PlaneGeometry | None = None
    first: Dataset | None = None
    for file in paths:
        ds = pydicom.dcmread(file)
        file_planes, file_geometry = planes_of(ds, str(file), energy_window=energy_window)
        if geometry is None:
            geometry, first = file_geometry, ds
        elif not geometry.matches(file_geometry):
            raise ImageReadError(
                f"{file}: orientation, pixel spacing or matrix differ from the series' first "
                f"slice ({file_geometry} vs {geometry}); the series is not one volume"
            )
        planes.extend(file_planes)
    if geometry is None or first is None:
        raise ImageReadError("no image file given")
    source = str(Path(paths[0]).parent if len(paths) > 1 else paths[0])
    return _stack(planes, geometry, first, source)


def _slice_grid(
    offsets: npt.NDArray[np.float64], nominal: float | None, source: str
) -> tuple[npt.NDArray[np.int64], float]:
    """Slice index of each (sorted) offset along the normal, and the slice spacing (mm)."""
    if offsets.size == 1:
        if nominal is None:
            warnings.warn(f"{source}: one slice without thickness, assuming 1 mm", stacklevel=4)
        return np.zeros(1, np.int64), nominal or 1.0
    steps = np.diff(offsets)
    if steps.min() < 1e-3:
        raise ImageReadError(
            f"{source}: two slices share a position (along the normal at "
            f"{offsets[int(np.argmin(steps))]:.3f} mm); the folder may mix acquisitions or "
            "time frames: separate them"
        )
    step = float(steps.min())
    index = np.rint((offsets - offsets[0]) / step).astype(np.int64)
    step = float(np.sum(index * (offsets - offsets[0])) / np.sum(index * index))  # LSQ fit
    deviation = float(np.max(np.abs(offsets - offsets[0] - index * step)))
    if deviation > _SPACING_FAIL_FRACTION * step:
        raise ImageReadError(
            f"{source}: slice positions are irregular (up to {deviation:.2f} mm off a "
            f"{step:.3f} mm grid); resample the series to a regular grid first"
        )
    if deviation > _SPACING_WARN_MM:
        warnings.warn(
            f"{source}: slice positions deviate up to {deviation:.3f} mm from a regular "
            f"{step:.4f} mm grid; using the regular grid",
            stacklevel=4,
        )
    if nominal is not None and abs(nominal - step) > 0.01 * step:
        warnings.warn(
            f"{source}: SpacingBetweenSlices/SliceThickness says {nominal} mm but the slice "
            f"positions are {step:.4f} mm apart; using the positions",
            stacklevel=4,
        )
    return index, step


def _fill_gaps(array: npt.NDArray[Any], present: npt.NDArray[np.bool_], source: str) -> None:
    missing = np.nonzero(~present)[0]
    if missing.size == 0:
        return
    warnings.warn(
        f"{source}: {missing.size} slice(s) missing (indices {missing.tolist()}); "
        "filled by linear interpolation between their neighbours",
        stacklevel=4,
    )
    known = np.nonzero(present)[0]
    for k in missing:
        hi = known[np.searchsorted(known, k)]
        lo = known[np.searchsorted(known, k) - 1]
        w = (k - lo) / (hi - lo)
        array[k] = (1 - w) * array[lo] + w * array[hi]


def _stack(planes: list[Plane], geometry: PlaneGeometry, first: Dataset, source: str) -> Volume:
    row = np.asarray(geometry.orientation[:3]) / np.linalg.norm(geometry.orientation[:3])
    col = np.asarray(geometry.orientation[3:]) / np.linalg.norm(geometry.orientation[3:])
    if abs(float(row @ col)) > 1e-4:
        raise ImageReadError(
            f"{source}: ImageOrientationPatient {geometry.orientation} has row and column "
            "directions that are not perpendicular"
        )
    normal = np.cross(row, col)
    positions = np.stack([p.position_mm for p in planes])
    order = np.argsort(positions @ normal, kind="stable")
    positions = positions[order]
    in_plane = positions @ np.stack([row, col], axis=1)
    if np.max(np.abs(in_plane - in_plane[0])) > 0.05 * min(geometry.pixel_spacing_mm):
        raise ImageReadError(
            f"{source}: the slices are shifted in-plane from one another (gantry tilt or a "
            "sheared stack); resample the series to an orthogonal grid first"
        )
    index, step = _slice_grid(positions @ normal, geometry.slice_spacing_mm, source)
    modality = str(first.get("Modality", ""))
    dtype = np.float32 if modality in {"CT", "MR"} else np.float64
    array = np.zeros((int(index[-1]) + 1, *geometry.shape), dtype=dtype)
    for k, plane in zip(index, (planes[i] for i in order), strict=True):
        array[k] = plane.pixels.astype(np.float64) * plane.slope + plane.intercept
    present = np.zeros(array.shape[0], dtype=bool)
    present[index] = True
    _fill_gaps(array, present, source)
    frame_uid = str(first.get("FrameOfReferenceUID", "")) or None
    if frame_uid is None:
        warnings.warn(
            f"{source}: no FrameOfReferenceUID; the volume cannot be checked for registration "
            "with other images",
            stacklevel=3,
        )
    metadata: dict[str, Any] = series_metadata(first, source)
    units = volume_units(first, planes[0].units)
    return Volume(
        array=array,
        spacing_mm=(*geometry.pixel_spacing_mm, step),
        origin_mm=(float(positions[0, 0]), float(positions[0, 1]), float(positions[0, 2])),
        direction=tuple(np.stack([row, col, normal], axis=1).reshape(-1).tolist()),
        frame_of_reference_uid=frame_uid,
        units=units,
        metadata=metadata,
    )
