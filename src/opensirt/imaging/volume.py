"""A 3-D image with its geometry in the patient coordinate system.

Conventions (the same as SimpleITK and DICOM):

* ``array`` is indexed ``[k, j, i]`` = ``[slice, row, column]`` (numpy order ``z, y, x``);
* ``origin_mm`` is the patient-frame position (DICOM LPS: x to the patient's left, y to the
  posterior, z to the head) of the *centre* of voxel ``[0, 0, 0]``;
* ``spacing_mm`` is the distance between voxel centres along ``i, j, k`` (``x, y, z`` order);
* ``direction`` is the 3x3 matrix whose *columns* are the unit vectors of the ``i, j, k`` axes
  in the patient frame, so that ``p = origin + direction @ (spacing * (i, j, k))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import GeometryError, InputError

_GEOMETRY_TOL_MM = 1e-3


class Interpolation(StrEnum):
    """How :meth:`Volume.resample_to` interpolates: ``linear`` (intensities), ``nearest``
    (labels and masks, values kept exactly) or ``bspline`` (third-order B-spline)."""

    LINEAR = "linear"
    NEAREST = "nearest"
    BSPLINE = "bspline"


@dataclass(frozen=True, eq=False)
class Volume:
    """A 3-D array on a grid in the patient coordinate system.

    Parameters
    ----------
    array : numpy.ndarray
        3-D array indexed ``[k, j, i]`` (z, y, x).
    spacing_mm : tuple of 3 floats
        Voxel spacing along ``i, j, k`` (x, y, z), mm, each > 0.
    origin_mm : tuple of 3 floats
        Patient-frame position of the centre of voxel ``[0, 0, 0]``, mm.
    direction : tuple of 9 floats
        Row-major 3x3 direction-cosine matrix, columns the ``i, j, k`` axes; orthonormal.
    frame_of_reference_uid : str or None
        DICOM Frame of Reference UID; two volumes with different UIDs are not in register.
    units : str
        What the values mean, e.g. ``"HU"``, ``"Bq/mL"``, ``"counts"``, ``"Gy"``, ``"label"``.
    metadata : dict
        Free-form provenance (modality, series UID, acquisition time, ...).

    Raises
    ------
    InputError
        If the array is not 3-D, a spacing is not a positive finite distance, the origin is
        not three finite numbers, or the direction is not an orthonormal 3x3 matrix.
    """

    array: npt.NDArray[Any]
    spacing_mm: tuple[float, float, float]
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    frame_of_reference_uid: str | None = None
    units: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        arr = np.asarray(self.array)
        if arr.ndim != 3:
            raise InputError(f"Volume array has shape {arr.shape}, expected a 3-D array [k, j, i]")
        object.__setattr__(self, "array", arr)
        spacing = tuple(float(s) for s in np.broadcast_to(np.asarray(self.spacing_mm, float), 3))
        if not all(np.isfinite(s) and s > 0 for s in spacing):
            raise InputError(f"spacing_mm is {spacing}, expected three positive distances in mm")
        object.__setattr__(self, "spacing_mm", spacing)
        origin = tuple(float(o) for o in self.origin_mm)
        if len(origin) != 3 or not all(np.isfinite(origin)):
            raise InputError(f"origin_mm is {self.origin_mm}, expected three finite numbers (mm)")
        object.__setattr__(self, "origin_mm", origin)
        d = np.asarray(self.direction, float).reshape(-1)
        if d.size != 9 or not np.allclose(
            d.reshape(3, 3).T @ d.reshape(3, 3), np.eye(3), atol=1e-4
        ):
            raise InputError(
                f"direction is {tuple(d)}, expected 9 numbers of an orthonormal 3x3 matrix"
            )
        object.__setattr__(self, "direction", tuple(float(x) for x in d))

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int, int]:
        """Array shape ``(nk, nj, ni)`` = ``(nz, ny, nx)``."""
        s = self.array.shape
        return (int(s[0]), int(s[1]), int(s[2]))

    @property
    def spacing_zyx_mm(self) -> tuple[float, float, float]:
        """Spacing in array-axis order ``(k, j, i)``, for numpy/scipy operations."""
        return (self.spacing_mm[2], self.spacing_mm[1], self.spacing_mm[0])

    @property
    def direction_matrix(self) -> npt.NDArray[np.float64]:
        """The 3x3 direction matrix (columns: i, j, k axes in the patient frame)."""
        return np.asarray(self.direction, dtype=np.float64).reshape(3, 3)

    @property
    def voxel_volume_ml(self) -> float:
        """Volume of one voxel in mL (1 mL = 1000 mm^3)."""
        sx, sy, sz = self.spacing_mm
        return sx * sy * sz / 1000.0

    def index_to_physical(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Patient-frame positions (mm) of continuous indices given as ``(..., 3)`` in
        ``(i, j, k)`` order.

        Parameters
        ----------
        ijk : array_like
            Continuous voxel indices, shape ``(..., 3)``, in ``(i, j, k)`` = (column, row,
            slice) order, the reverse of the array's ``[k, j, i]`` axis order; integer values
            are voxel centres.

        Returns
        -------
        numpy.ndarray
            Patient-frame (DICOM LPS) positions in mm, float64, same shape as ``ijk``.
        """
        idx = np.asarray(ijk, dtype=np.float64)
        scaled = idx * np.asarray(self.spacing_mm)
        out: npt.NDArray[np.float64] = np.asarray(self.origin_mm) + scaled @ self.direction_matrix.T
        return out

    def physical_to_index(self, xyz_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Continuous ``(i, j, k)`` indices of patient-frame points ``(..., 3)`` (mm).

        The inverse of :meth:`index_to_physical`.

        Parameters
        ----------
        xyz_mm : array_like
            Patient-frame (DICOM LPS) positions in mm, shape ``(..., 3)``, ``(x, y, z)`` order.

        Returns
        -------
        numpy.ndarray
            Continuous voxel indices in ``(i, j, k)`` order, float64, same shape as ``xyz_mm``;
            not rounded and not clipped to the grid (a point outside gives indices outside
            ``[0, n - 1]``).
        """
        p = np.asarray(xyz_mm, dtype=np.float64) - np.asarray(self.origin_mm)
        out: npt.NDArray[np.float64] = (p @ self.direction_matrix) / np.asarray(self.spacing_mm)
        return out

    def same_grid(self, other: Volume, tol_mm: float = _GEOMETRY_TOL_MM) -> bool:
        """True if ``other`` has the same shape, spacing, origin and direction.

        The frame of reference is not compared (see :meth:`require_same_frame`).

        Parameters
        ----------
        other : Volume
            The volume to compare with.
        tol_mm : float, optional
            Largest difference in spacing and origin accepted as equal, mm (default 0.001 mm);
            the direction cosines are compared to within 1e-5.

        Returns
        -------
        bool
            True if both volumes share one grid, so their arrays match voxel for voxel.
        """
        return (
            self.shape == other.shape
            and np.allclose(self.spacing_mm, other.spacing_mm, atol=tol_mm)
            and np.allclose(self.origin_mm, other.origin_mm, atol=tol_mm)
            and np.allclose(self.direction, other.direction, atol=1e-5)
        )

    def require_same_grid(self, other: Volume, what: str = "volumes") -> None:
        """Raise :class:`GeometryError` unless ``other`` is on the same grid and frame.

        Parameters
        ----------
        other : Volume
            The volume that must share this volume's grid.
        what : str, optional
            How the two volumes are named in the error message, e.g. ``"dose and mask"``.

        Raises
        ------
        GeometryError
            If the frames of reference differ or the grids differ (shape, spacing, origin,
            direction).
        """
        self.require_same_frame(other, what)
        if not self.same_grid(other):
            raise GeometryError(
                f"{what} are on different grids: shape {self.shape} vs {other.shape}, spacing "
                f"{self.spacing_mm} vs {other.spacing_mm} mm, origin {self.origin_mm} vs "
                f"{other.origin_mm} mm; resample one onto the other first (Volume.resample_to)"
            )

    def require_same_frame(self, other: Volume, what: str = "volumes") -> None:
        """Raise :class:`GeometryError` if both volumes name different frames of reference.

        A volume without a Frame of Reference UID (``None`` or empty) is taken to be in any
        frame, so the check passes.

        Parameters
        ----------
        other : Volume
            The volume that must be in this volume's frame of reference.
        what : str, optional
            How the two volumes are named in the error message.

        Raises
        ------
        GeometryError
            If both UIDs are set and differ (the images are not registered).
        """
        a, b = self.frame_of_reference_uid, other.frame_of_reference_uid
        if a and b and a != b:
            raise GeometryError(
                f"{what} are in different frames of reference ({a} vs {b}): they are not "
                "registered; register them first or use images acquired on the same hybrid "
                "scanner (SPECT/CT, PET/CT)"
            )

    def with_array(self, array: npt.ArrayLike, units: str | None = None, **metadata: Any) -> Volume:
        """A volume on the same grid holding ``array`` (same shape required).

        Parameters
        ----------
        array : array_like
            The new values, indexed ``[k, j, i]``, with this volume's shape ``(nk, nj, ni)``.
        units : str or None, optional
            Units of the new values (e.g. ``"Gy"``); ``None`` keeps this volume's units.
        **metadata : Any
            Provenance entries added to (or replacing those of) a copy of this volume's
            metadata.

        Returns
        -------
        Volume
            A new volume with this volume's spacing, origin, direction and frame of reference.

        Raises
        ------
        GeometryError
            If ``array`` does not have this volume's shape.
        """
        arr = np.asarray(array)
        if arr.shape != self.shape:
            raise GeometryError(f"array has shape {arr.shape}, expected the grid's {self.shape}")
        meta = {**self.metadata, **metadata}
        return replace(self, array=arr, units=self.units if units is None else units, metadata=meta)

    def resample_to(
        self,
        reference: Volume,
        *,
        interpolation: Interpolation | str = Interpolation.LINEAR,
        default_value: float = 0.0,
    ) -> Volume:
        """This volume's values on ``reference``'s grid (SimpleITK resampling).

        ``interpolation`` is an :class:`Interpolation` or its value: ``"linear"``,
        ``"nearest"`` (labels) or ``"bspline"``. Values are interpolated, not integrated: to
        move activity between grids conserving the total, resample the concentration (Bq/mL),
        not the activity per voxel.

        Parameters
        ----------
        reference : Volume
            The volume whose grid (shape, spacing, origin, direction) the result takes; it must
            be in the same frame of reference (no registration is applied).
        interpolation : Interpolation or str, optional
            ``"linear"`` (default), ``"nearest"`` (for labels and masks: integer dtypes are
            kept, a boolean mask comes back as uint8 0/1) or ``"bspline"`` (cubic); linear and
            B-spline results are float64.
        default_value : float, optional
            Value given to reference voxels that fall outside this volume, in this volume's
            units (default 0).

        Returns
        -------
        Volume
            This volume's values on ``reference``'s grid, with this volume's units and a copy
            of its metadata.

        Raises
        ------
        GeometryError
            If the two volumes are in different frames of reference.
        InputError
            If ``interpolation`` is not one of the names above.
        """
        import SimpleITK as sitk

        self.require_same_frame(reference, "volume and resampling reference")
        interpolators = {
            Interpolation.LINEAR: sitk.sitkLinear,
            Interpolation.NEAREST: sitk.sitkNearestNeighbor,
            Interpolation.BSPLINE: sitk.sitkBSpline,
        }
        try:
            method = Interpolation(interpolation)
        except ValueError:
            raise InputError(
                f"interpolation is {interpolation!r}, expected one of "
                f"{sorted(i.value for i in Interpolation)}"
            ) from None
        moving = self.to_sitk()
        if method is not Interpolation.NEAREST:
            moving = sitk.Cast(moving, sitk.sitkFloat64)
        out = sitk.Resample(
            moving,
            reference.to_sitk(),
            sitk.Transform(),
            interpolators[method],
            float(default_value),
        )
        array = sitk.GetArrayFromImage(out)
        return replace(reference, array=array, units=self.units, metadata=dict(self.metadata))

    # ------------------------------------------------------------------ sums and crops
    def total(self, mask: Volume | None = None) -> float:
        """Sum of the values, over the whole grid or inside a boolean ``mask`` on this grid.

        For an activity map in MBq per voxel this is the activity in MBq.

        Parameters
        ----------
        mask : Volume or None, optional
            Boolean (or 0/1) mask on this grid; ``None`` (default) sums every voxel.

        Returns
        -------
        float
            The sum, in this volume's units (accumulated in float64).

        Raises
        ------
        GeometryError
            If ``mask`` is not on this volume's grid and frame.

        Examples
        --------
        >>> v = Volume(np.arange(8.0).reshape(2, 2, 2), spacing_mm=(1, 1, 1))
        >>> v.total(), v.total(v.with_array(v.array > 5))
        (28.0, 13.0)
        """
        if mask is None:
            return float(np.sum(self.array, dtype=np.float64))
        self.require_same_grid(mask, "volume and mask")
        return float(np.sum(self.array[np.asarray(mask.array, dtype=bool)], dtype=np.float64))

    def bounding_box(self, margin_mm: float = 0.0) -> tuple[slice, slice, slice]:
        """Index box ``(k, j, i)`` slices of the non-zero voxels, grown by ``margin_mm``.

        The margin is converted to whole voxels per axis (rounded up) and clipped to the grid.

        Parameters
        ----------
        margin_mm : float, optional
            Distance added on every side of the box, mm (default 0: the tight box).

        Returns
        -------
        tuple of 3 slice
            ``(k, j, i)`` slices with step 1, in array-axis order, usable as ``array[box]``.

        Raises
        ------
        InputError
            If no voxel is non-zero (there is nothing to box), or the margin is negative.
        """
        if not margin_mm >= 0.0:
            raise InputError(f"margin_mm is {margin_mm!r} mm, expected a distance >= 0 mm")
        values = np.asarray(self.array)
        present: npt.NDArray[np.bool_] = np.asarray(values, dtype=np.bool_)  # non-zero
        # the non-zero planes along each axis, from projections (no index array per voxel)
        rows = np.any(present, axis=2)
        k, j = np.flatnonzero(np.any(rows, axis=1)), np.flatnonzero(np.any(rows, axis=0))
        if k.size == 0:
            raise InputError(
                "the volume has no non-zero voxel, so it has no bounding box; check that the "
                "mask or structure is not empty"
            )
        inner = present[k[0] : k[-1] + 1, j[0] : j[-1] + 1]
        nonzero = (k, j, np.flatnonzero(np.any(inner, axis=(0, 1))))
        pad = [int(np.ceil(margin_mm / s - 1e-9)) for s in self.spacing_zyx_mm]
        box = [
            slice(max(int(idx[0]) - p, 0), min(int(idx[-1]) + 1 + p, n))
            for idx, p, n in zip(nonzero, pad, self.shape, strict=True)
        ]
        return (box[0], box[1], box[2])

    def crop(self, box: tuple[slice, slice, slice]) -> Volume:
        """The sub-volume ``array[box]`` (``k, j, i`` slices with step 1), origin moved to match.

        Parameters
        ----------
        box : tuple of 3 slice
            ``(k, j, i)`` slices in array-axis order, step 1, non-empty within the grid (as
            returned by :meth:`bounding_box`).

        Returns
        -------
        Volume
            The cropped volume: same spacing, direction, units and frame; ``origin_mm`` is the
            patient-frame position of the box's first voxel.

        Raises
        ------
        InputError
            If a slice has a step other than 1 or is empty.

        Examples
        --------
        >>> v = Volume(np.zeros((4, 5, 6)), spacing_mm=(2, 3, 4), origin_mm=(10, 20, 30))
        >>> c = v.crop((slice(1, 3), slice(2, 5), slice(0, 6)))
        >>> c.shape, c.origin_mm
        ((2, 3, 6), (10.0, 26.0, 34.0))
        """
        starts = []
        for s, n in zip(box, self.shape, strict=True):
            start, stop, step = s.indices(n)
            if step != 1 or stop <= start:
                raise InputError(f"crop box {box} must use step 1 and be non-empty within {n}")
            starts.append(start)
        origin = self.index_to_physical([starts[2], starts[1], starts[0]])
        return replace(
            self,
            array=self.array[box],
            origin_mm=(float(origin[0]), float(origin[1]), float(origin[2])),
            metadata=dict(self.metadata),
        )

    def crop_to(self, mask: Volume, margin_mm: float = 0.0) -> Volume:
        """This volume cropped to the bounding box of ``mask`` (same grid) plus ``margin_mm``.

        Parameters
        ----------
        mask : Volume
            Mask on this volume's grid; its non-zero voxels define the box.
        margin_mm : float, optional
            Distance added on every side of the box, mm (default 0).

        Returns
        -------
        Volume
            The cropped volume (see :meth:`crop`).

        Raises
        ------
        GeometryError
            If ``mask`` is not on this volume's grid and frame.
        InputError
            If ``mask`` is empty or ``margin_mm`` is negative.
        """
        self.require_same_grid(mask, "volume and crop mask")
        return self.crop(mask.bounding_box(margin_mm))

    # ------------------------------------------------------------------ SimpleITK
    def to_sitk(self) -> Any:
        """A ``SimpleITK.Image`` with this geometry (the array is copied).

        Returns
        -------
        SimpleITK.Image
            The image with this volume's spacing, origin and direction; a boolean array is
            stored as uint8 (0/1), any other dtype is kept.
        """
        import SimpleITK as sitk

        arr = self.array
        if arr.dtype == np.bool_:
            arr = arr.astype(np.uint8)
        image = sitk.GetImageFromArray(np.ascontiguousarray(arr))
        image.SetSpacing(self.spacing_mm)
        image.SetOrigin(self.origin_mm)
        image.SetDirection(self.direction)
        return image
