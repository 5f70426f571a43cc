"""Dose point kernels and voxel kernels (voxel S-values) for Y-90 and Ho-166, for any voxel size.

A *dose point kernel* (DPK) gives the fraction of the emitted beta energy absorbed in each
spherical shell around a point source in ICRU four-component soft tissue (radii for the
medium at 1 g/cm^3); it is shipped as ``dosimetry/data/<nuclide>_dpk_soft_tissue.csv`` (see
:mod:`opensirt.dosimetry.electron_transport` for how it was computed). A *voxel kernel*
gives, for a source uniformly spread in one voxel, the energy absorbed in each voxel around
it (MIRD Pamphlet 17: Bolch et al. 1999, J Nucl Med 40:11S-36S). Dividing by the voxel mass
gives the voxel S-values.

The voxel kernel is the exact six-dimensional integral of the DPK over source and target
voxels, evaluated by quasi-Monte Carlo: a scrambled Sobol sequence samples a source point
uniformly in the voxel, a direction uniformly on the sphere and a distance from the DPK's
cumulative energy distribution; each sample carries an equal share of the absorbed energy
and is tallied in the voxel where it lands. So the kernel sums exactly to the absorbed
fraction of the DPK (energy is conserved), and works for anisotropic voxels. The result is
symmetrised over the eight octants (and over axes of equal spacing).

Medium: the soft-tissue DPK is scaled to a medium of density ``rho`` by ``r -> r / rho``
(O'Connor scaling theorem for charged particles; the composition of lung and other soft
tissues differs little from it, bone more: Tiwari et al. 2020, Radiat Res 193:531,
doi:10.1667/RR15563.1; water has 1 % more electrons per gram than ICRU soft tissue, so its
ranges per g/cm^2 are about 1 % shorter).

Voxel S-values are given for soft tissue of density 1.04 g/cm^3, the convention of MIRD
Pamphlet 17 and of the voxel S-value databases (Lanconelli et al. 2012, Phys Med Biol 57:517,
doi:10.1088/0031-9155/57/2/517).
"""

from __future__ import annotations

import csv
import functools
import itertools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt
from scipy.stats import qmc

from opensirt.errors import DataFileError, InputError, check_positive
from opensirt.physics.nuclides import JOULE_PER_MEV, Nuclide, NuclideName, get_nuclide

#: Soft-tissue mass density, g/mL, the medium of the MIRD Pamphlet 17 voxel S-values (Bolch et
#: al. 1999, J Nucl Med 40:11S-36S). Also the default tissue density of voxel dosimetry here.
SOFT_TISSUE_DENSITY_G_PER_ML = 1.04

_KERNEL_FILES = {
    NuclideName.Y90: "y90_dpk_soft_tissue.csv",
    NuclideName.HO166: "ho166_dpk_soft_tissue.csv",
}
_DEFAULT_SAMPLES = 2**20
_SOBOL_SEED = 90166


@dataclass(frozen=True, eq=False)
class PointKernel:
    """A beta dose point kernel in ICRU soft tissue (radii for density 1 g/cm^3).

    Attributes
    ----------
    nuclide : NuclideName
    r_mm : ndarray
        Outer shell radii (mm), increasing.
    cumulative_fraction : ndarray
        Fraction of the emitted beta energy absorbed inside ``r_mm``.
    radiative_fraction : float
        Fraction of the emitted beta energy lost to bremsstrahlung (escapes; not absorbed).
    """

    nuclide: NuclideName
    r_mm: npt.NDArray[np.float64]
    cumulative_fraction: npt.NDArray[np.float64]
    radiative_fraction: float

    @property
    def absorbed_fraction(self) -> float:
        """Fraction of the beta energy absorbed in an infinite medium (1 - radiative)."""
        return float(self.cumulative_fraction[-1])

    @property
    def max_radius_mm(self) -> float:
        """Radius (mm, density 1) beyond which no energy is absorbed."""
        return float(self.r_mm[np.searchsorted(self.cumulative_fraction, self.absorbed_fraction)])

    def radius_containing_mm(self, fraction: float) -> float:
        """Radius (mm, density 1) of the sphere that absorbs ``fraction`` of the absorbed
        energy (``X90`` for 0.9).

        Parameters
        ----------
        fraction : float
            Part of the energy absorbed around the point source, in [0, 1] (not percent).

        Returns
        -------
        float
            The radius in the medium at 1 g/mL (mm), interpolated in the tabulated cumulative
            kernel; divide by the density (g/mL) for another medium.
        """
        target = fraction * self.absorbed_fraction
        return float(np.interp(target, self.cumulative_fraction, self.r_mm))


def _read_point_kernel_csv(nuclide: NuclideName) -> PointKernel:
    name = _KERNEL_FILES[nuclide]
    text = resources.files("opensirt.dosimetry").joinpath("data", name).read_text("utf-8")
    radiative = None
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("# radiative_fraction="):
            radiative = float(line.split("=")[1].split()[0])
        elif line and not line.startswith("#"):
            rows.append(line.split(","))
    reader = csv.reader([",".join(r) for r in rows])
    header = next(reader)
    if header != ["r_mm", "shell_fraction", "cumulative_fraction"] or radiative is None:
        raise DataFileError(f"kernel file {name} has an unexpected header {header}; reinstall")
    table = np.array([[float(v) for v in row] for row in reader])
    r_mm, cumulative = table[:, 0], table[:, 2]
    if np.any(np.diff(r_mm) <= 0) or np.any(np.diff(cumulative) < 0):
        raise DataFileError(f"kernel file {name} is not monotonic; reinstall OpenSIRT")
    return PointKernel(nuclide, r_mm, cumulative, radiative)


@functools.cache
def point_kernel(nuclide: Nuclide | NuclideName | str) -> PointKernel:
    """The shipped dose point kernel of ``nuclide`` (Y-90 or Ho-166) in ICRU soft tissue.

    Read once from ``dosimetry/data`` and cached.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        ``"Y-90"`` or ``"Ho-166"``.

    Returns
    -------
    PointKernel
        Cumulative fraction of the emitted beta energy absorbed within each radius (mm) in
        soft tissue at 1 g/mL, and the radiative (bremsstrahlung) fraction.

    Raises
    ------
    InputError
        If the nuclide has no shipped kernel (e.g. Tc-99m).
    DataFileError
        If the shipped kernel file is damaged (reinstall).

    Examples
    --------
    >>> round(point_kernel("Y-90").radius_containing_mm(0.9), 1)
    5.4
    """
    nuc = get_nuclide(nuclide)
    if nuc.name not in _KERNEL_FILES:
        raise InputError(
            f"nuclide is {nuc.name}, expected a therapy beta emitter with a dose kernel "
            f"({', '.join(n.value for n in _KERNEL_FILES)})"
        )
    return _read_point_kernel_csv(nuc.name)


def _spacing_zyx(voxel_size_mm: float | tuple[float, ...] | list[float]) -> tuple[float, ...]:
    """Voxel size given as one number or (x, y, z), returned in array order (z, y, x)."""
    sizes = np.atleast_1d(np.asarray(voxel_size_mm, dtype=np.float64))
    if sizes.size == 1:
        sizes = np.repeat(sizes, 3)
    if sizes.size != 3 or not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise InputError(
            f"voxel_size_mm is {voxel_size_mm!r}, expected one positive size or three "
            "(x, y, z) in mm"
        )
    return (float(sizes[2]), float(sizes[1]), float(sizes[0]))


def symmetrise(kernel: npt.NDArray[np.float64], spacing: tuple[float, ...]) -> None:
    """Average a kernel of a spherically symmetric source in place over octant flips and over
    axes of equal spacing (the symmetries of the voxel grid): less Monte Carlo noise.

    Parameters
    ----------
    kernel : numpy.ndarray
        3-D, odd sizes, the source voxel at the centre; changed in place.
    spacing : tuple of 3 floats
        Voxel size (z, y, x), mm.
    """
    kernel += kernel[::-1, :, :]
    kernel += kernel[:, ::-1, :]
    kernel += kernel[:, :, ::-1]
    kernel /= 8.0
    perms = [
        p
        for p in itertools.permutations(range(3))
        if all(abs(spacing[i] - spacing[p[i]]) < 1e-9 * spacing[i] for i in range(3))
    ]
    if len(perms) > 1:
        kernel[...] = sum(np.transpose(kernel, p) for p in perms) / len(perms)


@functools.lru_cache(maxsize=32)
def _energy_kernel_cached(
    nuclide: NuclideName, spacing_zyx_mm: tuple[float, ...], density_g_per_ml: float, n: int
) -> npt.NDArray[np.float64]:
    dpk = point_kernel(nuclide)
    h = np.asarray(spacing_zyx_mm)
    r_max = dpk.max_radius_mm / density_g_per_ml
    half = np.ceil(r_max / h + 0.5).astype(int)
    shape = tuple(int(2 * n_ + 1) for n_ in half)
    u = qmc.Sobol(d=6, scramble=True, seed=_SOBOL_SEED).random(n)
    # distance from the inverse cumulative distribution of absorbed energy
    cdf = np.concatenate([[0.0], dpk.cumulative_fraction / dpk.absorbed_fraction])
    radii = np.concatenate([[0.0], dpk.r_mm])
    r = np.interp(u[:, 0], cdf, radii) / density_g_per_ml
    cos_t = 2.0 * u[:, 1] - 1.0
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    phi = 2.0 * np.pi * u[:, 2]
    offsets = np.stack([cos_t, sin_t * np.sin(phi), sin_t * np.cos(phi)], axis=1) * r[:, None]
    points = (u[:, 3:6] - 0.5) * h + offsets
    idx = np.rint(points / h).astype(np.int64) + half
    flat = np.ravel_multi_index((idx[:, 0], idx[:, 1], idx[:, 2]), shape)
    kernel = np.bincount(flat, minlength=int(np.prod(shape))).astype(np.float64).reshape(shape)
    kernel *= dpk.absorbed_fraction / n
    symmetrise(kernel, spacing_zyx_mm)
    kernel.setflags(write=False)
    return kernel


def energy_kernel(
    nuclide: Nuclide | NuclideName | str,
    spacing_zyx_mm: tuple[float, float, float],
    *,
    density_g_per_ml: float = SOFT_TISSUE_DENSITY_G_PER_ML,
    n_samples: int = _DEFAULT_SAMPLES,
) -> npt.NDArray[np.float64]:
    """Fraction of the emitted beta energy absorbed in each voxel around a source voxel.

    Parameters
    ----------
    nuclide : str or NuclideName
        ``"Y-90"`` or ``"Ho-166"``.
    spacing_zyx_mm : tuple of 3 floats
        Voxel size in array order (z, y, x), mm.
    density_g_per_ml : float
        Density of the homogeneous medium (range scaling ``r / rho``).
    n_samples : int
        Quasi-Monte Carlo samples (a power of 2); 2**20 gives < 0.1 % noise in the central
        voxel and its neighbours.

    Returns
    -------
    ndarray, read-only
        Odd-sized 3-D array ``[k, j, i]``, the source voxel at the centre; it sums to the
        absorbed fraction of the point kernel (about 0.995 for Y-90: bremsstrahlung escapes).

    Raises
    ------
    InputError
        If the nuclide has no kernel, a spacing or the density is not positive, or
        ``n_samples`` is not a power of 2 of at least 1024.
    """
    nuc = get_nuclide(nuclide)
    spacing = _spacing_zyx(spacing_zyx_mm[::-1])
    check_positive("density_g_per_ml", density_g_per_ml, "g/mL")
    if n_samples < 1024 or n_samples & (n_samples - 1):
        raise InputError(f"n_samples is {n_samples}, expected a power of 2 >= 1024")
    point_kernel(nuc)  # validates the nuclide
    return _energy_kernel_cached(
        nuc.name, tuple(round(s, 9) for s in spacing), round(density_g_per_ml, 9), n_samples
    )


def voxel_s_values(
    nuclide: Nuclide | NuclideName | str,
    voxel_size_mm: float | tuple[float, ...] | list[float],
    *,
    density_g_per_ml: float = SOFT_TISSUE_DENSITY_G_PER_ML,
) -> npt.NDArray[np.float64]:
    """Voxel S-values of ``nuclide`` in soft tissue, mGy/(MBq s), source voxel at the centre.

    ``S(n) = E_beta * f(n) / (rho * V)``: mean beta energy per decay (ICRP 107, as in
    :mod:`opensirt.physics.nuclides`) times the fraction ``f`` absorbed in voxel ``n``,
    over the voxel mass.

    Parameters
    ----------
    nuclide : str or NuclideName
        ``"Y-90"`` or ``"Ho-166"``.
    voxel_size_mm : float or 3 floats
        Cubic voxel side, or the ``(x, y, z)`` sizes, mm.
    density_g_per_ml : float
        Medium density (default soft tissue, 1.04 g/mL, as MIRD Pamphlet 17).

    Returns
    -------
    ndarray
        Array ``[k, j, i]`` (z, y, x) of odd size; ``s[c, c, c]`` is the self-dose S-value.

    Raises
    ------
    InputError
        If the nuclide has no kernel, or a voxel size or the density is not positive.

    Examples
    --------
    >>> s = voxel_s_values("Y-90", 5.0)
    >>> c = s.shape[0] // 2
    >>> bool(s[c, c, c] > s[c, c, c + 1] > s[c, c, c + 2])
    True
    """
    nuc = get_nuclide(nuclide)
    spacing = _spacing_zyx(voxel_size_mm)
    fraction = energy_kernel(
        nuc, (spacing[0], spacing[1], spacing[2]), density_g_per_ml=density_g_per_ml
    )
    energy_j = nuc.mean_beta_energy_mev * JOULE_PER_MEV
    mass_kg = density_g_per_ml * float(np.prod(spacing)) * 1e-6  # g/mL * mm^3 -> kg
    # J per decay / kg = Gy/(Bq s); x 1e6 Bq/MBq x 1e3 mGy/Gy
    out: npt.NDArray[np.float64] = fraction * (energy_j / mass_kg * 1e9)
    return out
