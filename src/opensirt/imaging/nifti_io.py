"""NIfTI-1/2 images and label maps, converted between NIfTI's RAS+ and DICOM's LPS frames.

A NIfTI affine ``A`` maps voxel indices ``(i, j, k, 1)`` to RAS+ millimetres (x grows towards
the patient's right, y anterior, z superior), whereas DICOM's LPS x grows to the left and y
posterior. The same point in LPS is ``diag(-1, -1, 1) @ p_ras``, so the LPS affine is
``diag(-1, -1, 1, 1) @ A``. NIfTI arrays are
indexed ``[i, j, k]``; :class:`Volume` arrays ``[k, j, i]``.

References
----------
.. [NIfTI] NIfTI-1 data format, header field documentation (qform/sform, RAS+ scanner
   coordinates), https://nifti.nimh.nih.gov/nifti-1/documentation/nifti1fields
.. [nibabel] Coordinate systems and affines, https://nipy.org/nibabel/coordinate_systems.html
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import ImageReadError, InputError
from opensirt.fileio import write_atomically
from opensirt.imaging.segmentation import Segmentation
from opensirt.imaging.volume import Volume

__all__ = ["ras_affine", "read_nifti", "read_nifti_labels", "write_nifti"]

_RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])


def read_nifti(
    path: str | os.PathLike[str],
    *,
    units: str = "",
    frame_of_reference_uid: str | None = None,
) -> Volume:
    """Read a 3-D NIfTI image (sform if set, else qform; scaling applied) in LPS.

    NIfTI has no frame of reference UID: give ``frame_of_reference_uid`` when the file is
    known to be in register with a DICOM series (e.g. it was exported from it).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.nii`` or ``.nii.gz`` file holding a 3-D image (or 4-D with one volume).
    units : str, optional
        Units of the values (e.g. ``"Gy"``, ``"label"``); empty (default) takes the header's
        ``descrip`` field, where :func:`write_nifti` stores them.
    frame_of_reference_uid : str or None, optional
        DICOM Frame of Reference UID to give the volume; ``None`` (default) leaves it unset.

    Returns
    -------
    Volume
        The image in the LPS frame, its array indexed ``[k, j, i]``, the dtype of the scaled
        data kept; ``metadata`` holds ``source`` (the path) and ``modality`` ``"NIFTI"``.

    Raises
    ------
    ImageReadError
        If the file cannot be read as NIfTI, is not 3-D, or its affine is not a rotation and
        scaling.
    """
    import nibabel as nib

    try:
        image: Any = nib.load(str(path))
    except (OSError, ValueError, nib.filebasedimages.ImageFileError) as exc:
        raise ImageReadError(f"{path}: cannot be read as NIfTI ({exc})") from exc
    data = np.asanyarray(image.dataobj)
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ImageReadError(
            f"{path}: NIfTI image has shape {data.shape}, expected a 3-D volume (split 4-D "
            "series into volumes first)"
        )
    affine = _RAS_TO_LPS @ np.asarray(image.affine, dtype=np.float64)
    matrix = affine[:3, :3]
    spacing = np.linalg.norm(matrix, axis=0)
    try:
        return Volume(
            array=np.ascontiguousarray(np.transpose(data, (2, 1, 0))),
            spacing_mm=(float(spacing[0]), float(spacing[1]), float(spacing[2])),
            origin_mm=(float(affine[0, 3]), float(affine[1, 3]), float(affine[2, 3])),
            direction=tuple((matrix / spacing).reshape(-1).tolist()),
            frame_of_reference_uid=frame_of_reference_uid,
            units=units or _descrip(image),
            metadata={"source": str(path), "modality": "NIFTI"},
        )
    except InputError as exc:
        raise ImageReadError(f"{path}: NIfTI affine is not a rotation and scaling ({exc})") from exc


def _descrip(image: Any) -> str:
    """The header's description (OpenSIRT writes the units there)."""
    raw = image.header.get("descrip")
    if raw is None:
        return ""
    return bytes(np.asarray(raw).tobytes()).rstrip(b"\0").decode("ascii", "replace").strip()


def ras_affine(volume: Volume) -> npt.NDArray[np.float64]:
    """The 4x4 NIfTI (RAS+) affine of ``volume``'s grid.

    Parameters
    ----------
    volume : Volume
        The grid (values not used).

    Returns
    -------
    numpy.ndarray
        float64 ``(4, 4)`` affine mapping NIfTI indices ``(i, j, k, 1)`` to RAS+ mm.

    Examples
    --------
    >>> v = Volume(np.zeros((2, 3, 4)), spacing_mm=(1.0, 2.0, 3.0), origin_mm=(10.0, 20.0, 30.0))
    >>> ras_affine(v)[:3, 3].tolist(), np.diag(ras_affine(v))[:3].tolist()
    ([-10.0, -20.0, 30.0], [-1.0, -2.0, 3.0])
    """
    affine = np.eye(4)
    affine[:3, :3] = volume.direction_matrix * np.asarray(volume.spacing_mm)
    affine[:3, 3] = volume.origin_mm
    out: npt.NDArray[np.float64] = _RAS_TO_LPS @ affine  # the flip is its own inverse
    return out


def write_nifti(volume: Volume, path: str | os.PathLike[str]) -> Path:
    """Write ``volume`` as NIfTI-1 (``.nii`` or ``.nii.gz``), RAS+ affine, atomically.

    Boolean masks are written as uint8, float data as float32. Both sform and qform are set
    (code 1, scanner); the units (e.g. ``"Gy"``) go into the header's ``descrip``.

    Parameters
    ----------
    volume : Volume
        The image to write; the frame of reference UID and metadata are not stored.
    path : str or os.PathLike
        Destination; its name must end in ``.nii`` or ``.nii.gz`` (gzip-compressed).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        If the name does not end in ``.nii`` or ``.nii.gz``.
    """
    import nibabel as nib

    target = Path(path)
    if not target.name.lower().endswith((".nii", ".nii.gz")):
        raise InputError(f"path is {str(target)!r}, expected a name ending in .nii or .nii.gz")
    data: Any = np.transpose(volume.array, (2, 1, 0))
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    elif np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32)
    affine = ras_affine(volume)
    image = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    image.set_sform(affine, code=1)
    image.set_qform(affine, code=1)
    image.header.set_xyzt_units("mm", "sec")
    image.header["descrip"] = volume.units[:79].encode("ascii", "replace")
    return write_atomically(target, lambda tmp: nib.save(image, str(tmp)))


def read_nifti_labels(
    path: str | os.PathLike[str],
    names: Mapping[int, str],
    reference: Volume | None = None,
) -> Segmentation:
    """Structures from a NIfTI label map: ``names`` maps label value -> structure name.

    With ``reference``, the label map must lie on the reference's grid (NIfTI carries no
    frame of reference UID, so the reference's is adopted); otherwise the map's own grid is
    the reference.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.nii`` or ``.nii.gz`` integer label map.
    names : mapping of int to str
        Label value -> structure name; labels without a name are ignored with a warning.
    reference : Volume or None, optional
        The image the labels were drawn on (usually the CT); ``None`` uses the map's grid.

    Returns
    -------
    Segmentation
        One boolean mask per entry of ``names``, on the reference's (or the map's) grid.

    Raises
    ------
    ImageReadError
        If the file cannot be read as a 3-D NIfTI image.
    GeometryError
        If the map is not on ``reference``'s grid.
    InputError
        If the map holds non-integer values.
    """
    labels = read_nifti(path, units="label")
    if reference is not None:
        labels = Volume(
            labels.array,
            labels.spacing_mm,
            labels.origin_mm,
            labels.direction,
            frame_of_reference_uid=reference.frame_of_reference_uid,
            units="label",
            metadata=labels.metadata,
        )
        reference.require_same_grid(labels, f"label map {path} and reference image")
        labels = reference.with_array(labels.array, units="label")
    unknown = sorted(set(np.unique(labels.array).tolist()) - set(names) - {0})
    segmentation = Segmentation.from_label_map(labels, names, source=str(path))
    if unknown:
        warnings.warn(
            f"{path}: labels {unknown} have no name in the label mapping and are ignored",
            stacklevel=2,
        )
    return segmentation
