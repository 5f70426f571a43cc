"""Exact voxel doses in a laminar (slab) geometry, for testing heterogeneous dose methods.

With every medium modelled as water of its density, the dose in a laminar geometry with
laterally uniform (infinite) sources depends only on the *mass depth* ``t = int rho dz``:
it is the homogeneous-water solution (O'Connor's theorem; the straight-line path-length
kernel reproduces it exactly). In water, a plane source of one decay per mm^2 gives the
planar kernel

    P(u) = int_|u|^inf F'(d) / (2 d) dd        (energy fraction per mm of water depth)

(``F`` the cumulative absorbed-energy fraction of the point kernel, ``d`` the distance),
from ``dA = 2 pi rho drho = 2 pi d dd`` over the plane. Its first and second integrals,

    G(u) = int_0^inf F'(d)/(2d) min(|u|, d) dd sign(u),
    H(u) = int_0^inf F'(d)/(2d) m(|u|, d) dd,  m = u^2/2 (u <= d), d u - d^2/2 (u > d),

give the mean dose of a target slab ``[tau1, tau2]`` from a uniform source slab
``[T1, T2]`` (mass depths) in closed form: ``(H(tau2-T1) - H(tau1-T1) - H(tau2-T2) +
H(tau1-T2)) / (tau2 - tau1)`` per unit decays per mm^2 per mm of mass depth. ``F'`` is the
shipped kernel's shell fractions (piecewise constant, as the dose methods interpolate it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry import energy_per_decay_j, point_kernel

_D_STEP_MM = 0.0005


def _h_function(nuclide: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Midpoints ``d`` and weights ``F'(d)/(2d) dd`` of the distance integral."""
    dpk = point_kernel(nuclide)
    edges = np.concatenate([[0.0], dpk.r_mm])
    d = np.arange(_D_STEP_MM / 2, dpk.r_mm[-1], _D_STEP_MM)
    shell = np.searchsorted(edges, d) - 1
    density = np.diff(np.concatenate([[0.0], dpk.cumulative_fraction])) / np.diff(edges)
    return d, density[shell] * _D_STEP_MM / (2.0 * d)


def _h(u: npt.NDArray[np.float64], d: npt.NDArray[np.float64], w: npt.NDArray[np.float64]):
    u = np.abs(u)[:, None]
    m = np.where(u <= d[None, :], 0.5 * u * u, d[None, :] * u - 0.5 * d[None, :] ** 2)
    return (m * w[None, :]).sum(axis=1)


def laminar_slab_dose_gy(
    nuclide: str,
    density_g_per_ml: npt.ArrayLike,
    decays_per_voxel: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
) -> npt.NDArray[np.float64]:
    """Exact mean dose (Gy) of each voxel layer of a laminar geometry (layers along axis 0).

    Parameters
    ----------
    nuclide : str
        ``"Y-90"`` or ``"Ho-166"``.
    density_g_per_ml : array_like
        Density of each layer (g/mL).
    decays_per_voxel : array_like
        Decays in each voxel of each layer (laterally uniform, unbounded).
    spacing_mm : tuple of 3 floats
        Voxel size (z, y, x), mm; layers are ``spacing_mm[0]`` thick.

    Returns
    -------
    numpy.ndarray
        Mean dose of each layer (Gy), decay-data energy per decay.
    """
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    n = np.asarray(decays_per_voxel, dtype=np.float64)
    dz = spacing_mm[0]
    volume = float(np.prod(spacing_mm))
    t = np.concatenate([[0.0], np.cumsum(rho * dz)])  # mass depth of the layer faces, mm
    d, w = _h_function(nuclide)
    # H at every face-to-face difference
    diff = t[:, None] - t[None, :]
    h = _h(diff.ravel(), d, w).reshape(diff.shape)
    # mean over target layer i of the field of source layer j (per unit mass-depth density)
    hi = h[1:, :]
    lo = h[:-1, :]
    block = (hi[:, :-1] - lo[:, :-1] - hi[:, 1:] + lo[:, 1:]) / np.diff(t)[:, None]
    source = n / volume / rho  # decays per mm^2 per mm of mass depth (per mm^3 / rho)
    fraction_per_mm3 = block @ source  # energy fraction per mm^3 of water mass
    return energy_per_decay_j(nuclide) * fraction_per_mm3 / 1e-6
