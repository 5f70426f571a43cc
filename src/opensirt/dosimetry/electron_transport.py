"""Electron stopping powers in water and a condensed-history transport that builds the beta dose
point kernels shipped in ``dosimetry/data``.

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
  Dosimetry, ch. 8; Heitler 1954). Bremsstrahlung photons are assumed to escape: their
  energy is not deposited (for Y-90 about 0.5 % of the beta energy).
* Angular deflections: screened-Rutherford (Wentzel) elastic scattering on the nuclei and the
  atomic electrons (``Z^2 -> Z(Z+1)``) with the Moliere screening parameter
  ``A = (hbar / 2 p a_TF)^2 (1.13 + 3.76 (alpha Z / beta)^2)``; the transport mean free path
  ``lambda_1`` follows in closed form, and each step of length ``s`` is deflected with a
  Henyey-Greenstein angle whose mean cosine is the Goudsmit-Saunderson value
  ``exp(-s / lambda_1)`` (Goudsmit & Saunderson 1940, Phys Rev 57:24,
  doi:10.1103/PhysRev.57.24; Moliere 1947, Z Naturforsch 2a:133).
* Continuous slowing down (no energy-loss straggling, delta rays absorbed locally), steps of
  at most 4 % energy loss with a random hinge, cut-off 10 keV (CSDA range 2.5 micrometres).

The resulting kernels are energy-conserving by construction and agree in range with ESTAR.
They are *not* a substitute for published Monte Carlo kernels (Botta et al. 2011,
doi:10.1118/1.3586797; Graves et al. 2019, doi:10.1002/mp.13789); see docs/dosimetry.md for
the comparison and the known differences (straggling and delta-ray transport are neglected).

Regenerate the shipped data with ``python -m opensirt.dosimetry.electron_transport``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import (
    ELECTRON_REST_ENERGY_MEV,
    FINE_STRUCTURE,
    beta_spectrum,
)
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

_MC2 = ELECTRON_REST_ENERGY_MEV
#: 2 pi r_e^2 m c^2 N_A, MeV cm^2 / mol (ICRU 37 eq. 2.2 prefactor; CODATA 2018 constants).
_BETHE_K = 0.153537
#: Classical electron radius, cm (CODATA 2018).
_R_E_CM = 2.8179403262e-13
_AVOGADRO = 6.02214076e23
_HBAR_C_MEV_FM = 197.3269804
_BOHR_FM = 52917.721090

# Water (liquid): composition by molecule, Z/A, I and Sternheimer parameters (ICRU 37; SBS 1984).
_WATER_ATOMS = ((1, 2), (8, 1))
_WATER_MOLAR_MASS = 18.0153
_WATER_Z_OVER_A = 10.0 / _WATER_MOLAR_MASS
_WATER_I_MEV = 75.0e-6
_STERNHEIMER = {"C": 3.5017, "X0": 0.2400, "X1": 2.8004, "a": 0.09116, "m": 3.4773}

CUTOFF_MEV = 0.010
_MAX_LOSS_FRACTION = 0.04


def _beta2(t_mev: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    tau = t_mev / _MC2
    out: npt.NDArray[np.float64] = tau * (tau + 2.0) / (tau + 1.0) ** 2
    return out


def collision_stopping_power(t_mev: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Mass collision stopping power of water for electrons, MeV cm^2/g (ICRU 37).

    >>> abs(float(collision_stopping_power(1.0)) - 1.849) < 0.01  # ESTAR: 1.849
    True
    """
    t = np.asarray(t_mev, dtype=np.float64)
    tau = t / _MC2
    b2 = _beta2(t)
    f_minus = 1.0 - b2 + (tau * tau / 8.0 - (2.0 * tau + 1.0) * math.log(2.0)) / (tau + 1.0) ** 2
    x = np.log10(np.sqrt(tau * (tau + 2.0)))
    s = _STERNHEIMER
    delta = np.where(
        x >= s["X1"],
        4.6052 * x - s["C"],
        np.where(x >= s["X0"], 4.6052 * x - s["C"] + s["a"] * (s["X1"] - x) ** s["m"], 0.0),
    )
    log_term = np.log(tau * tau * (tau + 2.0) / (2.0 * (_WATER_I_MEV / _MC2) ** 2))
    out: npt.NDArray[np.float64] = _BETHE_K * _WATER_Z_OVER_A / b2 * (log_term + f_minus - delta)
    return out


def radiative_stopping_power(t_mev: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Mass radiative stopping power of water, MeV cm^2/g (Bethe-Heitler, unscreened).

    >>> round(float(radiative_stopping_power(1.0)), 4)  # ESTAR: 0.0129
    0.0128
    """
    t = np.asarray(t_mev, dtype=np.float64)
    e_total = t + _MC2
    phi = np.maximum(16.0 / 3.0, 4.0 * np.log(2.0 * e_total / _MC2) - 4.0 / 3.0)
    zz = sum(n * z * (z + 1) for z, n in _WATER_ATOMS)
    prefactor = _AVOGADRO / _WATER_MOLAR_MASS * FINE_STRUCTURE * _R_E_CM**2 * zz
    out: npt.NDArray[np.float64] = prefactor * e_total * phi
    return out


def csda_range_table(
    t_max_mev: float = 3.0, n: int = 4000
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Energies (MeV) and CSDA ranges (g/cm^2) in water from 1 keV up to ``t_max_mev``.

    The range below 1 keV is taken as ``T / S(1 keV)`` (negligible: < 0.1 micrometre).

    >>> t, r = csda_range_table()
    >>> abs(float(np.interp(1.0, t, r)) - 0.4367) < 0.002  # ESTAR: 0.4367 g/cm^2
    True
    """
    t = np.geomspace(1e-3, t_max_mev, n)
    s_tot = collision_stopping_power(t) + radiative_stopping_power(t)
    inv = 1.0 / s_tot
    steps = 0.5 * (inv[1:] + inv[:-1]) * np.diff(t)
    r = np.concatenate([[t[0] * inv[0]], t[0] * inv[0] + np.cumsum(steps)])
    return t, r


def transport_mean_free_path_cm(t_mev: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """First transport mean free path of electrons in water (density 1), cm.

    Screened Rutherford (Wentzel) cross-section with Moliere screening, closed form
    ``sigma_1 = 2 pi Z(Z+1) (r_e m c^2 / p beta c)^2 [ln(1 + 1/A) - 1/(1 + A)]``.
    """
    t = np.asarray(t_mev, dtype=np.float64)
    pc = np.sqrt(t * (t + 2.0 * _MC2))
    beta2 = _beta2(t)
    p_beta_c = pc * pc / (t + _MC2)
    n_molecules = _AVOGADRO / _WATER_MOLAR_MASS  # per cm^3 at 1 g/cm^3
    inv_lambda = np.zeros_like(t)
    for z, count in _WATER_ATOMS:
        a_tf = 0.88534 * _BOHR_FM * z ** (-1.0 / 3.0)
        screening = (_HBAR_C_MEV_FM / (2.0 * pc * a_tf)) ** 2 * (
            1.13 + 3.76 * (FINE_STRUCTURE * z) ** 2 / beta2
        )
        k = z * (z + 1) * (_R_E_CM * _MC2 / p_beta_c) ** 2
        sigma1 = 2.0 * math.pi * k * (np.log1p(1.0 / screening) - 1.0 / (1.0 + screening))
        inv_lambda += count * n_molecules * sigma1
    out: npt.NDArray[np.float64] = 1.0 / inv_lambda
    return out


def _henyey_greenstein(
    g: npt.NDArray[np.float64], u: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Cosines sampled from the Henyey-Greenstein law with mean cosine ``g`` (0 < g < 1)."""
    g = np.clip(g, 1e-6, 1.0 - 1e-9)
    frac = (1.0 - g * g) / (1.0 - g + 2.0 * g * u)
    out: npt.NDArray[np.float64] = np.clip((1.0 + g * g - frac * frac) / (2.0 * g), -1.0, 1.0)
    return out


def _rotate(
    d: npt.NDArray[np.float64], mu: npt.NDArray[np.float64], phi: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Directions ``d`` (N, 3) turned by polar cosine ``mu`` and azimuth ``phi``."""
    sin_t = np.sqrt(1.0 - mu * mu)
    # an orthonormal pair perpendicular to d
    helper = np.where(np.abs(d[:, 2:3]) < 0.9, [[0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0]])
    e1 = np.cross(d, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(d, e1)
    out = (
        d * mu[:, None] + e1 * (sin_t * np.cos(phi))[:, None] + e2 * (sin_t * np.sin(phi))[:, None]
    )
    norm: npt.NDArray[np.float64] = out / np.linalg.norm(out, axis=1, keepdims=True)
    return norm


def simulate_point_kernel(
    nuclide: Nuclide | NuclideName | str,
    n_electrons: int = 200_000,
    *,
    shell_mm: float = 0.05,
    r_max_mm: float = 15.0,
    seed: int = 20240601,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Radial energy deposition around a point source of ``nuclide`` in water (1 g/cm^3).

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
    energy, probability = beta_spectrum(nuclide)
    t = rng.choice(energy, size=n_electrons, p=probability)
    t = t + (rng.random(n_electrons) - 0.5) * (energy[1] - energy[0])
    emitted = float(t.sum())
    table_t, table_r = csda_range_table(float(t.max()) * 1.01)
    edges = np.arange(0.0, r_max_mm + shell_mm / 2, shell_mm)
    tally = np.zeros(edges.size - 1)
    pos = np.zeros((n_electrons, 3))
    d = np.tile([0.0, 0.0, 1.0], (n_electrons, 1))
    radiative = 0.0
    slow = t <= CUTOFF_MEV
    tally[0] += float(t[slow].sum())
    t, pos, d = t[~slow], pos[~slow], d[~slow]
    while t.size:
        loss = np.minimum(t * _MAX_LOSS_FRACTION, t - CUTOFF_MEV)
        t_mid = np.maximum(t - 0.5 * loss, 1e-3)
        step_cm = np.interp(t, table_t, table_r) - np.interp(t - loss, table_t, table_r)
        s_col = collision_stopping_power(t_mid)
        rad_share = radiative_stopping_power(t_mid) / (s_col + radiative_stopping_power(t_mid))
        radiative += float((loss * rad_share).sum())
        hinge = rng.random(t.size)
        pos += d * (hinge * step_cm)[:, None] * 10.0
        g = np.exp(-step_cm / transport_mean_free_path_cm(t_mid))
        d = _rotate(d, _henyey_greenstein(g, rng.random(t.size)), 2 * np.pi * rng.random(t.size))
        r_dep = np.linalg.norm(pos, axis=1)
        np.add.at(
            tally,
            np.minimum((r_dep / shell_mm).astype(int), tally.size - 1),
            loss * (1 - rad_share),
        )
        pos += d * ((1.0 - hinge) * step_cm)[:, None] * 10.0
        t = t - loss
        alive = t > CUTOFF_MEV * 1.0001
        # electrons at the cut-off deposit their residual energy where they stop
        r_end = np.linalg.norm(pos[~alive], axis=1)
        np.add.at(tally, np.minimum((r_end / shell_mm).astype(int), tally.size - 1), t[~alive])
        t, pos, d = t[alive], pos[alive], d[alive]
    return edges[1:], tally / emitted, radiative / emitted


def write_kernel_csv(nuclide: Nuclide | NuclideName | str, path: Path, n_electrons: int) -> None:
    """Simulate the point kernel of ``nuclide`` and write it (atomically) as CSV to ``path``."""
    nuc = get_nuclide(nuclide)
    r_mm, fraction, radiative = simulate_point_kernel(nuc, n_electrons)
    cumulative = np.cumsum(fraction)
    lines = [
        f"# Beta dose point kernel of {nuc.name} in liquid water (1.000 g/cm^3), point source.",
        "# Generated by opensirt.dosimetry.electron_transport (condensed-history electron",
        "# transport: ICRU 37 stopping powers, Moliere-screened Wentzel transport mean free",
        "# path, CSDA, bremsstrahlung escapes); beta spectrum from Fermi theory with ENSDF",
        f"# end points. Electrons simulated: {n_electrons}.",
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
    """Regenerate the kernel files: ``python -m opensirt.dosimetry.electron_transport [N]``."""
    n = int(argv[0]) if argv else 1_000_000
    data = Path(__file__).resolve().parent / "data"
    for nuclide, name in ((NuclideName.Y90, "y90"), (NuclideName.HO166, "ho166")):
        write_kernel_csv(nuclide, data / f"{name}_dpk_water.csv", n)
        print(f"wrote {data / f'{name}_dpk_water.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
