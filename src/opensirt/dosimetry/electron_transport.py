"""A condensed-history electron transport in a homogeneous medium that builds the beta dose
point kernels shipped in ``dosimetry/data`` (ICRU soft tissue); the stopping powers and
cross-sections it uses are computed in :mod:`opensirt.dosimetry.electron_interactions` and
:mod:`opensirt.dosimetry.elastic_scattering`, the media in :mod:`opensirt.dosimetry.materials`.

Physics (every piece a textbook formula, no fitted constants):

* Collision stopping power: Bethe formula for electrons with the Rohrlich-Carlson ``F-`` term
  and the Sternheimer density-effect correction (ICRU Report 37, 1984, eqs. 2.2 and 2.4);
  ``Z/A``, ``I`` and the density-effect parameters of the medium (water: ``Z/A = 0.5551``,
  ``I = 75 eV``; ICRU soft tissue: ``Z/A = 0.5497``, ``I = 74.9 eV``; Sternheimer, Berger &
  Seltzer 1984, At Data Nucl Data Tables 30:261, doi:10.1016/0092-640X(84)90002-0).
  Checked against NIST ESTAR (tests).
* Radiative stopping power: Bethe-Heitler, ``S_rad/rho = (N_A/A) alpha r_e^2 Z(Z+1) E Phi``
  with ``Phi = 16/3`` (non-relativistic) or ``4 ln(2E/mc^2) - 4/3`` (intermediate energies),
  whichever is larger (Attix 1986, Introduction to Radiological Physics and Radiation
  Dosimetry, ch. 8; Heitler 1954). In the point kernels bremsstrahlung photons are assumed
  to escape: their energy is not deposited (for Y-90 about 0.5 % of the beta energy); the
  Monte Carlo engine (:mod:`opensirt.dosimetry.monte_carlo`) transports them.
* Angular deflections: screened-Rutherford (Wentzel) elastic scattering on the nuclei and the
  atomic electrons (``Z^2 -> Z(Z+1)``) with Moliere screening and the McKinley-Feshbach Mott
  (spin) factor on the nuclear part, in a mixed scheme: deflections beyond about 6 degrees
  are sampled one by one, the softer ones lumped per step into one deflection with the exact
  Goudsmit-Saunderson first and second moments (PENELOPE's scheme; see
  :mod:`opensirt.dosimetry.elastic_scattering`).
* Class II condensed history (Berger 1963, Methods Comput Phys 1:135; the scheme of
  ETRAN, EGS4 and DPM): collisions that transfer more than ``Delta = 10 keV`` are Moller
  collisions sampled explicitly (Moller 1932 cross-section, free electrons at rest, two-body
  kinematics; EGSnrc manual, Kawrakow et al., NRCC Report PIRS-701, "Moller scattering")
  and the knock-on electrons are transported like the primaries; the softer collisions are a
  continuous loss at the restricted stopping power ``L_Delta`` (ICRU Report 37, ch. 2) with
  Gaussian straggling of Bohr variance. The hard-collision deflections are removed from the
  soft elastic transport cross-sections (their ``Z(Z+1)`` term counts all electron-electron
  scattering). Steps end at 4 % mean energy loss or at the next Moller collision; random
  hinge; cut-off 10 keV (CSDA range 2.5 micrometres): the residual energy is deposited where
  the electron stops.

The resulting kernels conserve energy by construction (absorbed + bremsstrahlung = emitted)
and agree in range with ESTAR. Their soft-tissue voxel S-values agree with the GATE Monte
Carlo tables of Lanconelli et al. 2012 (doi:10.1088/0031-9155/57/2/517) within 2 % for the
source voxel and its face, edge and corner neighbours at 3-6 mm voxels; see
docs/dosimetry.md for the comparison and for what each piece of physics changed.

The step functions (:func:`continuous_step`, :func:`deflect`, :func:`moller_collisions`)
work in mass thickness (g/cm^2) of the medium of their :class:`TransportTables` and are
shared with the voxel transport of the Monte Carlo engine
(:mod:`opensirt.dosimetry.mc_transport`), which limits steps at voxel boundaries and models
every voxel as :data:`KERNEL_MATERIAL` (the kernels' medium) at the voxel's density.

Regenerate the shipped data with ``python -m opensirt.dosimetry.electron_transport``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import beta_spectrum
from opensirt.dosimetry.elastic_scattering import (
    MixedElastic,
    mixed_elastic_tables,
    sample_step_deflection,
)
from opensirt.dosimetry.electron_interactions import (
    DELTA_MEV,
    bohr_straggling_variance,
    csda_range_table,
    moller_cosines,
    moller_cross_section,
    moller_transport_cross_section,
    radiative_stopping_power,
    restricted_collision_stopping_power,
    sample_moller_fraction,
)
from opensirt.dosimetry.materials import ICRU_SOFT_TISSUE, WATER, Material
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

#: Tracking cut-off: electrons below it deposit their energy where they are (CSDA range in
#: water 2.5 micrometres, ESTAR).
CUTOFF_MEV = 0.010
_MAX_LOSS_FRACTION = 0.04
#: The medium of the shipped point kernels and of every voxel of the Monte Carlo engine (at
#: the voxel's density): ICRU four-component soft tissue (ICRU Report 33, 1980, and ICRU
#: Report 37, 1984; composition and data in :mod:`opensirt.dosimetry.materials`).
KERNEL_MATERIAL = ICRU_SOFT_TISSUE


def rotate(
    d: npt.NDArray[np.float64], mu: npt.NDArray[np.float64], phi: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Directions ``d`` turned by the polar cosines ``mu`` and the azimuths ``phi``.

    Parameters
    ----------
    d : numpy.ndarray
        Unit direction vectors, shape (N, 3).
    mu : numpy.ndarray
        Cosines of the polar deflection angles, shape (N,).
    phi : numpy.ndarray
        Azimuthal angles (radians), shape (N,).

    Returns
    -------
    numpy.ndarray
        The new unit directions, shape (N, 3).
    """
    sin_t = np.sqrt(np.maximum(1.0 - mu * mu, 0.0))
    # an orthonormal pair perpendicular to d: e1 = d x z (or d x x near the z axis), e2 = d x e1
    # (written out: np.cross is several times slower on (N, 3) arrays)
    dz, dy, dx = d[:, 0], d[:, 1], d[:, 2]
    zero = np.zeros_like(dz)
    near_axis = np.abs(dx) >= 0.9
    e1 = np.stack(
        [
            np.where(near_axis, zero, dy),
            np.where(near_axis, dx, -dz),
            np.where(near_axis, -dy, zero),
        ],
        axis=1,
    )
    e1 /= np.sqrt((e1 * e1).sum(axis=1))[:, None]
    e2 = np.stack(
        [
            dy * e1[:, 2] - dx * e1[:, 1],
            dx * e1[:, 0] - dz * e1[:, 2],
            dz * e1[:, 1] - dy * e1[:, 0],
        ],
        axis=1,
    )
    out = (
        d * mu[:, None] + e1 * (sin_t * np.cos(phi))[:, None] + e2 * (sin_t * np.sin(phi))[:, None]
    )
    norm: npt.NDArray[np.float64] = out / np.sqrt((out * out).sum(axis=1))[:, None]
    return norm


@dataclass(frozen=True)
class TransportTables:
    """Energy tables of the condensed-history steps in a medium per unit mass thickness.

    Attributes
    ----------
    material : Material
        The medium (composition, mean excitation energy, density-effect parameters).
    table_t : numpy.ndarray
        Kinetic energies (MeV), increasing.
    table_r : numpy.ndarray
        Restricted CSDA range (g/cm^2) at each energy: the path over which the continuous
        (soft collision + radiative) loss alone slows the electron down.
    elastic : MixedElastic
        The mixed elastic-scattering tables (per g/cm^2); their soft transport
        cross-sections exclude the hard Moller deflections, which are sampled explicitly.
    delta_mev : float
        Class II threshold (MeV).
    """

    material: Material
    table_t: npt.NDArray[np.float64]
    table_r: npt.NDArray[np.float64]
    elastic: MixedElastic
    delta_mev: float


def transport_tables(
    t_max_mev: float, delta_mev: float = DELTA_MEV, material: Material = WATER
) -> TransportTables:
    """The step tables of ``material`` for electrons up to ``t_max_mev``.

    Every length is a mass thickness (g/cm^2, i.e. cm of the medium at 1 g/cm^3): divided by
    the density it is the geometric path in the same medium of another density (O'Connor
    1957, Proc Phys Soc A 70:568, doi:10.1088/0370-1298/70/8/302 for the scaling of
    charged-particle fields).

    Parameters
    ----------
    t_max_mev : float
        Highest electron energy to be transported (MeV).
    delta_mev : float, optional
        Class II threshold (MeV), default :data:`DELTA_MEV`.
    material : Material, optional
        The medium, default liquid water (the kernels and the Monte Carlo engine use
        :data:`KERNEL_MATERIAL`).

    Returns
    -------
    TransportTables
        Energies, restricted ranges and the mixed elastic-scattering tables.
    """
    table_t, table_r = csda_range_table(t_max_mev, delta_mev=delta_mev, material=material)
    # soft elastic + soft inelastic deflections: the hard Moller part is sampled explicitly
    elastic = mixed_elastic_tables(table_t, material)
    moller1 = moller_transport_cross_section(table_t, delta_mev, material=material)
    moller2 = moller_transport_cross_section(table_t, delta_mev, order=2, material=material)
    elastic = replace(
        elastic,
        soft_sigma1=np.maximum(elastic.soft_sigma1 - moller1, 0.0),
        soft_sigma2=np.maximum(elastic.soft_sigma2 - moller2, 0.0),
    )
    return TransportTables(material, table_t, table_r, elastic, delta_mev)


@dataclass(frozen=True)
class _Medium:
    """The step tables and the radial tally of the point-kernel simulation (density 1)."""

    tables: TransportTables
    shell_mm: float
    tally: npt.NDArray[np.float64]

    def deposit(self, pos_mm: npt.NDArray[np.float64], energy: npt.NDArray[np.float64]) -> None:
        shell = (np.linalg.norm(pos_mm, axis=1) / self.shell_mm).astype(int)
        np.add.at(self.tally, np.minimum(shell, self.tally.size - 1), energy)


_Electrons = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


class Step(NamedTuple):
    """One condensed-history step of every electron (lengths in g/cm^2).

    Attributes
    ----------
    step_cm : numpy.ndarray
        Path length (g/cm^2; cm in water of density 1).
    hard : numpy.ndarray
        True where the step ends in a Moller collision.
    last : numpy.ndarray
        True where the step brings the electron down to the cut-off.
    t_mid_mev : numpy.ndarray
        Mid-step kinetic energy (MeV).
    radiative_mev : numpy.ndarray
        Mean bremsstrahlung loss along the step (MeV).
    collision_mev : numpy.ndarray
        Restricted collision loss along the step (MeV), straggled unless the step was
        shortened by ``limit_cm``.
    """

    step_cm: npt.NDArray[np.float64]
    hard: npt.NDArray[np.bool_]
    last: npt.NDArray[np.bool_]
    t_mid_mev: npt.NDArray[np.float64]
    radiative_mev: npt.NDArray[np.float64]
    collision_mev: npt.NDArray[np.float64]


def continuous_step(
    t: npt.NDArray[np.float64],
    tables: TransportTables,
    rng: np.random.Generator,
    limit_cm: npt.NDArray[np.float64] | None = None,
) -> Step:
    """Path length, Moller flag and energy losses of one condensed-history step.

    The step ends after a ``4 %`` mean energy loss, at the next Moller collision (distance
    exponential with the cross-section at the mid-step energy) or at ``limit_cm`` (a voxel
    boundary), whichever comes first; stopping powers and cross-sections are those of
    ``tables.material``. Hard elastic collisions do not end a step: :func:`deflect` applies
    a Poisson number of them with mean ``s / lambda_hard`` over the step actually taken, so
    a step shortened by ``limit_cm`` gets proportionally fewer. The soft collision loss
    fluctuates as a Gaussian with the Bohr variance of transfers below ``Delta``,
    ``Omega^2 = K (Z/A) s Delta (1 - beta^2/2) / beta^2`` (Bohr 1915, Phil Mag 30:581;
    Particle Data Group, Review of Particle Physics, "Passage of particles through matter",
    thick-absorber limit with ``W_max -> Delta``), truncated to the physical range
    ``[0, T - radiative loss]``. A step shortened by ``limit_cm`` loses the mean (range
    table) energy without straggling: such steps can be far shorter than the distance over
    which the Gaussian is valid, and truncating the Gaussian at 0 would bias their loss up.

    Parameters
    ----------
    t : numpy.ndarray
        Kinetic energies (MeV), each above :data:`CUTOFF_MEV`.
    tables : TransportTables
        Step tables of the medium (per g/cm^2).
    rng : numpy.random.Generator
        Random number source (two draws per electron, in a fixed order).
    limit_cm : numpy.ndarray or None, optional
        Longest allowed step of each electron (g/cm^2); None for no limit.

    Returns
    -------
    Step
        The step of every electron.
    """
    tt, tr = tables.table_t, tables.table_r
    planned = np.minimum(t * _MAX_LOSS_FRACTION, t - CUTOFF_MEV)
    r_t = np.interp(t, tt, tr)
    full_cm = r_t - np.interp(t - planned, tt, tr)
    cap = full_cm if limit_cm is None else np.minimum(full_cm, limit_cm)
    mat = tables.material
    sigma = moller_cross_section(t - 0.5 * planned, tables.delta_mev, mat)
    free_path = -np.log1p(-rng.random(t.size))
    s_hard = np.divide(free_path, sigma, out=np.full(t.size, np.inf), where=sigma > 0)
    hard = s_hard < cap
    step_cm = np.where(hard, s_hard, cap)
    loss = np.where(step_cm < full_cm, t - np.interp(r_t - step_cm, tr, tt), planned)
    t_mid = t - 0.5 * loss
    s_col = restricted_collision_stopping_power(t_mid, tables.delta_mev, mat)
    s_rad = radiative_stopping_power(t_mid, mat)
    rad = loss * s_rad / (s_col + s_rad)
    var = bohr_straggling_variance(t_mid, step_cm, tables.delta_mev, mat)
    noise = rng.standard_normal(t.size) * np.sqrt(var)
    if limit_cm is not None:
        noise[cap < full_cm] = 0.0
    col = np.clip(loss - rad + noise, 0.0, t - rad)
    last = (cap >= full_cm) & ~hard & (t - planned <= CUTOFF_MEV * 1.0001)
    return Step(step_cm, hard, last, t_mid, rad, col)


def deflect(
    d: npt.NDArray[np.float64],
    step: Step,
    tables: TransportTables,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """New directions after the elastic (and soft inelastic) deflections of a step.

    Mixed scheme (:mod:`opensirt.dosimetry.elastic_scattering`; PENELOPE, Baro et al. 1995,
    Nucl Instrum Methods B 100:31, doi:10.1016/0168-583X(95)00349-5): one soft deflection
    with the exact Goudsmit-Saunderson first and second moments of the soft collisions over
    the step at the mid-step energy (Goudsmit & Saunderson 1940, Phys Rev 57:24,
    doi:10.1103/PhysRev.57.24), then a Poisson number (mean: step over the hard mean free
    path) of hard elastic collisions sampled one by one, all at the hinge; uniform azimuths.

    Parameters
    ----------
    d : numpy.ndarray
        Unit directions before the deflection, shape (N, 3).
    step : Step
        The steps (path length and mid-step energy).
    tables : TransportTables
        Step tables of the medium.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    numpy.ndarray
        Unit directions after the deflection, shape (N, 3).
    """
    t_mev, step_cm, elastic = step.t_mid_mev, step.step_cm, tables.elastic
    mean_mu, mean_mu2 = elastic.soft_moments(t_mev, step_cm)
    mu = sample_step_deflection(mean_mu, mean_mu2, rng)
    d = rotate(d, mu, 2.0 * np.pi * rng.random(t_mev.size))
    n_hard = rng.poisson(step_cm * elastic.hard_rates(t_mev).sum(axis=0))
    for j in range(int(n_hard.max(initial=0))):
        idx = np.flatnonzero(n_hard > j)
        cos_t = 1.0 - 2.0 * elastic.sample_hard(t_mev[idx], rng)
        d[idx] = rotate(d[idx], cos_t, 2.0 * np.pi * rng.random(idx.size))
    return d


def moller_collisions(
    t: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    hard: npt.NDArray[np.bool_],
    delta_mev: float,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Apply the Moller collisions flagged ``hard`` in place (energies and directions).

    Parameters
    ----------
    t : numpy.ndarray
        Kinetic energies after the step's continuous loss (MeV), changed in place.
    d : numpy.ndarray
        Unit directions (N, 3), changed in place.
    hard : numpy.ndarray
        True where the step ended in a Moller collision.
    delta_mev : float
        Class II threshold (MeV).
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        The knock-on electrons' energies (MeV), the indices of their parents and their
        directions (M, 3).
    """
    idx = np.flatnonzero(hard & (t > 2.0 * delta_mev))
    t_hard = t[idx]
    w = sample_moller_fraction(t_hard, rng, delta_mev) * t_hard
    mu_primary, mu_secondary = moller_cosines(t_hard, w)
    phi = 2.0 * np.pi * rng.random(idx.size)
    d_secondary = rotate(d[idx], mu_secondary, phi + np.pi)
    d[idx] = rotate(d[idx], mu_primary, phi)
    t[idx] = t_hard - w
    return w, idx, d_secondary


def _transport_step(
    electrons: _Electrons, medium: _Medium, rng: np.random.Generator
) -> tuple[_Electrons, float]:
    """Move every electron one step: returns the electrons still above the cut-off (primaries
    and new secondaries) and the energy radiated (MeV)."""
    t, pos, d = electrons
    step = continuous_step(t, medium.tables, rng)
    hinge = rng.random(t.size)
    pos = pos + d * (hinge * step.step_cm)[:, None] * 10.0
    d = deflect(d, step, medium.tables, rng)
    medium.deposit(pos, step.collision_mev)
    pos += d * ((1.0 - hinge) * step.step_cm)[:, None] * 10.0
    t = t - step.radiative_mev - step.collision_mev
    w, parent, d_secondary = moller_collisions(t, d, step.hard, medium.tables.delta_mev, rng)
    t = np.concatenate([t, w])
    pos = np.concatenate([pos, pos[parent]])
    d = np.concatenate([d, d_secondary])
    alive = t > CUTOFF_MEV * 1.0001
    alive[: step.last.size] &= ~step.last
    # electrons at the cut-off deposit their residual energy where they stop
    medium.deposit(pos[~alive], t[~alive])
    return (t[alive], pos[alive], d[alive]), float(step.radiative_mev.sum())


def sample_beta_energies(
    nuclide: Nuclide | NuclideName | str, n: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Kinetic energies of ``n`` betas drawn from the spectrum of ``nuclide``.

    A bin of :func:`~opensirt.dosimetry.beta_spectrum.beta_spectrum` is drawn with its
    probability and the energy spread uniformly over the bin.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        Y-90 or Ho-166.
    n : int
        Number of betas.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    numpy.ndarray
        Kinetic energies (MeV), shape (n,).
    """
    energy, probability = beta_spectrum(nuclide)
    t = rng.choice(energy, size=n, p=probability)
    out: npt.NDArray[np.float64] = t + (rng.random(n) - 0.5) * (energy[1] - energy[0])
    return out


def simulate_point_kernel(
    nuclide: Nuclide | NuclideName | str,
    n_electrons: int = 200_000,
    *,
    shell_mm: float = 0.05,
    r_max_mm: float = 15.0,
    seed: int = 20240601,
    delta_mev: float = DELTA_MEV,
    material: Material = WATER,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Radial energy deposition around a point source of ``nuclide`` in ``material`` (1 g/cm^3).

    Class II condensed-history transport (Berger 1963) of the beta particles and of every
    knock-on electron above ``delta_mev``; energy beyond ``r_max_mm`` is tallied in the last
    shell.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        Y-90 or Ho-166 (a nuclide with beta spectrum data).
    n_electrons : int, optional
        Primary betas simulated (default 200 000); statistical error falls as ``1/sqrt(n)``.
    shell_mm : float, optional
        Thickness of the spherical tally shells (mm), default 0.05.
    r_max_mm : float, optional
        Outer radius of the last shell (mm), default 15 (beyond the Y-90 maximum range).
    seed : int, optional
        Seed of the random number generator (same seed, same kernel).
    delta_mev : float, optional
        Class II threshold (MeV), default :data:`DELTA_MEV`.
    material : Material, optional
        The medium (default liquid water); radii are for it at 1 g/cm^3.

    Returns
    -------
    r_mm : ndarray
        Outer radii of the spherical shells, mm.
    fraction : ndarray
        Fraction of the emitted beta energy deposited in each shell.
    radiative_fraction : float
        Fraction of the emitted beta energy carried away by bremsstrahlung.
    """
    rng = np.random.default_rng(seed)
    t = sample_beta_energies(nuclide, n_electrons, rng)
    emitted = float(t.sum())
    tables = transport_tables(float(t.max()) * 1.01, delta_mev, material)
    edges = np.arange(0.0, r_max_mm + shell_mm / 2, shell_mm)
    medium = _Medium(tables, shell_mm, np.zeros(edges.size - 1))
    slow = t <= CUTOFF_MEV
    medium.tally[0] += float(t[slow].sum())
    n = int((~slow).sum())
    electrons: _Electrons = (t[~slow], np.zeros((n, 3)), np.tile([0.0, 0.0, 1.0], (n, 1)))
    radiative = 0.0
    while electrons[0].size:
        electrons, radiated = _transport_step(electrons, medium, rng)
        radiative += radiated
    return edges[1:], medium.tally / emitted, radiative / emitted


def write_kernel_csv(
    nuclide: Nuclide | NuclideName | str,
    path: Path,
    n_electrons: int,
    material: Material = KERNEL_MATERIAL,
) -> None:
    """Simulate the point kernel of ``nuclide`` and write it (atomically) as CSV to ``path``.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        Y-90 or Ho-166.
    path : pathlib.Path
        Destination CSV (``r_mm, shell_fraction, cumulative_fraction`` with a provenance
        header); replaced if it exists.
    n_electrons : int
        Primary betas simulated.
    material : Material, optional
        The medium (default :data:`KERNEL_MATERIAL`, ICRU four-component soft tissue), named
        in the header.
    """
    nuc = get_nuclide(nuclide)
    r_mm, fraction, radiative = simulate_point_kernel(nuc, n_electrons, material=material)
    cumulative = np.cumsum(fraction)
    lines = [
        f"# Beta dose point kernel of {nuc.name} in {material.name}, point source;",
        "# radii for the medium at 1.000 g/cm^3 (divide by the density in g/cm^3).",
        f"# medium={material.name}; <Z/A>={material.z_over_a:.5f};"
        f" I={material.mean_excitation_ev:g} eV",
        "# Generated by opensirt.dosimetry.electron_transport (Class II condensed-history",
        "# electron transport: ICRU 37 restricted stopping power with Bohr straggling, Moller",
        f"# collisions above {DELTA_MEV * 1e3:g} keV with knock-on electrons transported,",
        "# mixed elastic scattering: Moliere-screened Wentzel cross-section with the",
        "# McKinley-Feshbach Mott factor, hard collisions sampled, soft ones with exact first",
        "# and second moments; bremsstrahlung escapes); beta spectrum from Fermi theory",
        "# (unique shape factor q^2 + lambda_2 p^2) with ENSDF end points.",
        f"# Electrons simulated: {n_electrons} (seed 20240601).",
        f"# radiative_fraction={radiative:.6f} (bremsstrahlung energy / emitted beta energy)",
        "# Columns: r_mm = outer radius of the shell (mm); shell_fraction = fraction of the",
        "# emitted beta energy deposited in the shell; cumulative_fraction = inside r_mm.",
        "r_mm,shell_fraction,cumulative_fraction",
    ]
    lines += [
        f"{r:.3f},{f:.8e},{c:.8e}" for r, f, c in zip(r_mm, fraction, cumulative, strict=True)
    ]
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    """Regenerate the kernel files: ``python -m opensirt.dosimetry.electron_transport [N]``.

    Parameters
    ----------
    argv : list of str
        Command-line arguments: optionally the number of electrons per nuclide (default
        1 000 000).

    Returns
    -------
    int
        The exit status, 0.
    """
    n = int(argv[0]) if argv else 1_000_000
    data = Path(__file__).resolve().parent / "data"
    for nuclide, name in ((NuclideName.Y90, "y90"), (NuclideName.HO166, "ho166")):
        write_kernel_csv(nuclide, data / f"{name}_dpk_soft_tissue.csv", n)
        print(f"wrote {data / f'{name}_dpk_soft_tissue.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
