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

Regenerate the shipped data with ``python -m opensirt.dosimetry.electron_transport``.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

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

#: Tracking cut-off: electrons below it deposit their energy where they are (CSDA range in
#: water 2.5 micrometres, ESTAR).
CUTOFF_MEV = 0.010
#: Class II threshold ``Delta``: energy transfers above it are Moller collisions sampled
#: explicitly (secondary electrons transported), below it they are part of the restricted
#: stopping power (the EGS4 ``AE``/``ECUT`` convention: threshold equal to the tracking cut-off).
DELTA_MEV = 0.010
_MAX_LOSS_FRACTION = 0.04


def _beta2(t_mev: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    tau = t_mev / _MC2
    out: npt.NDArray[np.float64] = tau * (tau + 2.0) / (tau + 1.0) ** 2
    return out


def _density_effect(tau: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sternheimer density-effect correction ``delta`` of water (ICRU 37 eq. 2.4; SBS 1984)."""
    x = np.log10(np.sqrt(tau * (tau + 2.0)))
    s = _STERNHEIMER
    out: npt.NDArray[np.float64] = np.where(
        x >= s["X1"],
        4.6052 * x - s["C"],
        np.where(x >= s["X0"], 4.6052 * x - s["C"] + s["a"] * (s["X1"] - x) ** s["m"], 0.0),
    )
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
    log_term = np.log(tau * tau * (tau + 2.0) / (2.0 * (_WATER_I_MEV / _MC2) ** 2))
    out: npt.NDArray[np.float64] = (
        _BETHE_K * _WATER_Z_OVER_A / b2 * (log_term + f_minus - _density_effect(tau))
    )
    return out


def restricted_collision_stopping_power(
    t_mev: npt.ArrayLike, delta_mev: float = DELTA_MEV
) -> npt.NDArray[np.float64]:
    """Restricted mass collision stopping power ``L_Delta/rho`` of water, MeV cm^2/g.

    Mean energy lost per unit path in collisions that transfer less than ``delta_mev``
    (ICRU Report 37, 1984, ch. 2, restricted stopping power of electrons):
    ``L/rho = K Z/A / beta^2 [ln(2 (tau + 2) / (I/mc^2)^2) + F-(tau, d) - delta]`` with
    ``d = Delta / mc^2`` and ``F-(tau, d) = -1 - beta^2 + ln((tau - d) d) + tau / (tau - d)
    + [d^2 / 2 + (2 tau + 1) ln(1 - d / tau)] / (tau + 1)^2``. For ``T <= 2 Delta`` no
    transfer exceeds ``Delta`` (the largest is ``T/2``): the unrestricted value is returned,
    which the formula reaches continuously at ``T = 2 Delta``.

    >>> t = np.array([0.02, 1.0])
    >>> bool(np.allclose(restricted_collision_stopping_power(t, 0.01)[0],
    ...                  collision_stopping_power(0.02)))
    True
    >>> round(float(restricted_collision_stopping_power(1.0, 0.01)), 3)
    1.465
    """
    t = np.asarray(t_mev, dtype=np.float64)
    tau = t / _MC2
    d = np.minimum(delta_mev / _MC2, 0.5 * tau)
    b2 = _beta2(t)
    f_minus = (
        -1.0
        - b2
        + np.log((tau - d) * d)
        + tau / (tau - d)
        + (0.5 * d * d + (2.0 * tau + 1.0) * np.log1p(-d / tau)) / (tau + 1.0) ** 2
    )
    log_term = np.log(2.0 * (tau + 2.0) / (_WATER_I_MEV / _MC2) ** 2)
    out: npt.NDArray[np.float64] = (
        _BETHE_K * _WATER_Z_OVER_A / b2 * (log_term + f_minus - _density_effect(tau))
    )
    return out


def moller_cross_section(
    t_mev: npt.ArrayLike, delta_mev: float = DELTA_MEV
) -> npt.NDArray[np.float64]:
    """Macroscopic Moller cross-section of water (density 1) for transfers above ``delta_mev``,
    cm^-1.

    Integral of the Moller cross-section (Moller 1932, Ann Phys 406:531,
    doi:10.1002/andp.19324060506; in the form of the EGSnrc manual, Kawrakow et al., NRCC
    PIRS-701, and ICRU Report 37, ch. 2) over the fractional energy ``eps`` of the
    slower electron from ``eps0 = Delta / T`` to ``1/2``:
    ``Sigma = K Z/A / (beta^2 T) [1/eps0 - 1/(1 - eps0) + c (1/2 - eps0)
    - g ln((1 - eps0) / eps0)]`` with ``c = (tau / (tau + 1))^2``,
    ``g = (2 tau + 1) / (tau + 1)^2`` and ``K = 2 pi r_e^2 m c^2 N_A``; zero for
    ``T <= 2 Delta``. Binding of the atomic electrons is neglected (``Delta >> I``).

    >>> round(float(moller_cross_section(1.0, 0.01)), 1)
    9.3
    """
    t = np.asarray(t_mev, dtype=np.float64)
    tau = t / _MC2
    eps0 = np.minimum(delta_mev / np.maximum(t, 1e-12), 0.5)
    c = (tau / (tau + 1.0)) ** 2
    g = (2.0 * tau + 1.0) / (tau + 1.0) ** 2
    bracket = 1.0 / eps0 - 1.0 / (1.0 - eps0) + c * (0.5 - eps0) - g * np.log((1.0 - eps0) / eps0)
    out: npt.NDArray[np.float64] = np.where(
        t > 2.0 * delta_mev,
        _BETHE_K * _WATER_Z_OVER_A / (_beta2(t) * t) * np.maximum(bracket, 0.0),
        0.0,
    )
    return out


def moller_cosines(
    t_mev: npt.NDArray[np.float64], w_mev: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Polar cosines of the primary (``T - W``) and the secondary (``W``) after a collision on
    a free electron at rest: ``cos^2 theta = E'(T + 2mc^2) / (T (E' + 2mc^2))`` for each
    outgoing kinetic energy ``E'`` (two-body kinematics; EGSnrc manual PIRS-701)."""
    two_m = 2.0 * _MC2

    def cosine(e: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = np.sqrt(
            np.minimum(e * (t_mev + two_m) / (t_mev * (e + two_m)), 1.0)
        )
        return out

    return cosine(t_mev - w_mev), cosine(w_mev)


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
    t_max_mev: float = 3.0, n: int = 4000, *, delta_mev: float | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Energies (MeV) and CSDA ranges (g/cm^2) in water from 1 keV up to ``t_max_mev``.

    The range below 1 keV is taken as ``T / S(1 keV)`` (negligible: < 0.1 micrometre). With
    ``delta_mev`` the collision part is the restricted stopping power
    (:func:`restricted_collision_stopping_power`): the path length over which the *continuous*
    part of the loss takes an electron from one energy to another in Class II transport.

    >>> t, r = csda_range_table()
    >>> abs(float(np.interp(1.0, t, r)) - 0.4367) < 0.002  # ESTAR: 0.4367 g/cm^2
    True
    """
    t = np.geomspace(1e-3, t_max_mev, n)
    s_col = (
        collision_stopping_power(t)
        if delta_mev is None
        else restricted_collision_stopping_power(t, delta_mev)
    )
    inv = 1.0 / (s_col + radiative_stopping_power(t))
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


def moller_transport_cross_section(
    t_mev: npt.ArrayLike, delta_mev: float = DELTA_MEV, n: int = 256
) -> npt.NDArray[np.float64]:
    """First transport cross-section of the Moller collisions above ``delta_mev`` for the
    faster (primary) electron, water density 1, cm^-1.

    ``Sigma_1 = int_Delta^(T/2) (1 - cos theta_p(W)) dSigma/dW dW`` with the Moller
    differential cross-section (:func:`moller_cross_section`) and the two-body cosine of the
    primary; trapezoidal rule on ``n`` logarithmic points. In Class II transport these
    deflections are sampled explicitly, so they are removed from the elastic-scattering
    transport cross-section, whose ``Z(Z+1)`` term already contains all electron-electron
    scattering (as PENELOPE separates soft and hard angular deflections: Salvat, PENELOPE-2018
    manual, NEA/MBDAV/R(2019)1, ch. 4).

    >>> s1 = float(moller_transport_cross_section(1.0, 0.01))
    >>> bool(0.0 < s1 < 0.1 * float(moller_cross_section(1.0, 0.01)))
    True
    """
    t = np.atleast_1d(np.asarray(t_mev, dtype=np.float64))
    out = np.zeros_like(t)
    ok = t > 2.0 * delta_mev
    tk = t[ok][:, None]
    w = delta_mev * (tk / (2.0 * delta_mev)) ** np.linspace(0.0, 1.0, n)[None, :]
    m = _MC2
    dsdw = (_BETHE_K * _WATER_Z_OVER_A / _beta2(tk)) * (
        1.0 / w**2
        + 1.0 / (tk - w) ** 2
        + 1.0 / (tk + m) ** 2
        - (2.0 * tk + m) * m / ((tk + m) ** 2 * w * (tk - w))
    )
    mu_primary, _ = moller_cosines(np.broadcast_to(tk, w.shape), w)
    out[ok] = np.trapezoid((1.0 - mu_primary) * dsdw, w, axis=1)
    return out.reshape(np.shape(t_mev))


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


def sample_moller_fraction(
    t_mev: npt.NDArray[np.float64], rng: np.random.Generator, delta_mev: float = DELTA_MEV
) -> npt.NDArray[np.float64]:
    """Fractional energy ``eps = W / T`` of the slower electron after a Moller collision.

    Sampled from ``1/eps^2`` on ``[Delta/T, 1/2]`` by inversion,
    ``eps = eps0 / (1 - u (1 - 2 eps0))``, and accepted with probability
    ``eps^2 (dsigma/deps) / (2 + c/4)`` where ``eps^2 dsigma/deps ~ 1 + (eps/(1 - eps))^2 +
    c eps^2 - g eps/(1 - eps) <= 2 + c/4`` (the EGSnrc scheme, PIRS-701; ``c``
    and ``g`` as in :func:`moller_cross_section`). Requires ``T > 2 Delta``.
    """
    tau = t_mev / _MC2
    eps0 = delta_mev / t_mev
    c = (tau / (tau + 1.0)) ** 2
    g = (2.0 * tau + 1.0) / (tau + 1.0) ** 2
    eps = np.empty_like(t_mev)
    todo = np.arange(t_mev.size)
    while todo.size:
        e0 = eps0[todo]
        trial = e0 / (1.0 - rng.random(todo.size) * (1.0 - 2.0 * e0))
        ratio = trial / (1.0 - trial)
        h = 1.0 + ratio * ratio + c[todo] * trial * trial - g[todo] * ratio
        accept = rng.random(todo.size) * (2.0 + 0.25 * c[todo]) <= h
        eps[todo[accept]] = trial[accept]
        todo = todo[~accept]
    return eps


@dataclass(frozen=True)
class _Medium:
    """Tables and tallies shared by the transport steps (water, density 1)."""

    table_t: npt.NDArray[np.float64]
    table_r: npt.NDArray[np.float64]
    table_lambda_cm: npt.NDArray[np.float64]
    delta_mev: float
    shell_mm: float
    tally: npt.NDArray[np.float64]

    def deposit(self, pos_mm: npt.NDArray[np.float64], energy: npt.NDArray[np.float64]) -> None:
        shell = (np.linalg.norm(pos_mm, axis=1) / self.shell_mm).astype(int)
        np.add.at(self.tally, np.minimum(shell, self.tally.size - 1), energy)


_Electrons = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]


class _Step(NamedTuple):
    """One condensed-history step of every electron."""

    step_cm: npt.NDArray[np.float64]  # path length
    hard: npt.NDArray[np.bool_]  # ends in a Moller collision
    last: npt.NDArray[np.bool_]  # brings the electron down to the cut-off
    t_mid_mev: npt.NDArray[np.float64]  # mid-step energy
    radiative_mev: npt.NDArray[np.float64]  # bremsstrahlung loss (escapes)
    collision_mev: npt.NDArray[np.float64]  # straggled restricted collision loss


def _continuous_step(
    t: npt.NDArray[np.float64], medium: _Medium, rng: np.random.Generator
) -> _Step:
    """Path length, Moller flag and energy losses of one condensed-history step.

    The step ends after a ``_MAX_LOSS_FRACTION`` mean energy loss or at the next Moller
    collision (distance exponential with the cross-section at the mid-step energy), whichever
    comes first. The soft collision loss fluctuates as a Gaussian with the Bohr variance of
    transfers below ``Delta``, ``Omega^2 = K (Z/A) s Delta (1 - beta^2/2) / beta^2``
    (Bohr 1915, Phil Mag 30:581; Particle Data Group, Review of Particle Physics, "Passage of
    particles through matter", thick-absorber limit with ``W_max -> Delta``), truncated to
    the physical range ``[0, T - radiative loss]``.
    """
    tt, tr = medium.table_t, medium.table_r
    planned = np.minimum(t * _MAX_LOSS_FRACTION, t - CUTOFF_MEV)
    r_t = np.interp(t, tt, tr)
    full_cm = r_t - np.interp(t - planned, tt, tr)
    sigma = moller_cross_section(t - 0.5 * planned, medium.delta_mev)
    free_path = -np.log1p(-rng.random(t.size))
    s_hard = np.divide(free_path, sigma, out=np.full(t.size, np.inf), where=sigma > 0)
    hard = s_hard < full_cm
    step_cm = np.where(hard, s_hard, full_cm)
    loss = np.where(hard, t - np.interp(r_t - step_cm, tr, tt), planned)
    t_mid = t - 0.5 * loss
    s_col = restricted_collision_stopping_power(t_mid, medium.delta_mev)
    s_rad = radiative_stopping_power(t_mid)
    rad = loss * s_rad / (s_col + s_rad)
    b2 = _beta2(t_mid)
    var = _BETHE_K * _WATER_Z_OVER_A * step_cm * medium.delta_mev * (1.0 - 0.5 * b2) / b2
    col = np.clip(loss - rad + rng.standard_normal(t.size) * np.sqrt(var), 0.0, t - rad)
    last = ~hard & (t - planned <= CUTOFF_MEV * 1.0001)
    return _Step(step_cm, hard, last, t_mid, rad, col)


def _moller_collisions(
    t: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    hard: npt.NDArray[np.bool_],
    medium: _Medium,
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Apply the Moller collisions flagged ``hard`` in place (energy and direction of the
    primaries); return the secondaries' energies, indices of their parents and directions."""
    idx = np.flatnonzero(hard & (t > 2.0 * medium.delta_mev))
    t_hard = t[idx]
    w = sample_moller_fraction(t_hard, rng, medium.delta_mev) * t_hard
    mu_primary, mu_secondary = moller_cosines(t_hard, w)
    phi = 2.0 * np.pi * rng.random(idx.size)
    d_secondary = _rotate(d[idx], mu_secondary, phi + np.pi)
    d[idx] = _rotate(d[idx], mu_primary, phi)
    t[idx] = t_hard - w
    return w, idx, d_secondary


def _transport_step(
    electrons: _Electrons, medium: _Medium, rng: np.random.Generator
) -> tuple[_Electrons, float]:
    """Move every electron one step: returns the electrons still above the cut-off (primaries
    and new secondaries) and the energy radiated (MeV)."""
    t, pos, d = electrons
    step_cm, hard, last, t_mid, rad, col = _continuous_step(t, medium, rng)
    hinge = rng.random(t.size)
    pos = pos + d * (hinge * step_cm)[:, None] * 10.0
    g = np.exp(-step_cm / np.interp(t_mid, medium.table_t, medium.table_lambda_cm))
    d = _rotate(d, _henyey_greenstein(g, rng.random(t.size)), 2 * np.pi * rng.random(t.size))
    medium.deposit(pos, col)
    pos += d * ((1.0 - hinge) * step_cm)[:, None] * 10.0
    t = t - rad - col
    w, parent, d_secondary = _moller_collisions(t, d, hard, medium, rng)
    t = np.concatenate([t, w])
    pos = np.concatenate([pos, pos[parent]])
    d = np.concatenate([d, d_secondary])
    alive = t > CUTOFF_MEV * 1.0001
    alive[: last.size] &= ~last
    # electrons at the cut-off deposit their residual energy where they stop
    medium.deposit(pos[~alive], t[~alive])
    return (t[alive], pos[alive], d[alive]), float(rad.sum())


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
    table_t, table_r = csda_range_table(float(t.max()) * 1.01, delta_mev=delta_mev)
    edges = np.arange(0.0, r_max_mm + shell_mm / 2, shell_mm)
    # soft elastic + soft inelastic deflections: the hard Moller part is sampled explicitly
    inv_lambda = 1.0 / transport_mean_free_path_cm(table_t)
    table_lambda = 1.0 / (inv_lambda - moller_transport_cross_section(table_t, delta_mev))
    medium = _Medium(table_t, table_r, table_lambda, delta_mev, shell_mm, np.zeros(edges.size - 1))
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
    """Simulate the point kernel of ``nuclide`` and write it (atomically) as CSV to ``path``."""
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
    """Regenerate the kernel files: ``python -m opensirt.dosimetry.electron_transport [N]``."""
    n = int(argv[0]) if argv else 1_000_000
    data = Path(__file__).resolve().parent / "data"
    for nuclide, name in ((NuclideName.Y90, "y90"), (NuclideName.HO166, "ho166")):
        write_kernel_csv(nuclide, data / f"{name}_dpk_water.csv", n)
        print(f"wrote {data / f'{name}_dpk_water.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
