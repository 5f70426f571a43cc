"""Exact laminar (slab) reference dose from the water dose point kernel, for the slab tests.

Derivation
----------
Model: every medium is water of the voxel's density (DESIGN of issue 13). Take a laminar
phantom, density ``rho(z)`` constant in planes, with a source that is uniform in the lateral
directions (per unit volume, inside the source layers). Map depth ``z`` to *mass depth*
``t = integral_0^z rho dz'``. Electron transport in water of any density is the same per
g/cm^2 (O'Connor 1957, Proc Phys Soc A 70:657, doi:10.1088/0370-1298/70/9/303: all
interaction coefficients scale with density), and a laterally uniform slab problem depends on
depth only through the distances travelled along ``z``: every history in the laminar phantom
is a history in homogeneous water (density 1) with each of its depth coordinates replaced by
``t``, and its lateral steps stretched per layer, which does not change a laterally uniform
tally. So the energy deposited per unit *mass depth* is that of homogeneous water, exactly.

The water solution is the *planar kernel* ``P(u)``: energy (fraction of the emitted beta
energy) deposited per unit depth at distance ``u`` from an infinite plane of unit decay
density, per decay. A spherical shell of radius ``r`` around a point source meets a slab
``[u, u + du]`` (``|u| < r``) in a zone of area ``2 pi r du``, the fraction ``du / (2 r)`` of
its surface (Archimedes' hat-box theorem), so with ``f(r) dr`` the energy absorbed between
``r`` and ``r + dr`` (the shipped point kernel, :func:`opensirt.dosimetry.kernels.point_kernel`)

.. math:: P(u) = \\int_{|u|}^{\\infty} \\frac{f(r)}{2 r}\\, dr ,
          \\qquad \\int P\\, du = \\int f\\, dr \\;(\\text{the absorbed fraction}).

A source uniform over mass depth ``[a, b]`` deposits in the target layer ``[c, d]`` (both in
water-equivalent mm, ``t = rho z``) the fraction, per decay,

.. math:: \\varepsilon = \\frac{1}{b - a} \\int_c^d \\int_a^b P(z - z')\\, dz'\\, dz
          = \\frac{G(d - a) - G(c - a) - G(d - b) + G(c - b)}{b - a},

with ``Q(u) = int_0^u P`` (odd) and ``G(u) = int_0^u Q`` (even). A thin shell of radius ``r``
and energy ``e`` puts ``e min(|u|, r) / r`` inside ``(-u, u)``; each tabulated shell of the
point kernel is split into sub-shells of uniform energy density, and these sums binned in
0.01 mm steps give ``P`` as a histogram (:class:`PlanarKernel`), whose ``Q`` (piecewise
linear) and ``G`` (piecewise quadratic) are exact. A planar kernel tallied directly by a Monte
Carlo code (a point source in layers, energy per layer) enters the same way.

Per decay of a source spread uniformly over the lateral area ``A`` of the phantom, the mean dose
in the target layer (mass thickness ``d - c``) is ``E_beta * epsilon / (A (d - c))``. For an
infinitely thick source this is ``E_beta * absorbed_fraction / M_source``: local deposition,
less the bremsstrahlung that escapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.kernels import PointKernel
from opensirt.physics.nuclides import JOULE_PER_MEV

#: Sub-shells per tabulated shell of the point kernel (uniform energy density inside a shell).
_SUB_SHELLS = 8
#: Water-equivalent mm per g/cm^2 (1 g/cm^2 of water at 1 g/mL is 10 mm).
MM_PER_G_PER_CM2 = 10.0


def _shells(kernel: PointKernel) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Sub-shell mid radii (mm, water) and the energy fraction each carries."""
    outer = kernel.r_mm
    inner = np.concatenate(([0.0], outer[:-1]))
    energy = np.diff(np.concatenate(([0.0], kernel.cumulative_fraction)))
    steps = (np.arange(_SUB_SHELLS) + 0.5) / _SUB_SHELLS
    radii = inner[:, None] + (outer - inner)[:, None] * steps[None, :]
    shares = np.repeat(energy[:, None] / _SUB_SHELLS, _SUB_SHELLS, axis=1)
    keep = shares.ravel() > 0.0
    return radii.ravel()[keep], shares.ravel()[keep]


@dataclass(frozen=True, eq=False)
class PlanarKernel:
    """The planar kernel ``P(u)`` as a histogram: energy fraction per decay in each depth bin.

    Attributes
    ----------
    edges_mm : ndarray
        Bin edges ``0 = u_0 < u_1 < ...`` (water-equivalent mm) of ``|u|``.
    fraction : ndarray
        Energy fraction per decay deposited in ``u_i <= |u| < u_{i+1}`` (both sides together).
    """

    edges_mm: npt.NDArray[np.float64]
    fraction: npt.NDArray[np.float64]

    @classmethod
    def from_point_kernel(cls, kernel: PointKernel, step_mm: float = 0.01) -> PlanarKernel:
        """The planar kernel of a water dose point kernel (Archimedes, module docstring).

        Parameters
        ----------
        kernel : PointKernel
            Water dose point kernel.
        step_mm : float, optional
            Bin width (mm).

        Returns
        -------
        PlanarKernel
        """
        radii, shares = _shells(kernel)
        edges = np.arange(0.0, radii.max() + 2.0 * step_mm, step_mm)
        # energy of a thin shell of radius r inside |u| < x: e * min(x, r) / r
        inside = np.minimum(edges[:, None], radii[None, :]) / radii[None, :] @ shares
        return cls(edges, np.diff(inside))

    @property
    def absorbed_fraction(self) -> float:
        """Total energy fraction the kernel holds."""
        return float(self.fraction.sum())

    def second_integral(self, u_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``G(u)``: the second antiderivative of ``P`` (even, ``G(0) = 0``), exact.

        Parameters
        ----------
        u_mm : array_like
            Signed distances, water-equivalent mm.

        Returns
        -------
        numpy.ndarray
            ``G(u)`` (energy fraction times mm), float64, shape of ``u_mm``.
        """
        u = np.abs(np.asarray(u_mm, dtype=np.float64))
        width = np.diff(self.edges_mm)
        density = 0.5 * self.fraction / width  # P on one side
        q_edges = np.concatenate(([0.0], np.cumsum(density * width)))
        g_edges = np.concatenate(([0.0], np.cumsum(0.5 * (q_edges[:-1] + q_edges[1:]) * width)))
        last = width.size - 1
        i = np.minimum(np.searchsorted(self.edges_mm, u, side="right") - 1, last)
        beyond = u > self.edges_mm[-1]
        x = np.where(beyond, 0.0, u - self.edges_mm[i])
        inside = g_edges[i] + q_edges[i] * x + 0.5 * density[i] * x * x
        outside = g_edges[-1] + q_edges[-1] * (u - self.edges_mm[-1])
        return np.where(beyond, outside, inside)


def slab_energy_fraction(
    kernel: PlanarKernel, source_mm: tuple[float, float], target_mm: tuple[float, float]
) -> float:
    """Fraction of the emitted beta energy, per decay, deposited in a target layer.

    Parameters
    ----------
    kernel : PlanarKernel
        Water planar kernel.
    source_mm : tuple of float
        Mass-depth interval ``(a, b)`` of the uniform source, water-equivalent mm, ``a < b``.
    target_mm : tuple of float
        Mass-depth interval ``(c, d)`` of the target layer, water-equivalent mm, ``c < d``.

    Returns
    -------
    float
        ``epsilon`` of the module docstring (dimensionless).

    Examples
    --------
    >>> from opensirt.dosimetry.kernels import point_kernel
    >>> k = PlanarKernel.from_point_kernel(point_kernel("Y-90"))
    >>> inside = slab_energy_fraction(k, (-1000.0, 1000.0), (-1.0, 1.0))
    >>> round(inside * 1000.0, 4) == round(k.absorbed_fraction, 4)
    True
    """
    a, b = source_mm
    c, d = target_mm
    g = kernel.second_integral([d - a, c - a, d - b, c - b])
    return max(float((g[0] - g[1] - g[2] + g[3]) / (b - a)), 0.0)  # round-off beyond range


def laminar_layer_dose(
    kernel: PlanarKernel,
    density_g_per_ml: npt.ArrayLike,
    source_layers: npt.ArrayLike,
    thickness_mm: float,
    area_cm2: float,
    emitted_mev: float,
) -> npt.NDArray[np.float64]:
    """Mean dose per decay (Gy) in each layer of a laminar phantom with a uniform source.

    The source is uniform per unit volume in the layers marked ``source_layers`` (which must
    have one density: one medium) over the lateral area ``area_cm2``; the phantom is taken as
    unbounded beyond its first and last layers (compare only layers farther than the
    electron range from an outer face with a finite phantom).

    Parameters
    ----------
    kernel : PlanarKernel
        Water planar kernel (:meth:`PlanarKernel.from_point_kernel` for the shipped one).
    density_g_per_ml : array_like
        Density of each layer along depth (g/mL), 1-D.
    source_layers : array_like of bool
        Layers holding the activity, same length; one contiguous run of one density.
    thickness_mm : float
        Geometric thickness of every layer (mm).
    area_cm2 : float
        Lateral area over which the decays are spread (cm^2).
    emitted_mev : float
        Mean beta energy emitted per decay (MeV).

    Returns
    -------
    numpy.ndarray
        Dose per decay (Gy) in each layer, float64.
    """
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    src = np.asarray(source_layers, dtype=bool)
    edges = np.concatenate(([0.0], np.cumsum(rho * thickness_mm)))
    index = np.flatnonzero(src)
    source = (edges[index[0]], edges[index[-1] + 1])
    dose = np.empty(rho.size)
    for layer in range(rho.size):
        fraction = slab_energy_fraction(kernel, source, (edges[layer], edges[layer + 1]))
        mass_kg = area_cm2 * (edges[layer + 1] - edges[layer]) / MM_PER_G_PER_CM2 * 1.0e-3
        dose[layer] = emitted_mev * JOULE_PER_MEV * fraction / mass_kg
    return dose
