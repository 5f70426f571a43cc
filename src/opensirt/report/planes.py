"""Display planes in the patient frame: where each pixel of a slice lies, and what it shows.

A display plane is defined in the patient frame (DICOM LPS: x to the patient's left, y
posterior, z to the head), so a CT, a dose map, an emission image or a mask on any grid, with
any direction cosines, is sampled where it belongs: each display pixel's patient position is
mapped to continuous voxel indices of each volume (:meth:`Volume.physical_to_index`) and
interpolated.

Display convention: radiological, the patient's right on the image left (DICOM PS3.3 C.7.6.2.1.1
patient orientation; ACR-AAPM-SIIM practice). Axial: anterior at the top; coronal and
sagittal: superior at the top; sagittal: anterior on the left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume

__all__ = ["Plane", "PlaneGrid", "orientation_letter", "plane_grid", "structure_centre_mm"]

_MAX_PIXELS = 768


class Plane(StrEnum):
    """Display planes."""

    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


#: For each plane: the patient-frame unit vectors of the image's column (rightwards) and row
#: (downwards) directions, in LPS, and the axis held fixed.
_PLANE_AXES: dict[Plane, tuple[tuple[float, float, float], tuple[float, float, float], int]] = {
    Plane.AXIAL: ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), 2),
    Plane.CORONAL: ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0), 1),
    Plane.SAGITTAL: ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0), 0),
}
_LPS_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))
_AXIS_NAMES = ("x", "y", "z")


def orientation_letter(vector: npt.ArrayLike) -> str:
    """The patient direction (LPS) a unit vector points to, by its largest component.

    Parameters
    ----------
    vector : array_like of 3 floats
        A direction in the patient frame (LPS: x to the left, y posterior, z to the head).

    Returns
    -------
    str
        One of ``R L A P I S``.

    Examples
    --------
    >>> [orientation_letter(v) for v in ((1, 0, 0), (0, -1, 0), (0, 0, -1))]
    ['L', 'A', 'I']
    """
    v = np.asarray(vector, dtype=np.float64)
    axis = int(np.argmax(np.abs(v)))
    return _LPS_LETTERS[axis][1 if v[axis] > 0 else 0]


@dataclass(frozen=True)
class PlaneGrid:
    """A display plane: pixel centres ``point + a * u + b * v`` for the ``a``, ``b`` below.

    Attributes
    ----------
    plane : Plane
    position_mm : tuple of 3 floats
        A patient point on the plane; its fixed coordinate is the slice position.
    a_mm, b_mm : numpy.ndarray
        Coordinates along ``u`` (image columns) and ``v`` (image rows) of the pixel centres.
    """

    plane: Plane
    position_mm: tuple[float, float, float]
    a_mm: npt.NDArray[np.float64]
    b_mm: npt.NDArray[np.float64]

    @property
    def u(self) -> npt.NDArray[np.float64]:
        """Unit vector of image columns (rightwards), LPS."""
        return np.asarray(_PLANE_AXES[self.plane][0])

    @property
    def v(self) -> npt.NDArray[np.float64]:
        """Unit vector of image rows (downwards), LPS."""
        return np.asarray(_PLANE_AXES[self.plane][1])

    @property
    def slice_axis(self) -> str:
        """The patient axis held fixed on the plane: ``"x"``, ``"y"`` or ``"z"``."""
        return _AXIS_NAMES[_PLANE_AXES[self.plane][2]]

    @property
    def slice_mm(self) -> float:
        """The plane's fixed patient coordinate (x, y or z), mm."""
        return self.position_mm[_PLANE_AXES[self.plane][2]]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``imshow`` extent (left, right, bottom, top) in mm, pixel edges included."""
        da = self.a_mm[1] - self.a_mm[0] if self.a_mm.size > 1 else 1.0
        db = self.b_mm[1] - self.b_mm[0] if self.b_mm.size > 1 else 1.0
        return (
            float(self.a_mm[0] - da / 2),
            float(self.a_mm[-1] + da / 2),
            float(self.b_mm[-1] + db / 2),
            float(self.b_mm[0] - db / 2),
        )

    def points_mm(self) -> npt.NDArray[np.float64]:
        """Patient positions of the pixel centres.

        Returns
        -------
        numpy.ndarray
            Shape (rows, columns, 3): x, y, z in mm (LPS) of each pixel centre.
        """
        p = np.asarray(self.position_mm)
        a = self.a_mm - p @ self.u
        b = self.b_mm - p @ self.v
        out: npt.NDArray[np.float64] = p + b[:, None, None] * self.v + a[None, :, None] * self.u
        return out

    def sample(self, volume: Volume, order: int = 1, cval: float = 0.0) -> npt.NDArray[np.float64]:
        """``volume`` interpolated at the pixel centres.

        Parameters
        ----------
        volume : Volume
            Any grid in the plane's frame of reference.
        order : int
            Interpolation order: 0 nearest, 1 linear (default), higher: spline.
        cval : float
            Value outside the volume's grid, in its units (e.g. -1000 HU for a CT).

        Returns
        -------
        numpy.ndarray
            Shape (rows, columns), in the volume's units.
        """
        ijk = volume.physical_to_index(self.points_mm())
        coords = np.moveaxis(ijk[..., ::-1], -1, 0)  # (k, j, i) for the [k, j, i] array
        # nearest or linear: only the box around the plane is converted (a clinical CT has 65 M
        # voxels); a margin of 2 keeps every sample's neighbours, and a box side that is not
        # the grid's edge lies beyond every sample, so edge handling is unchanged (splines of
        # higher order are prefiltered over the whole array: no box)
        shape = np.asarray(volume.shape)
        flat = coords.reshape(3, -1)
        lo = np.clip(np.floor(flat.min(axis=1)).astype(int) - 2, 0, shape - 1)
        hi = np.clip(np.ceil(flat.max(axis=1)).astype(int) + 3, lo + 1, shape)
        if order > 1:
            lo, hi = np.zeros(3, dtype=int), shape
        box = tuple(slice(int(a), int(b)) for a, b in zip(lo, hi, strict=True))
        data = np.asarray(volume.array[box], dtype=np.float64)
        out: npt.NDArray[np.float64] = ndimage.map_coordinates(
            data, coords - lo[:, None, None], order=order, mode="constant", cval=cval
        )
        return out


def _corners_mm(volume: Volume) -> npt.NDArray[np.float64]:
    """Patient positions of the 8 outer corners of the grid (voxel edges, not centres)."""
    nk, nj, ni = volume.shape
    edges = [(-0.5, n - 0.5) for n in (ni, nj, nk)]
    corners = np.array([[i, j, k] for i in edges[0] for j in edges[1] for k in edges[2]])
    return volume.index_to_physical(corners)


def plane_grid(volume: Volume, plane: Plane | str, position_mm: Sequence[float]) -> PlaneGrid:
    """The display plane through ``position_mm`` covering ``volume``'s extent.

    Pixels are square, as fine as the volume's finest spacing (coarsened to at most
    768 pixels a side).

    Parameters
    ----------
    volume : Volume
        The volume whose grid's extent the plane covers (usually the CT).
    plane : Plane or str
        ``"axial"``, ``"coronal"`` or ``"sagittal"``.
    position_mm : (x, y, z)
        A patient point (mm, LPS) on the plane: its fixed coordinate is the slice position.

    Returns
    -------
    PlaneGrid
        The plane's pixel centres.

    Raises
    ------
    InputError
        A position without three coordinates.
    """
    plane = Plane(plane)
    u, v, _ = (np.asarray(x) for x in _PLANE_AXES[plane])
    corners = _corners_mm(volume)
    spans = []
    for axis in (u, v):
        coordinate = corners @ axis
        spans.append((float(coordinate.min()), float(coordinate.max())))
    pixel_mm = min(volume.spacing_mm)
    longest = max(high - low for low, high in spans)
    pixel_mm = max(pixel_mm, longest / _MAX_PIXELS)
    axes = []
    for low, high in spans:
        n = max(1, round((high - low) / pixel_mm))
        step = (high - low) / n
        axes.append(low + step * (np.arange(n) + 0.5))
    position = tuple(float(c) for c in position_mm)
    if len(position) != 3:
        raise InputError(f"position_mm is {position_mm!r}, expected three coordinates (x, y, z) mm")
    return PlaneGrid(plane, position, axes[0], axes[1])  # type: ignore[arg-type]


def structure_centre_mm(mask: Volume) -> tuple[float, float, float]:
    """Patient position (mm) of the centroid of a mask's non-zero voxels.

    Parameters
    ----------
    mask : Volume
        A structure (non-zero inside), on any grid.

    Returns
    -------
    tuple of 3 floats
        The centroid (x, y, z) in mm, LPS.

    Raises
    ------
    InputError
        An empty mask.

    Examples
    --------
    >>> m = Volume(np.pad(np.ones((1, 1, 1), bool), ((2, 0), (0, 0), (3, 0))), (2.0, 2.0, 5.0))
    >>> structure_centre_mm(m)
    (6.0, 0.0, 10.0)
    """
    kji = np.argwhere(np.asarray(mask.array) != 0)
    if kji.size == 0:
        raise InputError("the structure mask is empty: no voxel to centre the slices on")
    centre = mask.index_to_physical(kji.mean(axis=0)[::-1])
    return (float(centre[0]), float(centre[1]), float(centre[2]))
