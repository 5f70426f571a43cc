"""Reading DICOM RT Dose: a dose grid as a Volume in Gy.

An RT Dose instance (PS3.3 A.18, RT Dose module C.8.8.3) stores one frame per dose plane:
stored values times Dose Grid Scaling (3004,000E) are Gy when Dose Units (3004,0002) is
``GY``. Image Position (Patient) is the centre of the first voxel of the first frame; frame
``n`` lies at ``offset[n] - offset[0]`` mm along the slice normal (row x column cosines),
where offset is Grid Frame Offset Vector (3004,000C). The standard allows offsets relative
to the first frame (first element 0) or absolute (first element the first frame's normal
coordinate); subtracting the first element reads both. Frames with decreasing offsets
(feet-first planning systems) are put in increasing order.

References
----------
.. [PS3.3] DICOM PS3.3 C.8.8.3 RT Dose Module, C.8.8.3.2 Grid Frame Offset Vector.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import ImageReadError
from opensirt.imaging.dicom_file import as_read_error, decode_pixels, header_int, read_dataset
from opensirt.imaging.volume import Volume

__all__ = ["RT_DOSE_STORAGE", "read_rtdose"]

#: SOP Class UID of RT Dose Storage (PS3.4 B.5).
RT_DOSE_STORAGE = "1.2.840.10008.5.1.4.1.1.481.2"
_SPACING_RTOL = 1e-4


def _floats(ds: Any, keyword: str, count: int | None, source: str) -> list[float]:
    value = ds.get(keyword)
    try:
        many = hasattr(value, "__iter__") and not isinstance(value, str | bytes)
        numbers = [float(v) for v in (value if many else [value])]
    except (TypeError, ValueError):
        numbers = []
    if (
        value is None
        or not numbers
        or (count is not None and len(numbers) != count)
        or not all(np.isfinite(numbers))
    ):
        expected = f"{count} finite numbers" if count else "finite numbers"
        raise ImageReadError(f"{source}: {keyword} is {value!r}, expected {expected}")
    return numbers


def _frame_offsets(ds: Any, n_frames: int, source: str) -> tuple[npt.NDArray[np.float64], float]:
    """Offsets of the frames from the first along the normal (mm), and the plane spacing."""
    if n_frames == 1:
        thickness = ds.get("SliceThickness")
        if thickness in (None, "") or not float(thickness) > 0:
            raise ImageReadError(
                f"{source}: a single-frame dose plane without SliceThickness has no voxel "
                "volume; export the dose as a 3-D grid"
            )
        return np.zeros(1), float(thickness)
    offsets = np.asarray(_floats(ds, "GridFrameOffsetVector", n_frames, source))
    offsets = offsets - offsets[0]
    steps = np.diff(offsets)
    if not (np.all(steps > 0) or np.all(steps < 0)) or not np.allclose(
        steps, steps[0], rtol=_SPACING_RTOL
    ):
        raise ImageReadError(
            f"{source}: GridFrameOffsetVector {offsets[:4].tolist()}... is not evenly spaced "
            "and monotonic; OpenSIRT reads regular dose grids only"
        )
    return offsets, abs(float(steps.mean()))


def read_rtdose(path: str | os.PathLike[str]) -> Volume:
    """Read an RT Dose file as a dose Volume in Gy (float64).

    Parameters
    ----------
    path : path-like
        The RT Dose file (multi-frame, or one plane with Slice Thickness).

    Returns
    -------
    Volume
        Dose in Gy on the file's grid, in its frame of reference; metadata holds the modality,
        Dose Type (``PHYSICAL``, ``EFFECTIVE``), Dose Summation Type, series and instance UIDs.

    Raises
    ------
    ImageReadError
        If the file is not a readable RT Dose (truncated, corrupt, pixel data that disagree
        with NumberOfFrames x Rows x Columns), has Dose Units other than GY, lacks Dose Grid
        Scaling or geometry, or its frames are not evenly spaced.
    """
    source = str(path)
    ds = read_dataset(source)
    with as_read_error(source, "an RT Dose"):
        return _dose_volume(ds, source)


def _dose_volume(ds: Any, source: str) -> Volume:
    if ds.get("SOPClassUID") != RT_DOSE_STORAGE and ds.get("Modality") != "RTDOSE":
        raise ImageReadError(
            f"{source} is not an RT Dose object (SOP Class {ds.get('SOPClassUID')}, Modality "
            f"{ds.get('Modality')!r}); pass the RTDOSE file of the plan"
        )
    units = str(ds.get("DoseUnits", "")).upper()
    if units != "GY":
        raise ImageReadError(
            f"{source}: Dose Units is {units!r}, expected 'GY' (a RELATIVE dose has no "
            "absolute scale; export the dose in Gy)"
        )
    scaling = _floats(ds, "DoseGridScaling", 1, source)[0]
    n_frames = header_int(ds, "NumberOfFrames", source, default=1)
    frames = decode_pixels(ds, source).astype(np.float64) * scaling
    cosines = np.asarray(_floats(ds, "ImageOrientationPatient", 6, source))
    row, col = cosines[:3], cosines[3:]
    normal = np.cross(row, col)
    if not np.isclose(np.linalg.norm(normal), 1.0, atol=1e-4):
        raise ImageReadError(
            f"{source}: ImageOrientationPatient {cosines.tolist()} is not two orthogonal unit "
            "vectors"
        )
    position = np.asarray(_floats(ds, "ImagePositionPatient", 3, source))
    pixel_spacing = _floats(ds, "PixelSpacing", 2, source)
    offsets, spacing_z = _frame_offsets(ds, n_frames, source)
    if offsets[-1] < 0:  # decreasing offsets: the last frame is the lowest
        frames = frames[::-1]
        position = position + normal * offsets[-1]
    return Volume(
        array=frames,
        spacing_mm=(pixel_spacing[1], pixel_spacing[0], spacing_z),
        origin_mm=(float(position[0]), float(position[1]), float(position[2])),
        direction=tuple(np.column_stack([row, col, normal]).ravel()),
        frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "")) or None,
        units="Gy",
        metadata={
            "modality": "RTDOSE",
            "dose_type": str(ds.get("DoseType", "")),
            "dose_summation_type": str(ds.get("DoseSummationType", "")),
            "series_instance_uid": str(ds.get("SeriesInstanceUID", "")),
            "sop_instance_uid": str(ds.get("SOPInstanceUID", "")),
            "source": source,
        },
    )
