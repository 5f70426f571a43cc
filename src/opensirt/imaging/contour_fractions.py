"""RTSTRUCT contours as partial-voxel occupancies on any grid (e.g. an RT Dose grid).

:func:`opensirt.imaging.rtstruct.read_rtstruct` rasterises contours onto the image they were
drawn on (whole voxels); a dose grid is usually coarser and its planes need not be the
contour planes. Here each structure becomes, on the target grid, the fraction of every voxel
inside it:

* Through-plane: each contour plane stands for a slab of the contour-plane spacing centred on
  it (the convention of treatment-planning systems and dicompyler-core: the first and last
  planes get a full slab, no end cap is added or removed). The slab is shared among the
  grid's slices by overlap length.
* In-plane: each grid pixel is split into ``subdivisions x subdivisions`` sub-pixels; a
  sub-pixel is inside when its centre is inside the plane's contours (even-odd rule, as
  :func:`~opensirt.imaging.rtstruct.rasterise_polygons`, by scanline). The covered
  fraction of a pixel therefore errs by at most about one sub-pixel row along the contour.

The volume of a structure is ``sum(fraction) x voxel volume``: contour area times slab
thickness, independent of where the grid's voxel centres fall.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset

from opensirt.errors import ImageReadError, InputError
from opensirt.imaging.dicom_file import as_read_error, read_dataset
from opensirt.imaging.rtstruct import contour_points, structure_items
from opensirt.imaging.volume import Volume

__all__ = ["rtstruct_fractions"]

_PLANE_TOL_MM = 0.05  # how far the points of one contour may lie off a common plane
_FloatArray = npt.NDArray[np.float64]


def _planes(item: Dataset, grid: Volume, name: str, source: str) -> dict[float, list[_FloatArray]]:
    """Contours of one ROI in grid index coordinates ``(i, j)``, keyed by plane position k."""
    planes: dict[float, list[_FloatArray]] = {}
    for contour in item.get("ContourSequence", []):
        if str(contour.get("ContourGeometricType", "CLOSED_PLANAR")).upper() not in {
            "CLOSED_PLANAR",
            "CLOSEDPLANAR_XOR",
        }:
            continue
        points = contour_points(contour, name, source)
        if len(points) < 3:
            raise ImageReadError(
                f"{source}: a contour of {name!r} has {len(points)} points, expected at least 3"
            )
        index = grid.physical_to_index(points)
        if np.ptp(index[:, 2]) * grid.spacing_mm[2] > _PLANE_TOL_MM:
            raise ImageReadError(
                f"{source}: a contour of {name!r} is not parallel to the grid's slices "
                f"(it spans {np.ptp(index[:, 2]) * grid.spacing_mm[2]:.2f} mm along the slice "
                "normal); resample the dose to the image the structures were drawn on"
            )
        k = round(float(index[:, 2].mean()), 6)
        planes.setdefault(k, []).append(index[:, :2])
    return planes


def _even_odd_fill(polygons: list[_FloatArray], shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """``[row, column]`` mask of the pixel centres (at integers) inside ``polygons``.

    Scanline even-odd rule over the edges of all polygons together, so nested contours cut
    holes as in :func:`~opensirt.imaging.rtstruct.rasterise_polygons`; an edge crosses row
    ``y`` when ``y`` lies in ``[y_low, y_high)``, so vertices on a row count once.

    >>> square = np.array([[0.5, 0.5], [3.5, 0.5], [3.5, 2.5], [0.5, 2.5]])
    >>> _even_odd_fill([square], (4, 5)).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    start = np.concatenate(polygons)
    end = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    y = np.arange(shape[0], dtype=np.float64)[:, None]
    low, high = np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1])
    crosses = (low <= y) & (y < high)
    rows, edges = np.nonzero(crosses)
    x0, y0 = start[edges, 0], start[edges, 1]
    slope = (end[edges, 0] - x0) / (end[edges, 1] - y0)
    x = x0 + (rows - y0) * slope
    # columns strictly right of the crossing see it: first such column floor(x) + 1
    first = np.clip(np.floor(x).astype(np.int64) + 1, 0, shape[1])
    counts = np.zeros((shape[0], shape[1] + 1), dtype=np.int64)
    np.add.at(counts, (rows, first), 1)
    inside: npt.NDArray[np.bool_] = (np.cumsum(counts, axis=1)[:, :-1] % 2) == 1
    return inside


def _in_plane_coverage(
    polygons: list[_FloatArray], shape: tuple[int, int], n: int
) -> tuple[_FloatArray, float]:
    """Covered fraction of each grid pixel ``[j, i]``, and the area (pixels) off the grid."""
    stacked = np.concatenate(polygons)
    lo = np.floor(stacked.min(axis=0) + 0.5).astype(int)  # first pixel (i, j) touched
    hi = np.floor(stacked.max(axis=0) + 0.5).astype(int)  # last pixel touched
    size = hi - lo + 1
    # sub-pixel centres at integers: f = (index - (lo - 0.5)) * n - 0.5
    fine = [(p - (lo - 0.5)) * n - 0.5 for p in polygons]
    mask = _even_odd_fill(fine, (int(size[1]) * n, int(size[0]) * n))
    box = mask.reshape(size[1], n, size[0], n).sum(axis=(1, 3)) / float(n * n)
    out = np.zeros(shape)
    j0, j1 = max(lo[1], 0), min(hi[1] + 1, shape[0])
    i0, i1 = max(lo[0], 0), min(hi[0] + 1, shape[1])
    if j1 > j0 and i1 > i0:
        out[j0:j1, i0:i1] = box[j0 - lo[1] : j1 - lo[1], i0 - lo[0] : i1 - lo[0]]
    return out, float(box.sum() - out.sum())


def _slab_weights(k_centre: float, thickness: float, n_slices: int) -> _FloatArray:
    """Fraction of each grid slice (index units) inside the slab ``k_centre +- thickness/2``."""
    edges = np.arange(n_slices) - 0.5
    lo = np.maximum(edges, k_centre - thickness / 2)
    hi = np.minimum(edges + 1.0, k_centre + thickness / 2)
    out: _FloatArray = np.clip(hi - lo, 0.0, None)
    return out


def _structure_fraction(
    planes: dict[float, list[_FloatArray]], grid: Volume, n: int, name: str, source: str
) -> Volume:
    positions = np.array(sorted(planes))
    steps = np.diff(positions)
    thickness = float(steps.min()) if steps.size else 1.0  # index units of the grid's k
    fraction = np.zeros(grid.shape)
    lost = 0.0
    for k in positions:
        area, off_grid = _in_plane_coverage(planes[float(k)], grid.shape[1:], n)
        weights = _slab_weights(float(k), thickness, grid.shape[0])
        fraction += weights[:, None, None] * area[None, :, :]
        lost += off_grid * thickness + float(area.sum()) * (thickness - weights.sum())
    total = float(fraction.sum()) + lost
    if lost > 1e-9 * max(total, 1.0):
        warnings.warn(
            f"{source}: {lost * grid.voxel_volume_ml:.3g} mL of structure {name!r} "
            f"({total * grid.voxel_volume_ml:.3g} mL) lies outside the grid and is not counted",
            stacklevel=3,
        )
    # the clip removes rounding only: slabs of distinct planes do not overlap
    array = np.clip(fraction, 0.0, 1.0)
    return grid.with_array(array, units="fraction", structure=name, source=source)


def rtstruct_fractions(
    path: str | os.PathLike[str],
    grid: Volume,
    names: Iterable[str] | None = None,
    *,
    subdivisions: int = 8,
) -> dict[str, Volume]:
    """Fraction of each voxel of ``grid`` inside each structure of an RTSTRUCT file.

    Parameters
    ----------
    path : path-like
        The RT Structure Set file.
    grid : Volume
        The target grid (its values are not used), e.g. an RT Dose; its slices must be
        parallel to the contour planes, in the structures' frame of reference.
    names : iterable of str, optional
        Only these structures (each must exist); default every structure with contours.
    subdivisions : int
        Sub-pixels per grid pixel along each in-plane axis (8: 64 per pixel).

    Returns
    -------
    dict of str to Volume
        Occupancy in [0, 1] on ``grid`` per structure name (units ``"fraction"``), ready for
        :func:`opensirt.dosimetry.dose_volume_histogram`. Structures without contours are
        left out, with a warning.

    Raises
    ------
    ImageReadError
        If the file is not a readable RTSTRUCT, or a contour is malformed or oblique.
    GeometryError
        If the structures are in another frame of reference than ``grid``.
    InputError
        If a requested name is absent, or ``subdivisions`` < 1.
    """
    if subdivisions < 1:
        raise InputError(f"subdivisions is {subdivisions}, expected an integer >= 1")
    source = str(path)
    ds = read_dataset(source)
    with as_read_error(source, "an RT Structure Set"):
        return _fractions(ds, source, grid, names, subdivisions)


def _fractions(
    ds: Dataset, source: str, grid: Volume, names: Iterable[str] | None, subdivisions: int
) -> dict[str, Volume]:
    wanted = None if names is None else list(names)
    rois, items = structure_items(ds, source, grid, wanted)
    out: dict[str, Volume] = {}
    for name, item in items:
        planes = _planes(item, grid, name, source)
        if planes:
            out[name] = _structure_fraction(planes, grid, subdivisions, name, source)
    for name in wanted if wanted is not None else [n for n, _frame in rois.values()]:
        if name not in out:
            warnings.warn(f"{source}: structure {name!r} has no contour", stacklevel=2)
    return out
