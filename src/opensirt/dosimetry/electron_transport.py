"""A condensed-history electron transport in water that builds the beta dose point kernels
shipped in ``dosimetry/data``; the stopping powers and cross-sections it uses are computed in
:mod:`opensirt.dosimetry.electron_interactions`.

Physics (every piece a textbook formula, no fitted constants):

* Collision stopping power: Bethe formula for electrons with the Rohrlich-Carlson ``F-`` term
  and the Sternheimer density-effect correction (ICRU Report 37, 1984, eqs. 2.2 and 2.4);
  water: ``Z/A = 0.555087``, mean excitation energy ``I = 75 eV`` (ICRU 37), density-effect
  parameters ``C = 3.5017, X0 = 0.2400, X1 = 2.8004, a = 0.09116, m = 3.4773``
  (Sternheimer, Berger & Seltzer 1984, At Data Nucl Data Tables 30:261,
  doi:10.1016/0092-640X(84)90002-0). Checked against NIST ESTAR (tests).
* Radiative stopping power: Bethe-Heitler, ``S_rad/rho = (N_A/A) alpha r_e^2 Z(Z+1) E Phi``
  with ``Phi = 16/3`` (non-relativistic) or ``4 ln(2E/mc^2) - 4/3`` (intermediate energies),
  whichever is larger (Attix 1986, Introduction to Radiological Physics and Radiation
  Dosimetry, ch. 8; Heitler 1954). In the point kernels bremsstrahlung photons are assumed
  to escape: their energy is not deposited (for Y-90 about 0.5 % of the beta energy); the
  Monte Carlo engine (:mod:`opensirt.dosimetry.monte_carlo`) transports them.
* Angular deflections: screened-Rutherford (Wentzel) elastic scattering on the nuclei and the
  atomic electrons (``Z^2 -> Z(Z+1)``) with the Moliere screening parameter
  ``A = (hbar / 2 p a_TF)^2 (1.13 + 3.76 (alpha Z / beta)^2)``; the transport mean free path
  ``lambda_1`` follows in closed form, and each step of length ``s`` is deflected with a
  Henyey-Greenstein angle whose mean cosine is the Goudsmit-Saunderson value
  ``exp(-s / lambda_1)`` (Goudsmit & Saunderson 1940, Phys Rev 57:24,
  doi:10.1103/PhysRev.57.24; Moliere 1947, Z Naturforsch 2a:133).
* Class II condensed history (Berger 1963, Methods Comput Phys 1:135; the scheme of
  ETRAN, EGS4 and DPM): collisions that transfer more than ``Delta = 10 keV`` are Moller
  collisions sampled explicitly (Moller 1932 cross-section, free electrons at rest, two-body
  kinematics; EGSnrc manual, Kawrakow et al., NRCC Report PIRS-701, "Moller scattering")
  and the knock-on electrons are transported like the primaries; the softer collisions are a
  continuous loss at the restricted stopping power ``L_Delta`` (ICRU Report 37, ch. 2) with
  Gaussian straggling of Bohr variance. The hard-collision deflections are removed from the
  elastic transport cross-section (its ``Z(Z+1)`` term counts all electron-electron
  scattering). Steps end at 4 % mean energy loss or at the next Moller collision; random
  hinge; cut-off 10 keV (CSDA range 2.5 micrometres): the residual energy is deposited where
  the electron stops.

The resulting kernels conserve energy by construction (absorbed + bremsstrahlung = emitted)
and agree in range with ESTAR. Their voxel S-values agree with the GATE Monte Carlo tables of
Lanconelli et al. 2012 (doi:10.1088/0031-9155/57/2/517) to about 1.5 % (source voxel and face
neighbours) and 5 % (edges and corners); see docs/dosimetry.md for the comparison and the
remaining differences (water instead of ICRU soft tissue, approximate multiple-scattering
shape, no binding effects, a model beta spectrum).

The step functions (:func:`continuous_step`, :func:`deflect`, :func:`moller_collisions`)
work in mass thickness (g/cm^2) and are shared with the voxel transport of the Monte Carlo
engine (:mod:`opensirt.dosimetry.mc_transport`), which limits steps at voxel boundaries.

Regenerate the shipped data with ``python -m opensirt.dosimetry.electron_transport``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import beta_spectrum
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
    transport_mean_free_path_cm,
)
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

#: Tracking cut-off: electrons below it deposit their energy where they are (CSDA range in
#: water 2.5 micrometres, ESTAR).
CUTOFF_MEV = 0.010
_MAX_LOSS_FRACTION = 0.04


def _henyey_greenstein(
    g: npt.NDArray[np.float64], u: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Cosines sampled from the Henyey-Greenstein law with mean cosine ``g`` (0 < g < 1)."""
    g = np.clip(g, 1e-6, 1.0 - 1e-9)
    frac = (1.0 - g * g) / (1.0 - g + 2.0 * g * u)
    out: npt.NDArray[np.float64] = np.clip((1.0 + g * g - frac * frac) / (2.0 * g), -1.0, 1.0)
    return out


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
    """Energy tables of the condensed-history steps in water per unit mass thickness.

    Attributes
    ----------
    table_t : numpy.ndarray
        Kinetic energies (MeV), increasing.
    table_r : numpy.ndarray
        Restricted CSDA range (g/cm^2) at each energy: the path over which the continuous
        (soft collision + radiative) loss alone slows the electron down.
    table_lambda_cm : numpy.ndarray
        Transport mean free path (g/cm^2) of the soft elastic and soft inelastic deflections.
    delta_mev : float
        Class II threshold (MeV).
    """

    table_t: npt.NDArray[np.float64]
    table_r: npt.NDArray[np.float64]
    table_lambda_cm: npt.NDArray[np.float64]
    delta_mev: float


def transport_tables(t_max_mev: float, delta_mev: float = DELTA_MEV) -> TransportTables:
    """The step tables of water for electrons up to ``t_max_mev``.

    Every length is a mass thickness (g/cm^2, i.e. cm of water at 1 g/cm^3): divided by the
    density it is the geometric path in water of another density (O'Connor 1957, Proc Phys
    Soc A 70:568, doi:10.1088/0370-1298/70/8/302 for the scaling of charged-particle fields).

    Parameters
    ----------
    t_max_mev : float
        Highest electron energy to be transported (MeV).
    delta_mev : float, optional
        Class II threshold (MeV), default :data:`DELTA_MEV`.

    Returns
    -------
    TransportTables
        Energies, restricted ranges and the soft transport mean free path.
    """
    table_t, table_r = csda_range_table(t_max_mev, delta_mev=delta_mev)
    # soft elastic + soft inelastic deflections: the hard Moller part is sampled explicitly
    inv_lambda = 1.0 / transport_mean_free_path_cm(table_t)
    table_lambda = 1.0 / (inv_lambda - moller_transport_cross_section(table_t, delta_mev))
    return TransportTables(table_t, table_r, table_lambda, delta_mev)


@dataclass(frozen=True)
class _Medium:
    """The step tables and the radial tally of the point-kernel simulation (water, density 1)."""

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
    boundary), whichever comes first. The soft collision loss fluctuates as a Gaussian with
    the Bohr variance of transfers below ``Delta``,
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
    sigma = moller_cross_section(t - 0.5 * planned, tables.delta_mev)
    free_path = -np.log1p(-rng.random(t.size))
    s_hard = np.divide(free_path, sigma, out=np.full(t.size, np.inf), where=sigma > 0)
    hard = s_hard < cap
    step_cm = np.where(hard, s_hard, cap)
    loss = np.where(step_cm < full_cm, t - np.interp(r_t - step_cm, tr, tt), planned)
    t_mid = t - 0.5 * loss
    s_col = restricted_collision_stopping_power(t_mid, tables.delta_mev)
    s_rad = radiative_stopping_power(t_mid)
    rad = loss * s_rad / (s_col + s_rad)
    var = bohr_straggling_variance(t_mid, step_cm, tables.delta_mev)
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
    """New directions after the soft angular deflections of a step.

    A Henyey-Greenstein polar angle whose mean cosine is the Goudsmit-Saunderson value
    ``exp(-s / lambda_1)`` at the mid-step energy (Goudsmit & Saunderson 1940, Phys Rev
    57:24, doi:10.1103/PhysRev.57.24), uniform azimuth.

    Parameters
    ----------
    d : numpy.ndarray
        Unit directions before the deflection, shape (N, 3).
    step : Step
        The steps (path length and mid-step energy).
    tables : TransportTables
        Step tables of the medium.
    rng : numpy.random.Generator
        Random number source (two draws per electron).

    Returns
    -------
    numpy.ndarray
        Unit directions after the deflection, shape (N, 3).
    """
    n = step.step_cm.size
    lam = np.interp(step.t_mid_mev, tables.table_t, tables.table_lambda_cm)
    g = np.exp(-step.step_cm / lam)
    return rotate(d, _henyey_greenstein(g, rng.random(n)), 2 * np.pi * rng.random(n))


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
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Radial energy deposition around a point source of ``nuclide`` in water (1 g/cm^3).

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
    tables = transport_tables(float(t.max()) * 1.01, delta_mev)
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


def write_kernel_csv(nuclide: Nuclide | NuclideName | str, path: Path, n_electrons: int) -> None:
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
    """
    nuc = get_nuclide(nuclide)
    r_mm, fraction, radiative = simulate_point_kernel(nuc, n_electrons)
    cumulative = np.cumsum(fraction)
    lines = [
        f"# Beta dose point kernel of {nuc.name} in liquid water (1.000 g/cm^3), point source.",
        "# Generated by opensirt.dosimetry.electron_transport (Class II condensed-history",
        "# electron transport: ICRU 37 restricted stopping power with Bohr straggling, Moller",
        f"# collisions above {DELTA_MEV * 1e3:g} keV with knock-on electrons transported,",
        "# Moliere-screened Wentzel transport mean free path, bremsstrahlung escapes); beta",
        "# spectrum from Fermi theory with ENSDF end points.",
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
        write_kernel_csv(nuclide, data / f"{name}_dpk_water.csv", n)
        print(f"wrote {data / f'{name}_dpk_water.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
