"""Read CT, MR, PET and NM/SPECT DICOM series into :class:`~opensirt.imaging.Volume`.

Read tolerantly where it is safe, and say so: slices in any file order, missing optional tags
and small position jitter give a warning, not a failure. What the reader tolerates beyond that
is an explicit argument (highdicom's style): ``allow_missing_slices`` (fill gaps by linear
interpolation between neighbours) and ``allow_uneven_spacing`` (slice positions off a regular
grid by more than ``spacing_tolerance_mm``), allowed by default for CT and MR, refused by
default for emission images (PT, NM) whose values are quantified. Refuse what cannot be a single
volume, or what is ambiguous: several series in one folder, tilted or sheared stacks, positions
more than 5 % of a slice off a regular grid.

Slices are sorted along the slice normal n = row x column direction (DICOM Image Orientation
(Patient)); the volume's ``k`` axis is n, so the direction matrix is right-handed. Stored
pixel values are mapped to real values per slice (Rescale Slope/Intercept or a Real World
Value Mapping). Header information goes to :attr:`Volume.metadata` (keys:
:class:`~opensirt.imaging.dicom_meta.MetaKey`); every warning the reader gave is kept there too,
as a tuple of messages under ``metadata["reader_warnings"]``
(:attr:`MetaKey.READER_WARNINGS <opensirt.imaging.dicom_meta.MetaKey.READER_WARNINGS>`), for
the plan's JSON and report.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from opensirt.errors import ImageReadError
from opensirt.imaging.dicom_file import as_read_error, read_dataset, recording_warnings
from opensirt.imaging.dicom_frames import Plane, PlaneGeometry, planes_of
from opensirt.imaging.dicom_meta import MetaKey, series_metadata, volume_units
from opensirt.imaging.dicom_series import SeriesInfo, choose_series, dicom_source, list_series
from opensirt.imaging.volume import Volume

__all__ = ["ReaderTolerance", "read_dicom_files", "read_image"]

_SPACING_TOLERANCE_MM = 0.01
_SPACING_FAIL_FRACTION = 0.05
#: Modalities whose reader tolerances (missing slices, uneven spacing) are on by default.
_LENIENT_MODALITIES = frozenset({"CT", "MR"})


@dataclass(frozen=True)
class ReaderTolerance:
    """What the series reader accepts beyond a regular, complete stack of slices.

    Parameters
    ----------
    allow_missing_slices : bool or None
        Fill slices missing from a regular grid by linear interpolation between their
        neighbours, with a warning (at most as many missing as present). None: allowed for
        CT and MR, refused for emission images (PT, NM) and others.
    allow_uneven_spacing : bool or None
        Accept slice positions up to 5 % of the spacing off a regular grid (placed on the
        least-squares regular grid, with a warning). None: as ``allow_missing_slices``.
    spacing_tolerance_mm : float
        Deviation from a regular grid accepted silently, mm (scanner rounding).
    """

    allow_missing_slices: bool | None = None
    allow_uneven_spacing: bool | None = None
    spacing_tolerance_mm: float = _SPACING_TOLERANCE_MM

    def __post_init__(self) -> None:
        if not (0.0 <= self.spacing_tolerance_mm < float("inf")):
            raise ImageReadError(
                f"spacing_tolerance_mm is {self.spacing_tolerance_mm}, expected a distance >= 0 mm"
            )

    def missing_allowed(self, modality: str) -> bool:
        """Whether gaps are filled for this modality.

        Parameters
        ----------
        modality : str
            DICOM Modality of the series (``"CT"``, ``"PT"``, ``"NM"``, ...).

        Returns
        -------
        bool
            ``allow_missing_slices`` if set, else True for CT and MR only.
        """
        if self.allow_missing_slices is None:
            return modality in _LENIENT_MODALITIES
        return self.allow_missing_slices

    def uneven_allowed(self, modality: str) -> bool:
        """Whether positions off the regular grid are accepted for this modality.

        Parameters
        ----------
        modality : str
            DICOM Modality of the series (``"CT"``, ``"PT"``, ``"NM"``, ...).

        Returns
        -------
        bool
            ``allow_uneven_spacing`` if set, else True for CT and MR only.
        """
        if self.allow_uneven_spacing is None:
            return modality in _LENIENT_MODALITIES
        return self.allow_uneven_spacing


def read_image(
    path: str | os.PathLike[str],
    series_uid: str | None = None,
    modality: str | None = None,
    *,
    description: str | None = None,
    energy_window: int | None = None,
    allow_missing_slices: bool | None = None,
    allow_uneven_spacing: bool | None = None,
    spacing_tolerance_mm: float = _SPACING_TOLERANCE_MM,
) -> Volume:
    """Read one image volume: a DICOM file, a DICOM series folder, or a NIfTI file.

    Parameters
    ----------
    path : path-like
        A DICOM file (a multi-frame NM object, one slice, an RT Dose read by
        :func:`~opensirt.imaging.rtdose_io.read_rtdose`), a folder (or a DICOMDIR, or a zip)
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
    allow_missing_slices, allow_uneven_spacing, spacing_tolerance_mm
        What the reader accepts beyond a complete regular stack; see :class:`ReaderTolerance`
        (by default missing slices and uneven spacing are accepted, with a warning, for CT
        and MR only).

    Returns
    -------
    Volume
        With ``metadata["reader_warnings"]``: the messages of every warning the reader gave.

    Raises
    ------
    ImageReadError
        If nothing readable is found, several series match (the message lists each with
        its UID, modality, description and file count, and how to choose), or a file is
        corrupt, truncated or not an image (the message names the file).
    """
    location = Path(path)
    if location.is_file() and location.name.lower().endswith((".nii", ".nii.gz")):
        from opensirt.imaging.nifti_io import read_nifti

        return read_nifti(location)
    tolerance = ReaderTolerance(allow_missing_slices, allow_uneven_spacing, spacing_tolerance_mm)
    messages: list[str] = []
    with recording_warnings(messages), dicom_source(location) as root:
        chosen = choose_series(
            location,
            list_series(root),
            series_uid=series_uid,
            modality=modality,
            description=description,
        )
        if chosen.modality == "RTDOSE":
            volume = _rtdose(chosen)
        else:
            volume = _read_files(chosen.paths, energy_window, tolerance)
    return _with_warnings(volume, messages)


def _rtdose(series: SeriesInfo) -> Volume:
    from opensirt.imaging.rtdose_io import read_rtdose

    if series.n_files != 1:
        raise ImageReadError(
            f"{series.paths[0].parent}: the RT Dose series {series} has several files; give "
            "the RT Dose file itself"
        )
    return read_rtdose(series.paths[0])


def read_dicom_files(
    paths: Sequence[Path],
    *,
    energy_window: int | None = None,
    tolerance: ReaderTolerance | None = None,
) -> Volume:
    """Stack the image planes of the files of one series into a volume (see :func:`read_image`;
    ``tolerance`` holds its tolerance arguments).

    Parameters
    ----------
    paths : sequence of pathlib.Path
        The files of one image series (one multi-frame file, or one file per slice, in any
        order: planes are sorted along the slice normal).
    energy_window : int or None, optional
        NM only: the energy window number, when the object holds several.
    tolerance : ReaderTolerance or None, optional
        What is accepted beyond a complete regular stack; None for the defaults.

    Returns
    -------
    Volume
        The stack indexed ``[k, j, i]`` in the LPS frame, values after the rescale (HU,
        Bq/mL or counts, see ``units``), with the header's :class:`MetaKey` metadata and
        ``metadata["reader_warnings"]``.

    Raises
    ------
    ImageReadError
        If a file is not DICOM, corrupt or not an image, or the planes do not make one
        regular volume (mixed geometry, gaps or uneven spacing not allowed).
    """
    messages: list[str] = []
    with recording_warnings(messages):
        volume = _read_files(paths, energy_window, tolerance or ReaderTolerance())
    return _with_warnings(volume, messages)


def _with_warnings(volume: Volume, messages: list[str]) -> Volume:
    return replace(volume, metadata={**volume.metadata, MetaKey.READER_WARNINGS: tuple(messages)})


def _file_planes(
    file: Path, energy_window: int | None
) -> tuple[Dataset, list[Plane], PlaneGeometry]:
    ds = read_dataset(file)
    with as_read_error(str(file), "an image"):
        planes, geometry = planes_of(ds, str(file), energy_window=energy_window)
    return ds, planes, geometry


def _read_files(
    paths: Sequence[Path], energy_window: int | None, tolerance: ReaderTolerance
) -> Volume:
    planes: list[Plane] = []
    geometry: PlaneGeometry | None = None
    first: Dataset | None = None
    for file in paths:
        ds, file_planes, file_geometry = _file_planes(file, energy_window)
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
    with as_read_error(source, "an image volume"):  # header values of the first file
        return _stack(planes, geometry, first, source, tolerance)


def _slice_grid(
    offsets: npt.NDArray[np.float64],
    nominal: float | None,
    source: str,
    tolerance: ReaderTolerance,
    modality: str,
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
    extent = (offsets[-1] - offsets[0]) / step
    if extent > 2 * offsets.size:  # before any allocation: a gap of thousands of slices
        raise ImageReadError(
            f"{source}: {offsets.size} slices spread over {offsets[-1] - offsets[0]:.1f} mm at "
            f"{step:.3f} mm spacing: more than half the stack would be missing slices; the "
            "positions are corrupt or the folder mixes series"
        )
    index = np.rint((offsets - offsets[0]) / step).astype(np.int64)
    step = float(np.sum(index * (offsets - offsets[0])) / np.sum(index * index))  # LSQ fit
    deviation = float(np.max(np.abs(offsets - offsets[0] - index * step)))
    if deviation > _SPACING_FAIL_FRACTION * step:
        raise ImageReadError(
            f"{source}: slice positions are irregular (up to {deviation:.2f} mm off a "
            f"{step:.3f} mm grid); resample the series to a regular grid first"
        )
    if deviation > tolerance.spacing_tolerance_mm:
        if not tolerance.uneven_allowed(modality):
            raise ImageReadError(
                f"{source}: {modality} slice positions deviate up to {deviation:.3f} mm from a "
                f"regular {step:.4f} mm grid (tolerance {tolerance.spacing_tolerance_mm} mm); "
                "refused for a quantitative image: pass allow_uneven_spacing=True (or a larger "
                "spacing_tolerance_mm) to place them on the regular grid"
            )
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


def _fill_gaps(
    array: npt.NDArray[Any],
    present: npt.NDArray[np.bool_],
    source: str,
    tolerance: ReaderTolerance,
    modality: str,
) -> None:
    missing = np.nonzero(~present)[0]
    if missing.size == 0:
        return
    if not tolerance.missing_allowed(modality):
        raise ImageReadError(
            f"{source}: {missing.size} slice(s) of the {modality} series are missing (indices "
            f"{missing.tolist()}); refused for a quantitative image: export the complete "
            "series, or pass allow_missing_slices=True to fill them by interpolation"
        )
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


def _stack(
    planes: list[Plane],
    geometry: PlaneGeometry,
    first: Dataset,
    source: str,
    tolerance: ReaderTolerance,
) -> Volume:
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
    modality = str(first.get("Modality", ""))
    index, step = _slice_grid(
        positions @ normal, geometry.slice_spacing_mm, source, tolerance, modality
    )
    dtype = np.float32 if modality in {"CT", "MR"} else np.float64
    array = np.zeros((int(index[-1]) + 1, *geometry.shape), dtype=dtype)
    for k, plane in zip(index, (planes[i] for i in order), strict=True):
        array[k] = plane.pixels.astype(np.float64) * plane.slope + plane.intercept
    present = np.zeros(array.shape[0], dtype=bool)
    present[index] = True
    _fill_gaps(array, present, source, tolerance, modality)
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
