"""Dose-volume histograms and dose metrics per structure, with partial-voxel weights.

A structure is a boolean mask or a fractional-occupancy array in [0, 1] on the dose grid
(the fraction of each voxel inside the structure, e.g. from a high-resolution contour).

Conventions (ICRU Report 83, 2010, section 3.7, doi:10.1093/jicru/ndq002):

* ``V(d)``: volume receiving at least ``d`` Gy. At the dose of a voxel it is exactly the
  occupancy-weighted volume of the voxels with that dose or more (the voxel-count
  definition); between two voxel doses it is interpolated linearly (the cumulative DVH is the
  polyline through those points), which makes it continuous for small structures.
* ``D_x``: the dose received by at least ``x`` % of the volume, the inverse of ``V``: the
  maximum dose ``d`` with ``V(d) >= x %``, interpolated on the same polyline. ``D_x`` for
  ``x`` below the hottest voxel's share is the maximum dose; ``D_100`` is the minimum.
* Mean: occupancy-weighted mean.
* Minimum and maximum: over the voxels at least half inside the structure (occupancy >=
  :data:`MIN_MAX_OCCUPANCY`), the partial-voxel counterpart of the whole-voxel convention
  (a voxel belongs to a contour when its centre does) of treatment-planning systems and
  dicompyler-core, so that a hot or cold voxel the structure barely touches does not set them.
  A structure that fills no voxel to half takes them over its most-occupied voxels.
* Occupancies below :data:`OCCUPANCY_EPSILON` are round-off of grid arithmetic, not anatomy,
  and are dropped before anything is computed.

ICRU 83 recommends the near-minimum ``D_98`` and near-maximum ``D_2`` over the minimum and
maximum, which depend on the grid; docs/dvh.md gives the definitions with examples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.errors import InputError
from opensirt.imaging.volume import Volume

#: The D_x reported by :meth:`DoseVolumeHistogram.metrics`, percent of the volume.
STANDARD_D_PERCENTS: tuple[float, ...] = (2.0, 50.0, 70.0, 90.0, 95.0, 98.0)
#: Occupancies below this (fraction of a voxel) are dropped as floating-point dust. Grid
#: arithmetic leaves ~1e-15; 1e-6 of a 4.4 mm SPECT voxel is 8.6e-5 uL, far below any
#: contour's precision, so no real partial voxel is lost.
OCCUPANCY_EPSILON = 1e-6
#: Voxels at least this much inside a structure count for its minimum and maximum dose; for
#: a locally straight boundary through a voxel, its centre is inside exactly when half of it is.
MIN_MAX_OCCUPANCY = 0.5


@dataclass(frozen=True, eq=False)
class DoseVolumeHistogram:
    """The cumulative DVH of one structure, exact at every voxel dose.

    Build it with :func:`dose_volume_histogram`.

    Attributes
    ----------
    name : str
        Structure name.
    doses_gy : ndarray
        Distinct voxel doses, decreasing.
    cumulative_fraction : ndarray
        Fraction of the structure volume receiving at least each of ``doses_gy``, increasing
        to 1.
    volume_ml : float
        Structure volume (sum of occupancy x voxel volume), mL.
    mean_gy : float
        Occupancy-weighted mean dose.
    min_gy, max_gy : float
        Lowest and highest dose of the voxels at least :data:`MIN_MAX_OCCUPANCY` inside (see
        the module notes); ``D_x`` near 0 or 100 % can lie beyond them when a partial voxel
        is hotter or colder.
    """

    name: str
    doses_gy: npt.NDArray[np.float64]
    cumulative_fraction: npt.NDArray[np.float64]
    volume_ml: float
    mean_gy: float
    min_gy: float
    max_gy: float

    def d_percent_gy(self, percent: float) -> float:
        """``D_x``: the dose (Gy) received by at least ``percent`` % of the volume.

        Linear interpolation between the distinct voxel doses of the cumulative DVH.

        Parameters
        ----------
        percent : float
            Part of the structure volume, percent in [0, 100] (e.g. 95 for ``D_95``).

        Returns
        -------
        float
            The dose (Gy); the highest voxel dose when ``percent`` is at or below the hottest
            voxel's share.

        Raises
        ------
        InputError
            If ``percent`` lies outside [0, 100].

        Examples
        --------
        >>> h = dose_volume_histogram(np.array([10.0, 20.0, 30.0, 40.0]), np.ones(4), 1.0)
        >>> h.d_percent_gy(50.0), h.d_percent_gy(60.0), h.d_percent_gy(2.0)
        (30.0, 26.0, 40.0)
        """
        if not 0.0 <= percent <= 100.0:
            raise InputError(f"percent is {percent!r}, expected a percentage in [0, 100]")
        x = percent / 100.0
        if x <= self.cumulative_fraction[0]:
            return float(self.doses_gy[0])
        return float(np.interp(x, self.cumulative_fraction, self.doses_gy))

    def v_fraction(self, dose_gy: float) -> float:
        """Fraction of the volume receiving at least ``dose_gy``.

        Parameters
        ----------
        dose_gy : float
            Dose threshold (Gy).

        Returns
        -------
        float
            Fraction of the structure volume in [0, 1] (not percent), interpolated between
            the distinct voxel doses; 0 above the highest dose, 1 at or below the lowest.

        Examples
        --------
        >>> h = dose_volume_histogram(np.array([10.0, 20.0, 30.0, 40.0]), np.ones(4), 1.0)
        >>> h.v_fraction(20.0), h.v_fraction(25.0), h.v_fraction(41.0)
        (0.75, 0.625, 0.0)
        """
        if dose_gy > self.doses_gy[0]:
            return 0.0
        if dose_gy <= self.doses_gy[-1]:
            return 1.0
        return float(np.interp(dose_gy, self.doses_gy[::-1], self.cumulative_fraction[::-1]))

    def v_ml(self, dose_gy: float) -> float:
        """Volume (mL) receiving at least ``dose_gy``.

        Parameters
        ----------
        dose_gy : float
            Dose threshold (Gy).

        Returns
        -------
        float
            ``V_dose`` in mL: :meth:`v_fraction` times the structure volume.
        """
        return self.v_fraction(dose_gy) * self.volume_ml

    def cumulative(self, bin_edges_gy: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Cumulative DVH: volume fraction receiving at least each dose in ``bin_edges_gy``.

        Parameters
        ----------
        bin_edges_gy : array_like
            Doses (Gy) at which to evaluate, usually increasing bin edges.

        Returns
        -------
        numpy.ndarray
            float64 fractions in [0, 1] (not percent), one per dose.
        """
        return np.array([self.v_fraction(float(d)) for d in np.asarray(bin_edges_gy, float)])

    def differential(self, bin_edges_gy: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Differential DVH: volume fraction with dose in each bin ``[e_i, e_i+1)``.

        Parameters
        ----------
        bin_edges_gy : array_like
            Increasing bin edges (Gy), ``n + 1`` of them for ``n`` bins.

        Returns
        -------
        numpy.ndarray
            float64 fractions of the structure volume (not percent), one per bin (length
            ``n``); they sum to 1 when the edges span every voxel dose.
        """
        cum = self.cumulative(bin_edges_gy)
        out: npt.NDArray[np.float64] = cum[:-1] - cum[1:]
        return out

    def metrics(self, d_percents: tuple[float, ...] = STANDARD_D_PERCENTS) -> dict[str, float]:
        """Mean, min, max, volume and the ``D_x`` as a flat dict (keys like ``"D95_gy"``).

        Parameters
        ----------
        d_percents : tuple of float, optional
            The ``x`` of the ``D_x`` wanted, percent of the volume (default
            :data:`STANDARD_D_PERCENTS`: 2, 50, 70, 90, 95, 98).

        Returns
        -------
        dict of str to float
            ``volume_ml`` (mL), ``mean_gy``, ``min_gy``, ``max_gy`` and ``D<x>_gy`` (Gy).

        Raises
        ------
        InputError
            If a percent lies outside [0, 100].
        """
        out = {
            "volume_ml": self.volume_ml,
            "mean_gy": self.mean_gy,
            "min_gy": self.min_gy,
            "max_gy": self.max_gy,
        }
        for p in d_percents:
            out[f"D{p:g}_gy"] = self.d_percent_gy(p)
        return out


def _weights(structure: Volume | npt.ArrayLike, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    w = np.asarray(structure.array if isinstance(structure, Volume) else structure)
    if w.shape != shape:
        raise InputError(
            f"structure has shape {w.shape}, expected the dose grid's {shape}; resample the "
            "segmentation onto the dose grid first"
        )
    w = w.astype(np.float64)
    if not np.all(np.isfinite(w)) or w.min() < 0.0 or w.max() > 1.0:
        raise InputError(
            f"structure weights span [{np.nanmin(w)}, {np.nanmax(w)}], expected a boolean mask "
            "or occupancy fractions in [0, 1] (is it a label map? select one label: labels == n)"
        )
    return w


def dose_volume_histogram(
    dose: Volume | npt.ArrayLike,
    structure: Volume | npt.ArrayLike,
    voxel_volume_ml: float | None = None,
    *,
    name: str = "",
) -> DoseVolumeHistogram:
    """The cumulative DVH of ``structure`` in ``dose``.

    Parameters
    ----------
    dose : Volume or array
        Dose (Gy); a Volume carries its voxel volume, an array needs ``voxel_volume_ml``.
    structure : Volume or array
        Boolean mask or occupancy fractions in [0, 1], same shape as the dose; occupancies
        below :data:`OCCUPANCY_EPSILON` are dropped.
    voxel_volume_ml : float, optional
        Voxel volume (mL) when ``dose`` is a plain array.
    name : str
        Structure name, carried to exports.

    Returns
    -------
    DoseVolumeHistogram
        The exact cumulative DVH, volume (mL) and dose statistics (Gy).

    Raises
    ------
    GeometryError
        If ``dose`` and ``structure`` are Volumes on different grids.
    InputError
        If the voxel volume is missing or not positive, the structure's shape differs from
        the dose's, its weights lie outside [0, 1], it is empty, or a dose inside it is not
        finite.
    """
    if isinstance(dose, Volume):
        if isinstance(structure, Volume):
            dose.require_same_grid(structure, "dose and structure")
        voxel_volume_ml = dose.voxel_volume_ml
        values = np.asarray(dose.array, dtype=np.float64)
    else:
        values = np.asarray(dose, dtype=np.float64)
    if voxel_volume_ml is None or not voxel_volume_ml > 0:
        raise InputError(f"voxel_volume_ml is {voxel_volume_ml!r}, expected a volume > 0 mL")
    w = _weights(structure, values.shape)
    inside = w >= OCCUPANCY_EPSILON
    if not inside.any():
        raise InputError(
            f"structure {name!r} is empty (no voxel with occupancy >= {OCCUPANCY_EPSILON:g})"
        )
    d, wt = values[inside], w[inside]
    if not np.all(np.isfinite(d)):
        raise InputError(f"dose has NaN or infinite values inside structure {name!r}")
    core = d[wt >= min(MIN_MAX_OCCUPANCY, float(wt.max()))]
    order = np.argsort(-d, kind="stable")
    d, wt = d[order], wt[order]
    unique, start = np.unique(-d, return_index=True)
    summed = np.add.reduceat(wt, start)
    total = math.fsum(wt)
    return DoseVolumeHistogram(
        name=name,
        doses_gy=-unique,
        cumulative_fraction=np.cumsum(summed) / total,
        volume_ml=total * voxel_volume_ml,
        mean_gy=math.fsum(d * wt) / total,
        min_gy=float(core.min()),
        max_gy=float(core.max()),
    )
