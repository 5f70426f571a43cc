"""Exact dose of laterally uniform slab sources in a stack of water slabs of any densities.

When every medium is water scaled by its density (the model of the kernels and of the Monte
Carlo engine), the dose in a laminar geometry with laterally uniform sources, as a function
of mass depth ``t = int rho dz``, is the homogeneous-water solution (O'Connor 1957, Proc Phys
Soc A 70:568, doi:10.1088/0370-1298/70/8/302, extended to slabs). It follows from the water
dose point kernel alone: the energy an isotropic point source deposits per unit mass depth
at a distance ``z`` from its plane is the planar kernel
``P(z) = int_|z|^inf F(r) / (2 r) dr`` (a spherical shell of radius ``r`` spreads its energy
uniformly over ``-r < z < r``, Archimedes' hat-box theorem; ``F`` the radial distribution of
the absorbed energy, from the shipped kernel). With ``G = int P`` and ``Psi = int G`` the
energy a source slab ``[a, b]`` deposits in a target slab ``[c, d]`` (mass depths, decays per
unit mass depth) is ``Psi(d - a) - Psi(d - b) - Psi(c - a) + Psi(c - b)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry import point_kernel


def _psi(nuclide: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mass depths (water mm, i.e. mm x g/mL) and Psi on a fine grid from 0 outwards."""
    pk = point_kernel(nuclide)
    shell = np.diff(np.concatenate([[0.0], pk.cumulative_fraction]))
    r_mid = pk.r_mm - 0.5 * np.diff(np.concatenate([[0.0], pk.r_mm]))
    # P at the shell edges: the energy of every shell beyond z, over 2 r
    tail = np.cumsum((shell / (2.0 * r_mid))[::-1])[::-1]
    z = np.concatenate([[0.0], pk.r_mm])
    p = np.concatenate([tail, [0.0]])
    dz = np.diff(z)
    g = np.concatenate([[0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * dz)])
    psi = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * dz)])
    return z, psi


def _psi_at(z: npt.NDArray[np.float64], psi: npt.NDArray[np.float64], x: float) -> float:
    """Psi(|x|), extended linearly beyond the kernel (G is constant there: 1/2 of the energy)."""
    x = abs(x)
    if x <= z[-1]:
        return float(np.interp(x, z, psi))
    slope = (psi[-1] - psi[-2]) / (z[-1] - z[-2])
    return float(psi[-1] + slope * (x - z[-1]))


def slab_dose_ratio(
    nuclide: str,
    density_g_per_ml: list[float],
    thickness_mm: float,
    source: list[bool],
) -> npt.NDArray[np.float64]:
    """Mean dose in each slab over the local-deposition dose of the source slabs.

    Parameters
    ----------
    nuclide : str
        "Y-90" or "Ho-166".
    density_g_per_ml : list of float
        Density of each slab, in depth order.
    thickness_mm : float
        Geometric thickness of every slab (mm).
    source : list of bool
        Which slabs hold the activity (uniform per unit volume, all of one density).

    Returns
    -------
    numpy.ndarray
        Dose of each slab divided by ``E_decay n_v / rho_source`` (the local-deposition dose
        in the source medium); laterally infinite slabs, nothing beyond the stack.
    """
    z, psi = _psi(nuclide)
    mass = np.asarray(density_g_per_ml) * thickness_mm
    edges = np.concatenate([[0.0], np.cumsum(mass)])
    rho_source = {d for d, s in zip(density_g_per_ml, source, strict=True) if s}
    assert len(rho_source) == 1, "sources of one density only"
    out = np.zeros(mass.size)
    for i in range(mass.size):
        c, d = edges[i], edges[i + 1]
        for j in np.flatnonzero(source):
            a, b = edges[j], edges[j + 1]
            energy = (
                _psi_at(z, psi, d - a)
                - _psi_at(z, psi, d - b)
                - _psi_at(z, psi, c - a)
                + _psi_at(z, psi, c - b)
            )
            # decays per unit mass depth are n_v / rho_source: the local-deposition dose
            # of the source medium divides out
            out[i] += energy
        out[i] /= d - c
    return out
