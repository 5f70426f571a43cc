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
method charges it to the voxel's mass as ``rho / 1 g/mL`` of water's (the photon fluence is
taken as that of water: within a few per cent over the centimetres of lung or bone near a
source, as the mean free path of 80 keV photons in water is 55 mm), so the photon *dose* is
that of water everywhere.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

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
    rng = np.random.default_rng(_SEED)
    lines = PHOTON_LINES[nuclide]
    energy = np.array([e for e, _ in lines])
    yields = np.array([y for _, y in lines])
    share = energy * yields / float(np.sum(energy * yields))
    for e_mev, y, part in zip(energy, yields, share, strict=True):
        n = max(2000, int(PHOTON_KERNEL_HISTORIES * part))
        start = (rng.random((n, 3)) - 0.5) * h
        photons = Particles(np.full(n, e_mev), start, isotropic(n, rng), np.full(n, y / n))
        _follow(photons, rng, h, half, tally)
    kernel = tally.reshape(shape)
    symmetrise(kernel, spacing)
    kernel.setflags(write=False)
    return kernel


def _follow(
    photons: Particles,
    rng: np.random.Generator,
    h: npt.NDArray[np.float64],
    half: npt.NDArray[np.int64],
    tally: npt.NDArray[np.float64],
) -> None:
    """Transport ``photons`` in unit-density water to absorption or the kernel's radius,
    adding the energy they and their electrons deposit (MeV x weight) to ``tally``."""
    while photons.energy_mev.size:
        e, pos, d, w = photons
        mu, mu_compton = attenuation_cm2_per_g(e)  # per cm at 1 g/mL
        pos = pos + d * (-np.log(1.0 - rng.random(e.size)) / mu * 10.0)[:, None]
        inside = np.einsum("ij,ij->i", pos, pos) <= PHOTON_KERNEL_RADIUS_MM**2
        is_compton = rng.random(e.size) < mu_compton / mu
        absorbed = inside & ~is_compton
        _deposit(pos[absorbed], e[absorbed] * w[absorbed], h, half, tally)
        scatter = inside & is_compton
        scattered, electrons = compton(
            Particles(e[scatter], pos[scatter], d[scatter], w[scatter]), rng
        )
        _deposit(electrons.pos_mm, electrons.energy_mev * electrons.weight, h, half, tally)
        low = scattered.energy_mev < PHOTON_CUTOFF_MEV
        _deposit(
            scattered.pos_mm[low], scattered.energy_mev[low] * scattered.weight[low], h, half, tally
        )
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
