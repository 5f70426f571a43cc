"""Moving extensive quantities (activity, volume) between grids without losing any.

Interpolation (:meth:`Volume.resample_to`) is right for intensive quantities (Bq/mL, HU, Gy)
but wrong for extensive ones: the activity in a SPECT voxel, or how much of a coarse dose voxel
a small tumour drawn on the CT fills. Here every source voxel is split among the target voxels
in proportion to the geometric overlap of the two boxes, so sums are conserved exactly.

When the axes of both grids are parallel (the usual hybrid SPECT/CT or PET/CT, possibly with
flipped or permuted axes) the overlap is separable and computed exactly, one axis at a time.
For oblique grids each target voxel is supersampled (``n`` points per axis, nearest source
voxel), an area-averaging approximation whose error shrinks as ``1/n``.

Voxels are boxes centred on their grid points (the convention of :mod:`opensirt.imaging.volume`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import GeometryError, InputError
from opensirt.imaging.volume import Volume

__all__ = ["coverage_fraction", "crop_to_grid", "rebin_sum", "voxel_coverage"]

_FloatArray = npt.NDArray[np.float64]


def _overlap_weights(
    src_start_mm: float, src_step_mm: float, n_src: int, dst_step_mm: float, n_dst: int
) -> _FloatArray:
    """``W[n, m]``: fraction of source voxel ``m`` inside target voxel ``n`` along one axis.

    Coordinates are along the target axis with the centre of target voxel 0 at 0 mm.

    >>> _overlap_weights(0.0, 1.0, 2, 2.0, 1)  # 1 mm voxels at 0 and 1 mm, a 2 mm one at 0
    array([[1. , 0.5]])
    """
    src_lo = src_start_mm + (np.arange(n_src) - 0.5) * src_step_mm
    dst_lo = (np.arange(n_dst) - 0.5) * dst_step_mm
    lo = np.maximum(dst_lo[:, None], src_lo[None, :])
    hi = np.minimum(dst_lo[:, None] + dst_step_mm, src_lo[None, :] + src_step_mm)
    out: _FloatArray = np.clip(hi - lo, 0.0, None) / src_step_mm
    return out


def _axis_permutation(source: Volume, target: Volume) -> npt.NDArray[np.int64] | None:
    """Signed permutation ``P`` with ``P = D_target^T D_source`` if the axes are parallel."""
    product = target.direction_matrix.T @ source.direction_matrix
    rounded = np.round(product)
    if not np.allclose(product, rounded, atol=1e-5):
        return None
    return rounded.astype(np.int64)


def _reorient_like(source: Volume, perm: npt.NDArray[np.int64]) -> tuple[npt.NDArray[Any], Any]:
    """Source values and grid re-indexed so that its axis ``a`` runs along target axis ``a``.

    Returns the array ``[k, j, i]`` in target axis order (increasing along each target axis;
    a view, in the source's dtype) and the (origin, spacing) of the re-indexed grid in the
    patient frame.
    """
    array = np.asarray(source.array)
    spacing = np.asarray(source.spacing_mm)
    origin = np.asarray(source.origin_mm, dtype=np.float64)
    # source axis s (0=i) lies along target axis t with sign perm[t, s].
    src_of_tgt = [int(np.nonzero(perm[t])[0][0]) for t in range(3)]
    for s in range(3):
        t = int(np.nonzero(perm[:, s])[0][0])
        if perm[t, s] < 0:  # reverse this source axis; the last voxel becomes the first
            axis = 2 - s
            origin = origin + source.direction_matrix[:, s] * spacing[s] * (array.shape[axis] - 1)
            array = np.flip(array, axis=axis)
    # numpy axes are (k, j, i) = (2, 1, 0) in ijk terms
    array = np.transpose(array, [2 - src_of_tgt[2 - a] for a in range(3)])
    return array, (origin, spacing[src_of_tgt])


#: Source voxels rebinned at once (slabs of whole planes), to bound the float64 copies.
_SLAB_VOXELS = 1 << 22

_Band = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], _FloatArray]


def _bands(weights: _FloatArray) -> list[_Band]:
    """The non-zero overlaps of ``weights[n_dst, n_src]`` as bands for :func:`_contract_last`.

    In band ``b`` every source voxel gives to its ``b``-th target voxel (a source voxel
    overlaps at most a few target voxels); the targets never decrease along a band, so each
    band is summed by ``np.add.reduceat``. Returns (source indices, segment starts, target
    of each segment, weights) per band.
    """
    src, dst = np.nonzero(weights.T)  # sorted by source, then target
    first = np.searchsorted(src, src)  # index of each source's first overlap
    rank = np.arange(src.size) - first
    out = []
    for b in range(int(rank.max()) + 1 if rank.size else 0):
        m, d = src[rank == b], dst[rank == b]
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        out.append((m, starts, d[starts], weights[d, m]))
    return out


def _contract_last(array: npt.NDArray[Any], bands: list[_Band], n_dst: int) -> _FloatArray:
    """``array @ W.T`` along the last axis for the banded overlap matrix ``W`` (float64)."""
    out = np.zeros((*array.shape[:-1], n_dst), dtype=np.float64)
    for m, starts, targets, w in bands:
        contiguous = m.size and int(m[-1]) - int(m[0]) + 1 == m.size
        taken = array[..., int(m[0]) : int(m[-1]) + 1] if contiguous else array[..., m]
        out[..., targets] += np.add.reduceat(taken * w, starts, axis=-1)
    return out


def _rebin_parallel(source: Volume, target: Volume, perm: npt.NDArray[np.int64]) -> _FloatArray:
    """Exact separable rebinning, one axis at a time, in slabs of source planes."""
    array, (origin, spacing) = _reorient_like(source, perm)
    offset = target.direction_matrix.T @ (origin - np.asarray(target.origin_mm))
    bands = [
        _bands(_overlap_weights(offset[a], spacing[a], array.shape[2 - a], target.spacing_mm[a], n))
        for a, n in zip(range(3), (target.shape[2], target.shape[1], target.shape[0]), strict=True)
    ]
    nk, nj, ni = target.shape
    planes = np.zeros((array.shape[0], nj, ni), dtype=np.float64)  # i and j summed
    step = max(1, _SLAB_VOXELS // max(array.shape[1] * array.shape[2], 1))
    for k in range(0, array.shape[0], step):
        slab = np.asarray(array[k : k + step], dtype=np.float64)
        part = _contract_last(slab, bands[0], ni)  # (s, nj_src, NI)
        part = _contract_last(np.swapaxes(part, 1, 2), bands[1], nj)  # (s, NI, NJ)
        planes[k : k + step] = np.swapaxes(part, 1, 2)
    result = _contract_last(np.moveaxis(planes, 0, -1), bands[2], nk)  # (NJ, NI, NK)
    return np.ascontiguousarray(np.moveaxis(result, -1, 0))


def _rebin_supersampled(source: Volume, target: Volume, n: int) -> _FloatArray:
    """Oblique grids: mean of ``n**3`` sub-voxel samples of the source density per target voxel."""
    density = np.asarray(source.array, dtype=np.float64) / source.voxel_volume_ml
    offsets = (np.arange(n) + 0.5) / n - 0.5
    out = np.zeros(target.shape, dtype=np.float64)
    kk, jj, ii = np.meshgrid(*(np.arange(s) for s in target.shape), indexing="ij")
    centres = np.stack([ii, jj, kk], axis=-1).reshape(-1, 3).astype(np.float64)
    for dk in offsets:
        for dj in offsets:
            for di in offsets:
                points = target.index_to_physical(centres + np.array([di, dj, dk]))
                idx = np.rint(source.physical_to_index(points)).astype(np.int64)
                inside = np.all((idx >= 0) & (idx < source.shape[::-1]), axis=1)
                values = np.zeros(len(idx))
                values[inside] = density[idx[inside, 2], idx[inside, 1], idx[inside, 0]]
                out += values.reshape(target.shape)
    result: _FloatArray = out / n**3 * target.voxel_volume_ml
    return result


def rebin_sum(source: Volume, target: Volume, *, supersampling: int = 4) -> Volume:
    """Sum an extensive quantity (per voxel) of ``source`` into the voxels of ``target``'s grid.

    Each source voxel's value is shared among the target voxels it overlaps, in proportion to
    the overlapping volume; what falls outside the target grid is lost, with a warning.

    Parameters
    ----------
    source : Volume
        Values per voxel (e.g. MBq per voxel, or mL of structure per voxel).
    target : Volume
        The grid to sum onto (its values are ignored); same frame of reference.
    supersampling : int
        Samples per axis for oblique grids (ignored when the axes are parallel).

    Returns
    -------
    Volume
        float64 sums on ``target``'s grid, with ``source``'s units and metadata. A warning
        is given when part of the source total falls outside ``target``.

    Raises
    ------
    GeometryError
        If the frames of reference differ.
    InputError
        If ``supersampling`` is below 1.

    Examples
    --------
    >>> fine = Volume(np.ones((4, 4, 4)), spacing_mm=(1, 1, 1))
    >>> coarse = Volume(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2), origin_mm=(0.5, 0.5, 0.5))
    >>> rebin_sum(fine, coarse).array[0, 0, 0]
    np.float64(8.0)
    """
    source.require_same_frame(target, "source and target grids")
    if supersampling < 1:
        raise InputError(f"supersampling is {supersampling}, expected an integer >= 1")
    perm = _axis_permutation(source, target)
    if perm is None:
        array = _rebin_supersampled(source, target, supersampling)
    else:
        array = _rebin_parallel(source, target, perm)
    total_in, total_out = source.total(), float(array.sum())
    # exact for parallel axes (rounding only); supersampling errs by about 1/n at edges
    tolerance = 1e-6 if perm is not None else 0.5 / supersampling
    if abs(total_in - total_out) > tolerance * max(abs(total_in), 1e-12):
        warnings.warn(
            f"rebinning onto the target grid kept a sum of {total_out:.6g} of {total_in:.6g}: "
            "part of the source lies outside the target grid (or the grids are oblique); "
            "enlarge the target grid if that part matters",
            stacklevel=2,
        )
    return target.with_array(array, units=source.units, **source.metadata)


def voxel_coverage(source: Volume, target: Volume) -> Volume:
    """How many ``source`` voxels each voxel of ``target`` holds: :func:`rebin_sum` of ones.

    For parallel axes the overlap is separable, so this is the outer product of the per-axis
    overlaps (no pass over the source voxels); oblique grids rebin an array of ones.

    Parameters
    ----------
    source : Volume
        The grid whose voxels are counted (its values are not used).
    target : Volume
        The grid to count into, in the same frame of reference.

    Returns
    -------
    Volume
        float64 on ``target``'s grid (units ``"voxels"``): the number of ``source`` voxels
        (fractional at the edges) inside each ``target`` voxel.

    Raises
    ------
    GeometryError
        If the frames of reference differ.

    Examples
    --------
    >>> fine = Volume(np.zeros((4, 4, 4)), spacing_mm=(1, 1, 1))
    >>> coarse = Volume(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2), origin_mm=(0.5, 0.5, 0.5))
    >>> float(voxel_coverage(fine, coarse).array[1, 1, 1])
    8.0
    """
    source.require_same_frame(target, "source and target grids")
    perm = _axis_permutation(source, target)
    if perm is None:
        return rebin_sum(source.with_array(np.ones(source.shape), units="voxels"), target)
    array, (origin, spacing) = _reorient_like(source, perm)
    offset = target.direction_matrix.T @ (origin - np.asarray(target.origin_mm))
    along = [
        _overlap_weights(offset[a], spacing[a], array.shape[2 - a], target.spacing_mm[a], n).sum(1)
        for a, n in zip(range(3), (target.shape[2], target.shape[1], target.shape[0]), strict=True)
    ]
    counts = along[2][:, None, None] * along[1][None, :, None] * along[0][None, None, :]
    return target.with_array(counts, units="voxels")


def crop_to_grid(source: Volume, target: Volume) -> Volume:
    """``source`` cropped to the voxels that overlap ``target``'s grid (all of it if none).

    Rebinning the crop gives the same sums on ``target`` as rebinning the whole source,
    without the work (and the warning) for the part outside ``target``.

    Parameters
    ----------
    source : Volume
        The volume to crop.
    target : Volume
        The grid whose extent (the boxes of its voxels, in the patient frame) bounds the crop;
        same frame of reference.

    Returns
    -------
    Volume
        ``source`` restricted to the voxels that overlap ``target`` (see :meth:`Volume.crop`),
        or ``source`` itself when no voxel overlaps.

    Raises
    ------
    GeometryError
        If the frames of reference differ.
    """
    source.require_same_frame(target, "source and target grids")
    nk, nj, ni = target.shape
    corners = np.array(
        [[i, j, k] for i in (-0.5, ni - 0.5) for j in (-0.5, nj - 0.5) for k in (-0.5, nk - 0.5)]
    )
    index = source.physical_to_index(target.index_to_physical(corners))
    # voxel m spans [m - 0.5, m + 0.5]: it overlaps (more than by rounding) the target's span
    lo = np.maximum(np.floor(index.min(axis=0) - 0.5 + 1e-6).astype(int) + 1, 0)
    hi = np.minimum(np.ceil(index.max(axis=0) + 0.5 - 1e-6).astype(int), source.shape[::-1])
    if np.any(hi <= lo):
        return source
    return source.crop((slice(lo[2], hi[2]), slice(lo[1], hi[1]), slice(lo[0], hi[0])))


def coverage_fraction(mask: Volume, grid: Volume, *, supersampling: int = 4) -> Volume:
    """Fraction of each voxel of ``grid`` covered by the boolean ``mask`` (on a finer grid).

    ``mask`` may also hold partial-voxel weights in [0, 1] (the part of each of its voxels
    inside the structure, as a fractional DICOM SEG gives them); they are rebinned the same way.

    Used to weight a coarse dose grid (SPECT, 4.42 mm) by a structure drawn on the CT, so that
    the DVH of a small structure counts partial voxels. ``sum(fraction) * grid voxel volume``
    equals the mask's volume (exactly for parallel axes, if the grid covers the mask).

    Parameters
    ----------
    mask : Volume
        Boolean structure mask, or partial-voxel weights in [0, 1], usually on the CT grid.
    grid : Volume
        The grid to cover (its values are not used), in the same frame of reference.
    supersampling : int, optional
        Samples per axis for oblique grids (default 4; ignored when the axes are parallel).

    Returns
    -------
    Volume
        float64 fractions in [0, 1] on ``grid`` (units ``"fraction"``), with the mask's
        metadata. A warning is given if part of the mask lies outside ``grid``.

    Raises
    ------
    InputError
        If ``mask`` is not boolean nor weights in [0, 1].
    GeometryError
        If the frames of reference differ.

    Examples
    --------
    >>> fine = Volume(np.zeros((4, 4, 4), bool), spacing_mm=(1, 1, 1))
    >>> fine.array[:2, :2, :1] = True  # 4 voxels = 4 mm^3
    >>> coarse = Volume(np.zeros((2, 2, 2)), spacing_mm=(2, 2, 2), origin_mm=(0.5, 0.5, 0.5))
    >>> float(coverage_fraction(fine, coarse).array[0, 0, 0])
    0.5
    """
    values = np.asarray(mask.array)
    if values.dtype != np.bool_ and not (
        np.all(np.isfinite(values)) and values.min() >= 0 and values.max() <= 1
    ):
        raise InputError(
            "mask has values outside [0, 1], expected a boolean structure mask or "
            "partial-voxel weights"
        )
    if grid.voxel_volume_ml <= 0:  # pragma: no cover - Volume forbids it
        raise GeometryError("grid has a zero voxel volume")
    if values.any():  # only the structure's bounding box needs rebinning
        mask = mask.crop(mask.bounding_box())
        values = np.asarray(mask.array)
    volume_ml = mask.with_array(values.astype(np.float64) * mask.voxel_volume_ml)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        covered = rebin_sum(volume_ml, grid, supersampling=supersampling)
    if caught:
        warnings.warn(
            f"structure {mask.metadata.get('structure', '')!r}: "
            f"{volume_ml.total() - covered.total():.3g} mL of its "
            f"{volume_ml.total():.3g} mL lies outside the coarse grid and is not counted",
            stacklevel=2,
        )
    # the clip removes floating-point rounding only (overlaps never exceed the voxel); rounding
    # to 1e-12 makes exact fractions (a voxel half inside: 0.5) exact whatever the summation
    # order, so that thresholds such as ">= 0.5" do not depend on it
    fraction = np.clip(np.round(covered.array / grid.voxel_volume_ml, 12), 0.0, 1.0)
    return grid.with_array(fraction, units="fraction", **mask.metadata)
