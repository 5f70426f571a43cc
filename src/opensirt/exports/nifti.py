"""NIfTI-1 export of a Volume (dose or any map), with the correct patient-frame affine.

OpenSIRT volumes live in DICOM LPS (+x to the patient's left, +y posterior, +z head); NIfTI's
scanner frame is RAS (+x to the patient's right, +y anterior, +z head), so x and y change
sign. The affine maps voxel ``(i, j, k)`` to RAS millimetres:
``A_ras = diag(-1, -1, 1) @ [direction @ diag(spacing) | origin]`` (NIfTI-1 standard,
https://nifti.nimh.nih.gov/nifti-1; nibabel "Coordinate systems and affines").
The data array is stored in ``(i, j, k)`` order (the transpose of OpenSIRT's ``[k, j, i]``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import numpy.typing as npt

from opensirt.exports._atomic import atomic_write
from opensirt.imaging.volume import Volume

_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ras_affine(volume: Volume) -> npt.NDArray[np.float64]:
    """The 4x4 NIfTI (RAS) affine of ``volume``'s grid.

    >>> v = Volume(np.zeros((2, 3, 4)), spacing_mm=(1.0, 2.0, 3.0), origin_mm=(10.0, 20.0, 30.0))
    >>> ras_affine(v)[:3, 3].tolist(), np.diag(ras_affine(v))[:3].tolist()
    ([-10.0, -20.0, 30.0], [-1.0, -2.0, 3.0])
    """
    lps = np.eye(4)
    lps[:3, :3] = volume.direction_matrix * np.asarray(volume.spacing_mm)
    lps[:3, 3] = volume.origin_mm
    out: npt.NDArray[np.float64] = _LPS_TO_RAS @ lps
    return out


def write_nifti(volume: Volume, path: str | os.PathLike[str]) -> Path:
    """Write ``volume`` as NIfTI-1 (``.nii`` or ``.nii.gz``), float32 for float data, atomically.

    The units go into the header description (``descrip``, e.g. ``"Gy"``); spatial units mm.
    """
    data = np.asarray(volume.array)
    if np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32)
    elif data.dtype == np.bool_:
        data = data.astype(np.uint8)
    affine = ras_affine(volume)
    image = nib.Nifti1Image(np.ascontiguousarray(data.transpose(2, 1, 0)), affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    image.header.set_xyzt_units(xyz="mm")
    image.header["descrip"] = volume.units[:79].encode("ascii", "replace")
    return atomic_write(path, lambda tmp: nib.save(image, str(tmp)))


def read_nifti(path: str | os.PathLike[str], units: str = "") -> Volume:
    """Read a NIfTI file written by :func:`write_nifti` (or any NIfTI) back as a Volume (LPS)."""
    image: Any = nib.load(str(path))
    affine = _LPS_TO_RAS @ np.asarray(image.affine, dtype=np.float64)
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    direction = affine[:3, :3] / spacing
    data = np.asarray(image.dataobj).transpose(2, 1, 0)
    descrip = image.header["descrip"].tobytes().rstrip(b"\0").decode("ascii", "replace")
    return Volume(
        array=data,
        spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
        origin_mm=(float(affine[0, 3]), float(affine[1, 3]), float(affine[2, 3])),
        direction=tuple(float(x) for x in direction.ravel()),
        units=units or descrip,
    )
