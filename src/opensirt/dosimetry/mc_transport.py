"""Transport of electrons and photons through a voxel grid of one medium at varying density.

Every voxel is the medium of the step tables (the Monte Carlo engine uses the kernels'
medium, ICRU four-component soft tissue) at the voxel's density (g/mL): the electron steps
of :mod:`opensirt.dosimetry.electron_transport` are mass thicknesses (g/cm^2) and become the
geometric path ``s / rho`` in the voxel the electron is in (O'Connor 1957, Proc Phys Soc A
70:568, doi:10.1088/0370-1298/70/8/302: under this model the scaling theorem holds exactly).

Boundaries (the logic of EGSnrc's boundary-crossing algorithm, Kawrakow 2000, Med Phys
27:485, doi:10.1118/1.598917, simplified): a step never leaves the voxel it starts in,
so its energy loss is charged to that voxel exactly.

* An electron farther than the step from every face (``t_perp``) takes the full step with a
  random hinge (deflection at a uniform point along the step).
* An electron closer than the step but farther than a skin (2 % of the smallest voxel side)
  takes a step of length ``t_perp`` with a random hinge: the whole step stays in the voxel.
* Inside the skin, and in voxels thinner than 0.002 g/cm^2 (air: 4.42 mm are 5e-4 g/cm^2,
  where a hinge would change the path by well under 1 % of a voxel), the electron moves
  straight along its direction up to the boundary (or its full step if shorter) and is
  deflected at the end; it enters the next voxel by 1e-6 mm. In air an electron so crosses a
  voxel in one step.

Electrons that leave the grid, and photons that leave it, escape (their energy is tallied).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.electron_transport import (
    CUTOFF_MEV,
    TransportTables,
    continuous_step,
    deflect,
    moller_collisions,
)
from opensirt.dosimetry.mc_photons import (
    PHOTON_CUTOFF_MEV,
    Particles,
    attenuation_cm2_per_g,
    bremsstrahlung,
    compton,
)

_SKIN_FRACTION = 0.02
_PUSH_MM = 1e-6
#: Voxels of less mass thickness than this (g/cm^2, density x smallest side) are crossed in
#: straight steps.
_THIN_G_PER_CM2 = 0.002


@dataclass
class VoxelGrid:
    """The density grid and the energy tallies of one batch.

    Attributes
    ----------
    shape : tuple of int
        Grid shape ``(k, j, i)``.
    spacing_mm : numpy.ndarray
        Voxel size in array order (z, y, x), mm.
    rho_flat : numpy.ndarray
        Density of each voxel (g/mL), flattened, float64.
    tally : numpy.ndarray
        Energy deposited in each voxel (MeV, weighted), flattened.
    escaped_electron_mev, escaped_photon_mev : float
        Energy (weighted) carried out of the grid by electrons and by photons.
    rho_max : float
        Highest density (g/mL), the majorant of Woodcock tracking.
    skin_mm : float
        Distance to a face below which electrons step straight to the boundary (mm).
    thin_flat : numpy.ndarray
        True for the voxels crossed in straight steps (mass thickness < 0.002 g/cm^2).
    """

    shape: tuple[int, int, int]
    spacing_mm: npt.NDArray[np.float64]
    rho_flat: npt.NDArray[np.float64]
    tally: npt.NDArray[np.float64] = field(init=False)
    escaped_electron_mev: float = 0.0
    escaped_photon_mev: float = 0.0

    def __post_init__(self) -> None:
        self.tally = np.zeros(self.rho_flat.size)
        self.rho_max = float(self.rho_flat.max())
        self.skin_mm = _SKIN_FRACTION * float(self.spacing_mm.min())
        self.thin_flat = self.rho_flat * float(self.spacing_mm.min()) / 10.0 < _THIN_G_PER_CM2

    def locate(
        self, pos_mm: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
        """Voxel indices of positions, whether they are inside the grid, and flat indices.

        Parameters
        ----------
        pos_mm : numpy.ndarray
            Positions (mm, z y x from the grid's corner), shape (N, 3).

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray, numpy.ndarray)
            Indices (N, 3), inside flags (N,), flat indices (N,; 0 where outside).
        """
        vox = np.floor(pos_mm / self.spacing_mm).astype(np.intp)
        inside = np.all((vox >= 0) & (vox < np.asarray(self.shape)), axis=1)
        flat = np.ravel_multi_index(tuple(vox.T), self.shape, mode="clip")
        return vox, inside, np.where(inside, flat, 0)

    def deposit(self, flat: npt.NDArray[np.intp], energy_mev: npt.NDArray[np.float64]) -> None:
        """Add energies to the tally.

        Parameters
        ----------
        flat : numpy.ndarray
            Flat voxel indices.
        energy_mev : numpy.ndarray
            Weighted energies (MeV), shape of ``flat``.
        """
        np.add.at(self.tally, flat, energy_mev)


def _geometric_limits(
    grid: VoxelGrid, pos: npt.NDArray[np.float64], d: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Flat voxel index, longest step (mm) inside the voxel, and whether it is straight."""
    vox, _, flat = grid.locate(pos)
    lo = vox * grid.spacing_mm
    near = pos - lo
    far = lo + grid.spacing_mm - pos
    t_perp = np.minimum(near.min(axis=1), far.min(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        along = np.where(d > 0, far / d, np.where(d < 0, -near / d, np.inf)).min(axis=1)
    straight = (t_perp < grid.skin_mm) | grid.thin_flat[flat]
    return flat, np.where(straight, np.maximum(along, 0.0) + _PUSH_MM, t_perp), straight


def electron_step(
    electrons: Particles, grid: VoxelGrid, tables: TransportTables, rng: np.random.Generator
) -> tuple[Particles, Particles]:
    """Move every electron one step through the grid, scoring its losses.

    Parameters
    ----------
    electrons : Particles
        Electrons inside the grid, above the cut-off.
    grid : VoxelGrid
        Densities and tallies.
    tables : TransportTables
        Step tables of the medium (per g/cm^2).
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    tuple of (Particles, Particles)
        The electrons still inside and above the cut-off (with new knock-on electrons), and
        the bremsstrahlung photons emitted.
    """
    t, pos, d, w = electrons
    flat, limit_mm, straight = _geometric_limits(grid, pos, d)
    rho = grid.rho_flat[flat]
    step = continuous_step(t, tables, rng, limit_mm * rho / 10.0)
    length_mm = step.step_cm * 10.0 / rho
    hinge = np.where(straight, 1.0, rng.random(t.size))
    pos = pos + d * (hinge * length_mm)[:, None]
    d = deflect(d, step, tables, rng)
    pos += d * ((1.0 - hinge) * length_mm)[:, None]
    soft, photon = bremsstrahlung(t, step, rng)
    grid.deposit(flat, (step.collision_mev + soft) * w)
    emitted = photon > 0.0
    photons = Particles(photon[emitted], pos[emitted], d[emitted], w[emitted])
    t = t - step.collision_mev - soft - photon
    knock_on, parent, d_knock_on = moller_collisions(t, d, step.hard, tables.delta_mev, rng)
    bank = Particles(t, pos, d, w).join(Particles(knock_on, pos[parent], d_knock_on, w[parent]))
    alive = bank.energy_mev > CUTOFF_MEV * 1.0001
    alive[: t.size] &= ~step.last
    _, inside, flat_end = grid.locate(bank.pos_mm)
    stopped = ~alive & inside
    grid.deposit(flat_end[stopped], bank.energy_mev[stopped] * bank.weight[stopped])
    grid.escaped_electron_mev += float(np.sum((bank.energy_mev * bank.weight)[~inside]))
    return bank.take(alive & inside), photons


def photon_step(
    photons: Particles, grid: VoxelGrid, rng: np.random.Generator
) -> tuple[Particles, Particles]:
    """Move every photon to its next tentative collision (Woodcock tracking) and interact.

    Parameters
    ----------
    photons : Particles
        Photons inside the grid.
    grid : VoxelGrid
        Densities and tallies.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    tuple of (Particles, Particles)
        The photons still travelling, and the Compton electrons above the cut-off.
    """
    mu_total, mu_compton = attenuation_cm2_per_g(photons.energy_mev)
    u = rng.random((3, photons.energy_mev.size))
    distance_mm = -np.log1p(-u[0]) * 10.0 / (mu_total * grid.rho_max)
    pos = photons.pos_mm + photons.d * distance_mm[:, None]
    _, inside, flat = grid.locate(pos)
    moved = Particles(photons.energy_mev, pos, photons.d, photons.weight)
    grid.escaped_photon_mev += float(np.sum((moved.energy_mev * moved.weight)[~inside]))
    real = inside & (u[1] * grid.rho_max < grid.rho_flat[flat])
    absorbed = real & (u[2] * mu_total >= mu_compton)
    grid.deposit(flat[absorbed], (moved.energy_mev * moved.weight)[absorbed])
    scattered, electrons = compton(moved.take(real & ~absorbed), rng)
    flat_s = flat[real & ~absorbed]
    low_p = scattered.energy_mev < PHOTON_CUTOFF_MEV
    low_e = electrons.energy_mev <= CUTOFF_MEV * 1.0001
    grid.deposit(flat_s[low_p], (scattered.energy_mev * scattered.weight)[low_p])
    grid.deposit(flat_s[low_e], (electrons.energy_mev * electrons.weight)[low_e])
    travelling = moved.take(inside & ~real).join(scattered.take(~low_p))
    return travelling, electrons.take(~low_e)


def transport(
    electrons: Particles,
    photons: Particles,
    grid: VoxelGrid,
    tables: TransportTables,
    rng: np.random.Generator,
) -> None:
    """Transport electrons and photons (and every secondary) until all are absorbed or out.

    Parameters
    ----------
    electrons : Particles
        Source electrons inside the grid.
    photons : Particles
        Source photons inside the grid.
    grid : VoxelGrid
        Densities; the tallies are updated in place.
    tables : TransportTables
        Step tables of the medium (per g/cm^2).
    rng : numpy.random.Generator
        Random number source.
    """
    slow = electrons.energy_mev <= CUTOFF_MEV * 1.0001
    _, _, flat = grid.locate(electrons.pos_mm[slow])
    grid.deposit(flat, electrons.energy_mev[slow] * electrons.weight[slow])
    electrons = electrons.take(~slow)
    while electrons.energy_mev.size or photons.energy_mev.size:
        if electrons.energy_mev.size:
            electrons, brems = electron_step(electrons, grid, tables, rng)
            photons = photons.join(brems)
        if photons.energy_mev.size:
            photons, recoils = photon_step(photons, grid, rng)
            electrons = electrons.join(recoils)
