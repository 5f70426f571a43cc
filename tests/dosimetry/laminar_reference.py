"""Exact slab (laminar) reference doses from the shipped point kernel, for the slab tests.

One module for every slab reference of the tests and benchmarks: the exact laminar dose of a
stack of layers (:func:`laminar_slab_dose_gy`, :func:`laminar_layer_dose`,
:func:`slab_dose_ratio`), the issue's interface cases (:data:`SLAB_CASES`,
:func:`slab_phantom`, :func:`slab_errors`) and, for layers of finite lateral size (air),
a path-length quadrature (:func:`box_slab_dose_gy`).

Derivation
----------
Model: every medium is the kernel's medium (soft tissue) at the voxel's density. Take a
laminar phantom, density ``rho(z)`` constant in planes, with a source that is uniform in the
lateral directions (per unit volume, inside the source layers). Map depth ``z`` to *mass
depth* ``t = integral_0^z rho dz'``. Electron transport in a medium of any density is the same
per g/cm^2 (O'Connor 1957, Proc Phys Soc A 70:657, doi:10.1088/0370-1298/70/9/303: all
interaction coefficients scale with density), and a laterally uniform slab problem depends on
depth only through the distances travelled along ``z``: every history in the laminar phantom
is a history in the homogeneous medium (density 1) with each of its depth coordinates replaced
by ``t``, and its lateral steps stretched per layer, which does not change a laterally uniform
tally. So the energy deposited per unit *mass depth* is that of the homogeneous medium, exactly
(the straight-line path-length kernel reproduces it).

The homogeneous solution is the *planar kernel* ``P(u)``: energy (fraction of the emitted beta
energy) deposited per unit depth at distance ``u`` from an infinite plane of unit decay
density, per decay. A spherical shell of radius ``r`` around a point source meets a slab
``[u, u + du]`` (``|u| < r``) in a zone of area ``2 pi r du``, the fraction ``du / (2 r)`` of
its surface (Archimedes' hat-box theorem), so with ``f(r) dr`` the energy absorbed between
``r`` and ``r + dr`` (the shipped point kernel, :func:`opensirt.dosimetry.kernels.point_kernel`)

.. math:: P(u) = \\int_{|u|}^{\\infty} \\frac{f(r)}{2 r}\\, dr ,
          \\qquad \\int P\\, du = \\int f\\, dr \\;(\\text{the absorbed fraction}).

A source uniform over mass depth ``[a, b]`` deposits in the target layer ``[c, d]`` (both in
unit-density mm, ``t = rho z``) the fraction, per decay,

.. math:: \\varepsilon = \\frac{1}{b - a} \\int_c^d \\int_a^b P(z - z')\\, dz'\\, dz
          = \\frac{G(d - a) - G(c - a) - G(d - b) + G(c - b)}{b - a},

with ``Q(u) = int_0^u P`` (odd) and ``G(u) = int_0^u Q`` (even). A thin shell of radius ``r``
and energy ``e`` puts ``e min(|u|, r) / r`` inside ``(-u, u)``. The shipped kernel's shells
carry uniform energy density on ``[r_a, r_b]`` (as the dose methods interpolate it), which
gives ``Q`` and ``G`` in closed form (:class:`ShellPlanarKernel`, exact to round-off). A
planar kernel tallied directly by a Monte Carlo code (a point source in layers, energy per
layer) enters the same way as a histogram (:class:`PlanarKernel`), whose ``Q`` (piecewise
linear) and ``G`` (piecewise quadratic) are exact for the histogram.

Per decay of a source spread uniformly over the lateral area ``A`` of the phantom, the mean dose
in the target layer (mass thickness ``d - c``) is ``E_beta * epsilon / (A (d - c))``. For an
infinitely thick source this is ``E_beta * absorbed_fraction / M_source``: local deposition,
less the bremsstrahlung that escapes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry import energy_per_decay_j
from opensirt.dosimetry.kernels import PointKernel, point_kernel
from opensirt.physics.nuclides import JOULE_PER_MEV

#: Unit-density mm per g/cm^2 (1 g/cm^2 at 1 g/mL is 10 mm).
MM_PER_G_PER_CM2 = 10.0


@dataclass(frozen=True, eq=False)
class PlanarKernel:
    """The planar kernel ``P(u)`` as a histogram: energy fraction per decay in each depth bin.

    Attributes
    ----------
    edges_mm : ndarray
        Bin edges ``0 = u_0 < u_1 < ...`` (unit-density mm) of ``|u|``.
    fraction : ndarray
        Energy fraction per decay deposited in ``u_i <= |u| < u_{i+1}`` (both sides together).
    """

    edges_mm: npt.NDArray[np.float64]
    fraction: npt.NDArray[np.float64]

    @property
    def absorbed_fraction(self) -> float:
        """Total energy fraction the kernel holds."""
        return float(self.fraction.sum())

    def second_integral(self, u_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``G(u)``: the second antiderivative of ``P`` (even, ``G(0) = 0``), exact.

        Parameters
        ----------
        u_mm : array_like
            Signed distances, unit-density mm.

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


@dataclass(frozen=True, eq=False)
class ShellPlanarKernel:
    """The planar kernel of a point kernel, in closed form (module docstring).

    The point kernel's shells carry uniform energy density ``c`` on ``[r_a, r_b]``; with
    ``l = clip(|u|, r_a, r_b)`` each adds ``c ((l - r_a) + |u| ln(r_b / l)) / 2`` to ``Q`` and
    ``c (|u| (l - r_a) - (l^2 - r_a^2) / 4 + u^2 ln(r_b / l) / 2) / 2`` to ``G``.

    Attributes
    ----------
    kernel : PointKernel
        Dose point kernel.
    """

    kernel: PointKernel

    def _shells(self, u_mm: npt.ArrayLike) -> tuple[npt.NDArray[np.float64], ...]:
        """``|u|`` (trailing axis added), shell inner and outer radii, density, ``l`` and log."""
        outer = self.kernel.r_mm
        inner = np.concatenate(([0.0], outer[:-1]))
        density = np.diff(np.concatenate(([0.0], self.kernel.cumulative_fraction)))
        density = density / (outer - inner)
        u = np.abs(np.asarray(u_mm, dtype=np.float64))[..., None]
        low = np.clip(u, inner, outer)
        with np.errstate(divide="ignore", invalid="ignore"):
            log = np.where(u > 0.0, np.log(outer / low), 0.0)
        return u, inner, density, low, log

    @property
    def absorbed_fraction(self) -> float:
        """Total energy fraction the kernel holds."""
        return float(self.kernel.cumulative_fraction[-1])

    def second_integral(self, u_mm: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``G(u)``: the second antiderivative of ``P`` (even, ``G(0) = 0``), exact.

        Parameters
        ----------
        u_mm : array_like
            Signed distances, unit-density mm.

        Returns
        -------
        numpy.ndarray
            ``G(u)`` (energy fraction times mm), float64, shape of ``u_mm``.
        """
        u, inner, density, low, log = self._shells(u_mm)
        m = u * (low - inner) - (low**2 - inner**2) / 4.0 + 0.5 * u * u * log
        return (0.5 * density * m).sum(axis=-1)

    def histogram(self, step_mm: float = 0.001) -> PlanarKernel:
        """The planar kernel binned, with the exact energy in every bin.

        Parameters
        ----------
        step_mm : float, optional
            Bin width (mm).

        Returns
        -------
        PlanarKernel
        """
        edges = np.arange(0.0, self.kernel.r_mm[-1] + 2.0 * step_mm, step_mm)
        u, inner, density, low, log = self._shells(edges)
        inside = (density * (low - inner + u * log)).sum(axis=-1)  # 2 Q(u)
        return PlanarKernel(edges, np.diff(inside))


#: A planar kernel: a histogram (a Monte Carlo tally) or a point kernel's closed form.
AnyPlanarKernel = PlanarKernel | ShellPlanarKernel


@functools.cache
def shipped_planar_kernel(nuclide: str) -> ShellPlanarKernel:
    """The planar kernel of the shipped point kernel of ``nuclide``."""
    return ShellPlanarKernel(point_kernel(nuclide))


def _fractions(
    kernel: AnyPlanarKernel,
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    c: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """``epsilon`` of source ``[a, b]`` in target ``[c, d]``, arrays broadcast."""
    g = kernel.second_integral
    eps = (g(d - a) - g(c - a) - g(d - b) + g(c - b)) / (b - a)
    return np.maximum(eps, 0.0)  # round-off beyond the range


def slab_energy_fraction(
    kernel: AnyPlanarKernel, source_mm: tuple[float, float], target_mm: tuple[float, float]
) -> float:
    """Fraction of the emitted beta energy, per decay, deposited in a target layer.

    Parameters
    ----------
    kernel : PlanarKernel or ShellPlanarKernel
        Planar kernel.
    source_mm : tuple of float
        Mass-depth interval ``(a, b)`` of the uniform source, unit-density mm, ``a < b``.
    target_mm : tuple of float
        Mass-depth interval ``(c, d)`` of the target layer, unit-density mm, ``c < d``.

    Returns
    -------
    float
        ``epsilon`` of the module docstring (dimensionless).

    Examples
    --------
    >>> k = shipped_planar_kernel("Y-90")
    >>> inside = slab_energy_fraction(k, (-1000.0, 1000.0), (-1.0, 1.0))
    >>> round(inside * 1000.0, 4) == round(k.absorbed_fraction, 4)
    True
    """
    return float(_fractions(kernel, *(np.float64(v) for v in (*source_mm, *target_mm))))


def _layer_fractions(kernel: AnyPlanarKernel, faces_mm: npt.NDArray[np.float64]) -> npt.NDArray:
    """``epsilon[i, j]``: target layer ``i`` from a uniform source in layer ``j``."""
    lo, hi = faces_mm[:-1], faces_mm[1:]
    return _fractions(kernel, lo[None, :], hi[None, :], lo[:, None], hi[:, None])


def laminar_layer_dose(
    kernel: AnyPlanarKernel,
    density_g_per_ml: npt.ArrayLike,
    source_layers: npt.ArrayLike,
    thickness_mm: float,
    area_cm2: float,
    emitted_mev: float,
) -> npt.NDArray[np.float64]:
    """Mean dose per decay (Gy) in each layer of a laminar phantom with a uniform source.

    The source is uniform per unit volume in the layers marked ``source_layers`` over the
    lateral area ``area_cm2``; the phantom is taken as unbounded beyond its first and last
    layers (compare only layers farther than the electron range from an outer face with a
    finite phantom).

    Parameters
    ----------
    kernel : PlanarKernel or ShellPlanarKernel
        Planar kernel (:func:`shipped_planar_kernel` for the shipped one).
    density_g_per_ml : array_like
        Density of each layer along depth (g/mL), 1-D.
    source_layers : array_like of bool
        Layers holding the activity, same length.
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
    share = np.asarray(source_layers, dtype=np.float64)
    faces = np.concatenate(([0.0], np.cumsum(rho * thickness_mm)))
    fraction = _layer_fractions(kernel, faces) @ (share / share.sum())
    mass_kg = area_cm2 * np.diff(faces) / MM_PER_G_PER_CM2 * 1.0e-3
    return emitted_mev * JOULE_PER_MEV * fraction / mass_kg


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
    faces = np.concatenate(([0.0], np.cumsum(rho * spacing_mm[0])))
    energy_j = energy_per_decay_j(nuclide) * (
        _layer_fractions(shipped_planar_kernel(nuclide), faces) @ n
    )
    return energy_j / (rho * float(np.prod(spacing_mm)) * 1.0e-6)


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
        Dose of each slab divided by ``E_decay n_v / (rho_source V)`` (the local-deposition
        dose in the source medium); laterally infinite slabs, nothing beyond the stack.
    """
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    active = np.asarray(source, dtype=bool)
    rho_source = set(rho[active].tolist())
    assert len(rho_source) == 1, "sources of one density only"
    dose = laminar_slab_dose_gy(nuclide, rho, active.astype(np.float64), (thickness_mm, 1.0, 1.0))
    ldm_gy = energy_per_decay_j(nuclide) / (rho_source.pop() * thickness_mm * 1e-6)
    return dose / ldm_gy


#: The issue's interface cases: (name, density of the first medium, of the second, which
#: medium holds the activity: 0 first, 1 second). Densities g/mL.
SLAB_CASES: tuple[tuple[str, float, float, int], ...] = (
    ("tissue -> lung", 1.06, 0.26, 0),
    ("lung -> tissue", 1.06, 0.26, 1),
    ("tissue -> bone", 1.06, 1.92, 0),
    ("bone -> tissue", 1.06, 1.92, 1),
    ("tissue -> air", 1.06, 0.0012, 0),
    ("air -> tissue", 1.06, 0.0012, 1),
)
#: Voxel size of the issue's slab tests, mm.
SLAB_VOXEL_MM = 4.42


def slab_phantom(
    first: float, second: float, active: int, *, layers: tuple[int, int], lateral: int
) -> tuple[np.ndarray, np.ndarray]:
    """Density (g/mL) and activity (1 MBq per active voxel) of a two-medium slab phantom,
    the interface between layers ``layers[0] - 1`` and ``layers[0]`` (axis 0)."""
    nz = layers[0] + layers[1]
    rho = np.full((nz, lateral, lateral), first, dtype=np.float32)
    rho[layers[0] :] = second
    act = np.zeros_like(rho)
    if active == 0:
        act[: layers[0]] = 1.0
    else:
        act[layers[0] :] = 1.0
    return rho, act


def slab_errors(dose_layers: np.ndarray, reference: np.ndarray, interface: int) -> dict[str, float]:
    """Relative errors (fraction) of the mean dose of the two layers on each side of the
    interface (where the reference is > 2 % of its maximum), keyed -2, -1, +1, +2."""
    out = {}
    top = float(reference.max())
    for key, layer in (
        ("-2", interface - 2),
        ("-1", interface - 1),
        ("+1", interface),
        ("+2", interface + 1),
    ):
        if reference[layer] > 0.02 * top:
            out[key] = float(dose_layers[layer] / reference[layer] - 1.0)
    return out


def box_slab_dose_gy(
    nuclide: str,
    density_g_per_ml: npt.ArrayLike,
    decays_per_voxel: npt.ArrayLike,
    spacing_mm: tuple[float, float, float],
    lateral: int,
    region: slice,
    layers: list[int],
    *,
    n_mu: int = 200,
    n_phi: int = 48,
    n_points: int = 2,
    n_depth: int = 8,
) -> dict[int, float]:
    """Exact path-length mean dose (Gy) of some layers over a central region, for layers of
    finite lateral size (``lateral`` x ``lateral`` voxels, nothing outside), by quadrature
    around target points: ``D(P) = E <int S F'(d) dr>`` over directions, each layer's part
    ``S / rho (F(d_out) - F(d_in))`` along the ray (``S`` decays per mm^3).

    Where the geometry is effectively laminar this equals :func:`laminar_slab_dose_gy`; with
    air (beta ranges of metres) the lateral size matters, and this is the reference.

    Parameters
    ----------
    nuclide, density_g_per_ml, decays_per_voxel, spacing_mm
        As :func:`laminar_slab_dose_gy`.
    lateral : int
        Voxels along each lateral axis (a square grid).
    region : slice
        Lateral voxels (both axes) of the central region averaged over.
    layers : list of int
        The layers wanted.
    n_mu, n_phi, n_points, n_depth : int
        Gauss-Legendre nodes in cos(theta) per hemisphere, azimuths, target points per
        lateral axis over the region, and Gauss-Legendre nodes in depth per layer.

    Returns
    -------
    dict
        Mean dose (Gy) of each wanted layer over the region.
    """
    from opensirt.dosimetry.path_length import cumulative_kernel

    f = cumulative_kernel(nuclide)
    rho = np.asarray(density_g_per_ml, dtype=np.float64)
    s_per_mm3 = np.asarray(decays_per_voxel, dtype=np.float64) / float(np.prod(spacing_mm))
    dz, dy, dx = spacing_mm
    faces = np.arange(rho.size + 1) * dz
    x, w = np.polynomial.legendre.leggauss(n_mu)
    mu = np.concatenate([-(x + 1) / 2, (x + 1) / 2])
    phi = (np.arange(n_phi) + 0.5) * 2 * np.pi / n_phi
    sin = np.sqrt(1 - mu**2)
    vz = np.repeat(mu, n_phi)[None, :]
    vy = np.outer(sin, np.sin(phi)).ravel()[None, :]
    vx = np.outer(sin, np.cos(phi)).ravel()[None, :]
    wdir = np.repeat(np.concatenate([w, w]) / 4.0, n_phi) / n_phi
    frac = (np.arange(n_points) + 0.5) / n_points
    span = region.stop - region.start
    grid = region.start + frac * span
    yp = np.repeat(grid, n_points)[:, None] * dy
    xp = np.tile(grid, n_points)[:, None] * dx
    with np.errstate(divide="ignore", invalid="ignore"):
        r_wall = np.minimum(
            np.where(vy > 0, (lateral * dy - yp) / vy, np.where(vy < 0, -yp / vy, np.inf)),
            np.where(vx > 0, (lateral * dx - xp) / vx, np.where(vx < 0, -xp / vx, np.inf)),
        )
    up = vz > 0
    out = {}
    for layer in layers:
        total = 0.0
        zn, zw = np.polynomial.legendre.leggauss(n_depth)
        for zp, zwt in zip((layer + (zn + 1) / 2) * dz, zw / 2, strict=True):
            energy = np.zeros_like(r_wall)
            for direction, seq in ((True, range(layer, rho.size)), (False, range(layer, -1, -1))):
                sel = up if direction else ~up
                d = np.zeros_like(r_wall)
                r_prev = np.zeros_like(r_wall)
                for lay in seq:
                    face = faces[lay + 1] if direction else faces[lay]
                    r_face = np.minimum(np.abs((face - zp) / vz), r_wall)
                    d_new = d + rho[lay] * (r_face - r_prev)
                    e = (f(d_new) - f(d)) * (s_per_mm3[lay] / rho[lay])
                    energy += np.where(sel, e, 0.0)
                    d, r_prev = d_new, r_face
            total += zwt * float(np.sum(energy * wdir[None, :])) / len(yp)
        out[layer] = energy_per_decay_j(nuclide) * total / 1e-6
    return out
