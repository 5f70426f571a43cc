"""Decay-photon dose for the fast method: a voxel kernel of a nuclide's gamma and x-ray lines.

The soft-tissue point kernels are beta kernels (their bremsstrahlung escapes). Ho-166 also
emits photons (ICRP 107 lines in :data:`~opensirt.dosimetry.mc_photons.PHOTON_LINES`: the
80.6 keV gamma, Er K and L x-rays and 0.67-1.83 MeV gammas, 30 keV per decay, 4.5 % of its
beta energy), which give about 1 % of the maximum dose for centimetres around the source:
in the voxels next to loaded bone, beyond every beta, most of the dose.

:func:`photon_energy_kernel` builds, per nuclide and voxel size, the energy the photons of
one decay deposit in each voxel around the source voxel, in water of unit density (the
photon model of the project's Monte Carlo, :mod:`opensirt.dosimetry.mc_photons`:
Klein-Nishina Compton scattering and XCOM photoelectric absorption of water; Compton
electrons and photoelectrons deposit where they are made, their ranges, under 0.1 mm below
100 keV, being far below a voxel). The photons start uniformly in the source voxel,
isotropically, and are followed until absorbed or :data:`PHOTON_KERNEL_RADIUS_MM` from the
voxel's centre; the kernel is averaged over the symmetries of the voxel grid. About half the
photon energy (most of the 1.38 MeV gamma's) is deposited farther out, thinly; a voxel within
that radius of every source (any voxel in or near a loaded liver) misses none of its photon
dose.

Convolved with the decays, the kernel gives each voxel the photon energy of water; the fast
method charges it to the voxel's mass as ``rho / 1 g/mL`` of water's, times
:func:`photon_density_factor`: the ratio of the straight-line density-scaled photon dose to
water's, computed on a coarse grid of rays (bone attenuates the photons about twice as fast
as water, lung a quarter as fast; the water kernel alone was 20-28 % high next to and in
bone against the Monte Carlo's photons, docs/dosimetry.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry._path_rays import fibonacci_sphere
from opensirt.dosimetry.kernels import symmetrise
from opensirt.dosimetry.mc_photons import (
    PHOTON_CUTOFF_MEV,
    PHOTON_LINES,
    Particles,
    attenuation_cm2_per_g,
    compton,
    isotropic,
)
from opensirt.physics.nuclides import NuclideName

#: The kernel reaches this far (mm) from the source voxel's centre.
PHOTON_KERNEL_RADIUS_MM = 150.0
#: Photons simulated for a kernel (split over the lines by their share of the energy).
PHOTON_KERNEL_HISTORIES = 400_000
#: Fixed seed: a kernel is the same in every run.
_SEED = 20261201


def photon_energy_kernel(
    nuclide: NuclideName, spacing_zyx_mm: tuple[float, float, float]
) -> npt.NDArray[np.float64] | None:
    """Energy (MeV per decay) the decay photons deposit around a source voxel, in water.

    Parameters
    ----------
    nuclide : NuclideName
        The nuclide (Y-90 has no photon lines).
    spacing_zyx_mm : tuple of 3 floats
        Voxel size (z, y, x), mm.

    Returns
    -------
    numpy.ndarray or None
        Read-only kernel with odd sizes, the source voxel at the centre, MeV per decay per
        voxel in water of 1 g/mL; None for a nuclide without photon lines.

    Examples
    --------
    >>> k = photon_energy_kernel(NuclideName.HO166, (4.42, 4.42, 4.42))
    >>> k.shape
    (69, 69, 69)
    >>> 0.010 < float(k.sum()) < 0.020  # MeV: half the 30 keV of photons per decay
    True
    >>> photon_energy_kernel(NuclideName.Y90, (4.0, 4.0, 4.0)) is None
    True
    """
    if not PHOTON_LINES.get(nuclide):
        return None
    return _kernel(nuclide, tuple(round(float(h), 6) for h in spacing_zyx_mm))


@functools.lru_cache(maxsize=8)
def _kernel(nuclide: NuclideName, spacing: tuple[float, ...]) -> npt.NDArray[np.float64]:
    h = np.asarray(spacing, dtype=np.float64)
    half = np.ceil(PHOTON_KERNEL_RADIUS_MM / h - 0.5).astype(np.int64)
    shape = tuple(int(2 * n + 1) for n in half)
    tally = np.zeros(int(np.prod(shape)))

    def deposit(pos: npt.NDArray[np.float64], mev: npt.NDArray[np.float64]) -> None:
        _deposit(pos, mev, h, half, tally)

    def start(n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
        return (rng.random((n, 3)) - 0.5) * h  # uniform in the source voxel

    _emit_lines(nuclide, PHOTON_KERNEL_HISTORIES, start, deposit, PHOTON_KERNEL_RADIUS_MM)
    kernel = tally.reshape(shape)
    symmetrise(kernel, spacing)
    kernel.setflags(write=False)
    return kernel


def _emit_lines(
    nuclide: NuclideName,
    histories: int,
    start: Callable[[int, np.random.Generator], npt.NDArray[np.float64]],
    deposit: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], None],
    radius_mm: float,
) -> None:
    """Follow about ``histories`` photons of the nuclide's lines (split by their share of the
    energy, at least 2000 a line; fixed seed), starting at ``start(n, rng)`` (mm from the
    source), isotropically, each weighted by its line's yield over its count."""
    rng = np.random.default_rng(_SEED)
    lines = PHOTON_LINES[nuclide]
    energy = np.array([e for e, _ in lines])
    yields = np.array([y for _, y in lines])
    share = energy * yields / float(np.sum(energy * yields))
    for e_mev, y, part in zip(energy, yields, share, strict=True):
        n = max(2000, int(histories * part))
        at = start(n, rng)
        photons = Particles(np.full(n, e_mev), at, isotropic(n, rng), np.full(n, y / n))
        _follow(photons, rng, deposit, radius_mm)


def _follow(
    photons: Particles,
    rng: np.random.Generator,
    deposit: Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], None],
    radius_mm: float,
) -> None:
    """Transport ``photons`` in unit-density water to absorption or ``radius_mm`` from the
    source, passing the positions (mm from the source) and energies (MeV x weight) that they
    and their electrons deposit to ``deposit``."""
    while photons.energy_mev.size:
        e, pos, d, w = photons
        mu, mu_compton = attenuation_cm2_per_g(e)  # per cm at 1 g/mL
        pos = pos + d * (-np.log(1.0 - rng.random(e.size)) / mu * 10.0)[:, None]
        inside = np.einsum("ij,ij->i", pos, pos) <= radius_mm**2
        is_compton = rng.random(e.size) < mu_compton / mu
        absorbed = inside & ~is_compton
        deposit(pos[absorbed], e[absorbed] * w[absorbed])
        scatter = inside & is_compton
        scattered, electrons = compton(
            Particles(e[scatter], pos[scatter], d[scatter], w[scatter]), rng
        )
        deposit(electrons.pos_mm, electrons.energy_mev * electrons.weight)
        low = scattered.energy_mev < PHOTON_CUTOFF_MEV
        deposit(scattered.pos_mm[low], scattered.energy_mev[low] * scattered.weight[low])
        keep = ~low
        photons = Particles(
            scattered.energy_mev[keep],
            scattered.pos_mm[keep],
            scattered.d[keep],
            scattered.weight[keep],
        )


def _deposit(
    pos_mm: npt.NDArray[np.float64],
    energy: npt.NDArray[np.float64],
    h: npt.NDArray[np.float64],
    half: npt.NDArray[np.int64],
    tally: npt.NDArray[np.float64],
) -> None:
    """Add ``energy`` at ``pos_mm`` (from the source voxel's centre) to the kernel's voxels."""
    idx = np.rint(pos_mm / h).astype(np.int64) + half
    ok = np.all((idx >= 0) & (idx <= 2 * half), axis=1)
    flat = np.ravel_multi_index(idx[ok].T, tuple(2 * half + 1))
    tally += np.bincount(flat, energy[ok], minlength=tally.size)


#: The density correction of the photon term is computed on a coarse grid of voxels of about
#: this size (mm): the factor changes over the photons' mean free path (55 mm at 80 keV).
DENSITY_GRID_MM = 12.0
#: Directions of the correction's rays from each coarse target (a Fibonacci lattice).
DENSITY_RAYS = 64
#: At most this many coarse targets: beyond, every second (third, ...) coarse voxel is one,
#: and the factor is interpolated between them.
DENSITY_TARGETS = 8_000
#: Radial bins (mm) of the water kernel's radial profile.
_RADIAL_BIN_MM = 0.5
#: The radial profile reaches this far (mm at 1 g/mL): a path of
#: :data:`PHOTON_KERNEL_RADIUS_MM` through bone (up to 2 g/mL) and more.
_PROFILE_RADIUS_MM = 3.0 * PHOTON_KERNEL_RADIUS_MM
#: Photons followed for the radial profile (a smooth curve: fewer than for the voxel kernel).
_PROFILE_HISTORIES = 100_000


def photon_density_factor(
    decays: npt.NDArray[np.floating[Any]],
    density: npt.NDArray[np.floating[Any]],
    spacing_zyx_mm: tuple[float, float, float],
    nuclide: NuclideName,
) -> npt.NDArray[np.float32]:
    """Per voxel, the path-length scaled photon dose over the water kernel's photon dose.

    The water kernel (:func:`photon_energy_kernel`) takes every medium as water of 1 g/mL;
    photons crossing bone (1.92 g/mL) are attenuated about twice as fast, and in lung
    (0.26 g/mL) a quarter as fast. Straight-line density scaling (O'Connor 1957, Phys Med
    Biol 1:352; the form of the path-length beta kernel, :mod:`~opensirt.dosimetry.path_length`)
    gives the dose at ``t`` of a source at ``s`` as ``K_w(d) d^2 / r^2``, ``K_w`` the water
    dose kernel, ``r`` the distance and ``d`` the integral of density along the straight
    line. With ``g(r) = K_w(r) r^2`` and the activity ``A`` per volume, the dose at ``t`` is
    ``integral dOmega integral dr A(t + r Omega) g(d)`` in both cases (``d = r`` in water),
    so the factor is the ratio of the two integrals, computed on rays from ``t`` with the
    same sample points: :data:`DENSITY_RAYS` directions, steps of half a coarse voxel to
    :data:`PHOTON_KERNEL_RADIUS_MM`, on a coarse grid of about :data:`DENSITY_GRID_MM`
    (block sums of the decays, block means of the density; outside the grid nothing). The
    factor changes over the photons' mean free path, so it is computed at coarse targets and
    interpolated (trilinear, constant beyond the outermost targets) to every voxel: exact
    in uniform water (1 everywhere), below 1 in and near bone, above 1 in and near lung.

    Parameters
    ----------
    decays : numpy.ndarray
        Decays per voxel, 3-D.
    density : numpy.ndarray
        Density (g/mL) per voxel, same shape.
    spacing_zyx_mm : tuple of 3 floats
        Voxel size (z, y, x), mm.
    nuclide : NuclideName
        A nuclide with photon lines.

    Returns
    -------
    numpy.ndarray
        The factor, float32, the grid's shape; 1 where no source is in reach.

    Examples
    --------
    >>> act = np.zeros((12, 12, 12)); act[6, 6, 6] = 1.0
    >>> water = photon_density_factor(act, np.ones_like(act), (4.0,) * 3, NuclideName.HO166)
    >>> bool(np.allclose(water, 1.0))
    True
    >>> bone = photon_density_factor(act, np.full_like(act, 1.92), (4.0,) * 3, NuclideName.HO166)
    >>> bool(bone[6, 6, 0] < 1.0)
    True
    """
    h = np.asarray(spacing_zyx_mm, dtype=np.float64)
    shape = np.asarray(decays.shape)
    block = np.maximum(1, np.rint(DENSITY_GRID_MM / h)).astype(np.int64)
    coarse = -(-shape // block)
    a_c = _block_sum(np.asarray(decays, dtype=np.float64), block, coarse)
    rho_c = _block_sum(np.asarray(density, dtype=np.float64), block, coarse)
    rho_c /= _block_sum(np.ones(decays.shape), block, coarse)
    big_h = block * h
    stride = 1
    while np.prod(-(-coarse // stride)) > DENSITY_TARGETS:
        stride += 1
    axes = [np.unique(np.r_[np.arange(0, n, stride), n - 1]) for n in coarse]
    targets = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    factor = _factors(targets, a_c, rho_c, big_h, nuclide).reshape([a.size for a in axes])
    # fine voxel centres in coarse-voxel index coordinates, then linear weights per axis
    out = factor
    for axis in range(3):
        fine = (np.arange(shape[axis]) + 0.5) / block[axis] - 0.5
        weights = _linear_weights(fine, axes[axis].astype(np.float64))
        out = np.moveaxis(np.tensordot(weights, np.moveaxis(out, axis, 0), axes=1), 0, axis)
    return np.asarray(out, dtype=np.float32)


def _block_sum(
    values: npt.NDArray[np.float64], block: npt.NDArray[np.int64], coarse: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Sums over blocks of ``block`` voxels (the last ones partial)."""
    pad = [(0, int(c * b - n)) for c, b, n in zip(coarse, block, values.shape, strict=True)]
    padded = np.pad(values, pad)
    c0, c1, c2 = (int(c) for c in coarse)
    b0, b1, b2 = (int(b) for b in block)
    summed: npt.NDArray[np.float64] = padded.reshape(c0, b0, c1, b1, c2, b2).sum(axis=(1, 3, 5))
    return summed


def _linear_weights(
    x: npt.NDArray[np.float64], nodes: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Matrix of linear-interpolation weights of the points ``x`` on the sorted ``nodes``
    (constant beyond the first and last)."""
    w = np.zeros((x.size, nodes.size))
    if nodes.size == 1:
        w[:, 0] = 1.0
        return w
    xc = np.clip(x, nodes[0], nodes[-1])
    j = np.clip(np.searchsorted(nodes, xc, side="right") - 1, 0, nodes.size - 2)
    t = (xc - nodes[j]) / (nodes[j + 1] - nodes[j])
    rows = np.arange(x.size)
    w[rows, j] = 1.0 - t
    w[rows, j + 1] += t
    return w


def _factors(
    targets: npt.NDArray[np.int64],
    activity: npt.NDArray[np.float64],
    density: npt.NDArray[np.float64],
    spacing: npt.NDArray[np.float64],
    nuclide: NuclideName,
) -> npt.NDArray[np.float64]:
    """The path-length over the water photon dose at the coarse ``targets`` (module docstring
    of :func:`photon_density_factor`), 1 where no source is in reach."""
    step = 0.5 * float(spacing.min())
    r = (np.arange(int(np.ceil(PHOTON_KERNEL_RADIUS_MM / step))) + 0.5) * step
    profile = _radial_profile(nuclide)
    table = np.append(profile, 0.0).astype(np.float32)  # nearest 0.5 mm bin; 0 beyond

    def g(mass: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """``g`` at the mass distance of each sample, ``mass`` the steps' mass (mm at 1 g/mL)."""
        d = np.cumsum(mass, axis=-1) - np.float32(0.5) * mass
        index = np.minimum((d * np.float32(1.0 / _RADIAL_BIN_MM)).astype(np.int32), profile.size)
        values: npt.NDArray[np.float32] = table[index]
        return values

    g_water = g(np.full(r.size, step, dtype=np.float32))  # the same arithmetic: 1 in water
    rays = fibonacci_sphere(DENSITY_RAYS)
    offsets = (r[None, :, None] * rays[:, None, :] / spacing).astype(np.float32)
    # a layer of empty voxels around the grid: a ray that leaves it never comes back (a box
    # is convex), so cells outside are clipped onto that layer
    a_pad = np.pad(activity, 1).astype(np.float32).ravel()
    rho_pad = (np.pad(density, 1) * np.float32(step)).astype(np.float32).ravel()
    dims = np.asarray(activity.shape) + 2
    out = np.ones(len(targets))
    chunk = max(1, 2_000_000 // offsets[..., 0].size)
    for lo in range(0, len(targets), chunk):
        centre = (targets[lo : lo + chunk] + 1.5).astype(np.float32)[:, None, None, :]
        cell = np.floor(centre + offsets[None]).astype(np.int32)
        np.clip(cell, 0, (dims - 1).astype(np.int32), out=cell)
        flat = (cell[..., 0] * int(dims[1]) + cell[..., 1]) * int(dims[2]) + cell[..., 2]
        a = a_pad[flat]
        het = np.einsum("tdk,tdk->t", a, g(rho_pad[flat]), dtype=np.float64)
        water = np.einsum("tdk,k->t", a, g_water, dtype=np.float64)
        out[lo : lo + chunk] = np.where(water > 0, het / np.where(water > 0, water, 1.0), 1.0)
    return out


@functools.lru_cache(maxsize=4)
def _radial_profile(nuclide: NuclideName) -> npt.NDArray[np.float64]:
    """``g(r) = K_w(r) r^2`` of the nuclide's photons in water (energy per decay per mm of
    radius, up to a constant), in bins of :data:`_RADIAL_BIN_MM` from 0 out to
    :data:`_PROFILE_RADIUS_MM`: :data:`_PROFILE_HISTORIES` photons, split over the lines by
    energy, followed from a point with the voxel kernel's physics."""
    tally = np.zeros(round(_PROFILE_RADIUS_MM / _RADIAL_BIN_MM))

    def deposit(pos: npt.NDArray[np.float64], mev: npt.NDArray[np.float64]) -> None:
        radius = np.sqrt(np.einsum("ij,ij->i", pos, pos))
        tally[:] += np.bincount(
            np.minimum((radius / _RADIAL_BIN_MM).astype(np.int64), tally.size - 1),
            mev,
            minlength=tally.size,
        )

    _emit_lines(
        nuclide, _PROFILE_HISTORIES, lambda n, _rng: np.zeros((n, 3)), deposit, _PROFILE_RADIUS_MM
    )
    profile: npt.NDArray[np.float64] = tally / _RADIAL_BIN_MM
    return profile
