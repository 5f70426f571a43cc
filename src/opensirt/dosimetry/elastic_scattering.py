"""Elastic scattering of electrons for the condensed-history transport: a mixed scheme.

Cross-section: each element is a screened-Rutherford (Wentzel) centre,
``dsigma/dmu = pi (r_e m c^2 / p beta c)^2 [Z^2 R(mu) + Z] / (mu + A)^2`` per atom, with
``mu = (1 - cos theta)/2``, the atomic electrons counted by the ``Z`` term, the Moliere
screening parameter ``A = (hbar / 2 p a_TF)^2 (1.13 + 3.76 (alpha Z / beta)^2)``,
``a_TF = 0.88534 a_0 Z^(-1/3)`` (Moliere 1947, Z Naturforsch 2a:133), and ``R`` the
McKinley-Feshbach ratio of the Mott (Dirac) to the Rutherford cross-section of a light
nucleus, ``R = 1 - beta^2 mu + pi alpha Z beta (sqrt(mu) - mu)`` (McKinley & Feshbach 1948,
Phys Rev 74:1759, doi:10.1103/PhysRev.74.1759; the electron's spin lowers large-angle
scattering, by ``beta^2`` at 180 degrees).

Mixed simulation (the scheme of PENELOPE: Baro et al. 1995, Nucl Instrum Methods B 100:31,
doi:10.1016/0168-583X(95)00349-5; Salvat, PENELOPE-2018 manual, NEA/MBDAV/R(2019)1, ch. 4):
collisions that deflect by more than a cut ``mu_c`` are *hard* and sampled one by one from
the exact cross-section; ``mu_c`` is set at each energy so that the hard mean free path is
``C1 = 0.05`` transport mean free paths (within PENELOPE's recommended 0.01-0.1). The many
*soft* deflections below ``mu_c`` are lumped per step into one deflection with the exact first and
second moments of the soft part (Goudsmit-Saunderson: ``<P_l> = exp(-s Sigma_l^soft)``); the
result does not depend on the shape beyond those moments (Lewis 1950, Phys Rev 78:526,
doi:10.1103/PhysRev.78.526). So the angular distribution of any step is exact for the model
cross-section, which a single multiple-scattering law (e.g. Henyey-Greenstein with the right
mean cosine) is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import ELECTRON_REST_ENERGY_MEV, FINE_STRUCTURE
from opensirt.dosimetry.materials import WATER, Material

#: Classical electron radius, cm (CODATA 2018).
CLASSICAL_ELECTRON_RADIUS_CM = 2.8179403262e-13
#: Avogadro constant, 1/mol (SI 2019 exact).
AVOGADRO_PER_MOL = 6.02214076e23
_HBAR_C_MEV_FM = 197.3269804  # CODATA 2018
_BOHR_FM = 52917.721090  # CODATA 2018
_MC2 = ELECTRON_REST_ENERGY_MEV
#: Hard elastic mean free path in units of the transport mean free path (PENELOPE ``C1``).
HARD_PATH_FRACTION = 0.05

_Array = npt.NDArray[np.float64]


def _kinematics(t: _Array) -> tuple[_Array, _Array, _Array]:
    """``p c``, ``beta^2`` and ``p beta c`` (MeV) of electrons of kinetic energy ``t``."""
    pc = np.sqrt(t * (t + 2.0 * _MC2))
    e = t + _MC2
    return pc, (pc / e) ** 2, pc * pc / e


def _screening(z: int, pc: _Array, beta2: _Array) -> _Array:
    """Moliere screening parameter ``A`` of element ``z``."""
    a_tf = 0.88534 * _BOHR_FM * z ** (-1.0 / 3.0)
    out: _Array = (_HBAR_C_MEV_FM / (2.0 * pc * a_tf)) ** 2 * (
        1.13 + 3.76 * (FINE_STRUCTURE * z) ** 2 / beta2
    )
    return out


def _mott_ratio(z: int, beta2: _Array, mu: _Array, mott: bool) -> _Array:
    """McKinley-Feshbach ``R(mu)`` (1 without the Mott correction)."""
    if not mott:
        return np.ones_like(mu * beta2)
    out: _Array = (
        1.0 - beta2 * mu + math.pi * FINE_STRUCTURE * z * np.sqrt(beta2) * (np.sqrt(mu) - mu)
    )
    return out


def _moments_below(
    z: int, screening: _Array, beta2: _Array, mu_max: _Array, mott: bool, n: int
) -> tuple[_Array, _Array]:
    """``int (2 mu, 6 mu (1 - mu)) [Z^2 R + Z] / (mu + A)^2 dmu`` from 0 to ``mu_max``
    (per unit ``pi (r_e m c^2 / p beta c)^2``): trapezoidal rule in ``ln mu``."""
    lo = np.log(screening * 1e-6)
    hi = np.log(np.maximum(mu_max, screening * 1e-6))
    log_mu = lo + (hi - lo) * np.linspace(0.0, 1.0, n)[None, :]
    mu = np.exp(log_mu)
    weight = z * z * _mott_ratio(z, beta2, mu, mott) + z
    f = weight * mu / (mu + screening) ** 2
    m1 = np.asarray(np.trapezoid(2.0 * mu * f, log_mu, axis=1), dtype=np.float64)
    m2 = np.asarray(np.trapezoid(6.0 * mu * (1.0 - mu) * f, log_mu, axis=1), dtype=np.float64)
    return m1, m2


def elastic_transport_cross_sections(
    t_mev: npt.ArrayLike, material: Material = WATER, *, mott: bool = True, n: int = 600
) -> tuple[_Array, _Array]:
    """First and second transport cross-sections of elastic scattering, cm^-1 at 1 g/cm^3.

    ``Sigma_l = N int (1 - P_l(cos theta)) dsigma`` with ``1 - P_1 = 2 mu`` and
    ``1 - P_2 = 6 mu (1 - mu)``, for the cross-section of the module docstring; trapezoidal
    rule in ``ln mu`` on ``n`` points (without the Mott factor it reproduces the closed form
    ``2 pi k [ln(1 + 1/A) - 1/(1 + A)]`` to 1e-6).

    Parameters
    ----------
    t_mev : array_like
        Electron kinetic energies (MeV), > 0.
    material : Material, optional
        The medium, default liquid water.
    mott : bool, optional
        Apply the Mott (spin) correction to nuclear scattering (default True).
    n : int, optional
        Quadrature points in ``ln mu`` (default 600).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        ``(Sigma_1, Sigma_2)`` (cm^-1, medium at 1 g/cm^3), each of the shape of ``t_mev``.

    Examples
    --------
    >>> s1, s2 = elastic_transport_cross_sections(1.0)
    >>> bool(2.0 < float(s2 / s1) < 3.0)
    True
    """
    t = np.atleast_1d(np.asarray(t_mev, dtype=np.float64))[:, None]
    pc, beta2, p_beta_c = _kinematics(t)
    k = math.pi * (CLASSICAL_ELECTRON_RADIUS_CM * _MC2 / p_beta_c[:, 0]) ** 2 * AVOGADRO_PER_MOL
    sigma1 = np.zeros(t.shape[0])
    sigma2 = np.zeros(t.shape[0])
    for z, moles_per_g in material.moles_per_gram:
        m1, m2 = _moments_below(z, _screening(z, pc, beta2), beta2, np.ones_like(t), mott, n)
        sigma1 += k * moles_per_g * m1
        sigma2 += k * moles_per_g * m2
    shape = np.shape(t_mev)
    return sigma1.reshape(shape), sigma2.reshape(shape)


@dataclass(frozen=True)
class MixedElastic:
    """Tables of the mixed elastic-scattering model on an energy grid (medium at 1 g/cm^3).

    Attributes
    ----------
    table_t : ndarray
        Kinetic energies (MeV), increasing.
    z : tuple of int
        Atomic numbers of the elements.
    screening : ndarray
        ``A`` per element and energy, shape ``(len(z), len(table_t))``.
    mu_cut : ndarray
        Hard-collision cut ``mu_c`` per energy.
    hard_rate : ndarray
        Rate (cm^-1) of candidate hard collisions per element and energy, with the Mott
        factor replaced by its maximum (thinned back by rejection when sampled).
    soft_sigma1, soft_sigma2 : ndarray
        First and second transport cross-sections (cm^-1) of the soft collisions.
    mott : bool
        Whether the Mott factor is applied.
    """

    table_t: _Array
    z: tuple[int, ...]
    screening: _Array
    mu_cut: _Array
    hard_rate: _Array
    soft_sigma1: _Array
    soft_sigma2: _Array
    mott: bool

    def soft_moments(self, t_mev: _Array, step_cm: _Array) -> tuple[_Array, _Array]:
        """``<mu>`` and ``<mu^2>`` of the soft deflection over steps of ``step_cm`` at
        energies ``t_mev`` (Goudsmit-Saunderson moments).

        Parameters
        ----------
        t_mev : numpy.ndarray
            Mid-step kinetic energies (MeV).
        step_cm : numpy.ndarray
            Step lengths (cm at 1 g/cm^3), shape of ``t_mev``.

        Returns
        -------
        tuple of (numpy.ndarray, numpy.ndarray)
            ``<mu>`` and ``<mu^2>``, shape of ``t_mev``.
        """
        s1 = np.interp(t_mev, self.table_t, self.soft_sigma1)
        s2 = np.interp(t_mev, self.table_t, self.soft_sigma2)
        mean_mu = 0.5 * (1.0 - np.exp(-step_cm * s1))
        return mean_mu, (np.exp(-step_cm * s2) - 1.0 + 6.0 * mean_mu) / 6.0

    def hard_rates(self, t_mev: _Array) -> _Array:
        """Candidate hard-collision rates (cm^-1) per element at ``t_mev``.

        Parameters
        ----------
        t_mev : numpy.ndarray
            Kinetic energies (MeV).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(z), t_mev.size)``.
        """
        return np.stack([np.interp(t_mev, self.table_t, r) for r in self.hard_rate])

    def sample_hard(self, t_mev: _Array, rng: np.random.Generator) -> _Array:
        """``mu`` of one candidate hard collision per electron (0 where it is thinned away).

        The element is chosen by its candidate rate; ``mu`` in ``[mu_c, 1]`` by inversion of
        the screened-Rutherford law, ``mu = 1 / (1/(mu_c + A) - u (1/(mu_c + A) - 1/(1 + A)))
        - A``; accepted with probability ``(Z^2 R(mu) + Z) / (Z^2 R_max + Z)``.

        Parameters
        ----------
        t_mev : numpy.ndarray
            Kinetic energies (MeV) of the colliding electrons.
        rng : numpy.random.Generator
            Random number source.

        Returns
        -------
        numpy.ndarray
            ``mu = (1 - cos theta)/2``, shape of ``t_mev``.
        """
        rates = self.hard_rates(t_mev)
        cum = np.cumsum(rates, axis=0)
        pick = (rng.random(t_mev.size) * cum[-1] > cum).sum(axis=0)
        pick = np.minimum(pick, len(self.z) - 1)
        z = np.asarray(self.z, dtype=np.float64)[pick]
        screening = np.stack([np.interp(t_mev, self.table_t, a) for a in self.screening])
        a = screening[pick, np.arange(t_mev.size)]
        mu_c = np.interp(t_mev, self.table_t, self.mu_cut)
        inv_c, inv_1 = 1.0 / (mu_c + a), 1.0 / (1.0 + a)
        mu = np.clip(1.0 / (inv_c - rng.random(t_mev.size) * (inv_c - inv_1)) - a, 0.0, 1.0)
        _, beta2, _ = _kinematics(t_mev)
        if self.mott:
            r = (
                1.0
                - beta2 * mu
                + math.pi * FINE_STRUCTURE * z * np.sqrt(beta2) * (np.sqrt(mu) - mu)
            )
            r_max = 1.0 + 0.25 * math.pi * FINE_STRUCTURE * z * np.sqrt(beta2)
            accept = rng.random(t_mev.size) * (z * z * r_max + z) <= z * z * r + z
            mu = np.where(accept, mu, 0.0)
        out: _Array = mu
        return out


def mixed_elastic_tables(
    table_t: _Array, material: Material = WATER, *, mott: bool = True, n: int = 400
) -> MixedElastic:
    """Build the mixed elastic-scattering tables of ``material`` on the energies ``table_t``.

    ``mu_c`` solves ``sum_i Sigma_hard,i(mu_c) = 1 / (C1 lambda_1)`` (bisection in
    ``ln mu_c``; :data:`HARD_PATH_FRACTION` is ``C1``), with ``Sigma_hard,i = N_i pi k
    (Z^2 R_max + Z) [1/(mu_c + A) - 1/(1 + A)]``; when even all collisions are rarer than
    that (low energies) every collision is hard (``mu_c = 0``).

    Parameters
    ----------
    table_t : numpy.ndarray
        Kinetic energies (MeV), increasing.
    material : Material, optional
        The medium, default liquid water.
    mott : bool, optional
        Apply the Mott correction (default True).
    n : int, optional
        Quadrature points for the soft moments (default 400).

    Returns
    -------
    MixedElastic
        The tables.
    """
    t = np.asarray(table_t, dtype=np.float64)[:, None]
    pc, beta2, p_beta_c = _kinematics(t)
    k = math.pi * (CLASSICAL_ELECTRON_RADIUS_CM * _MC2 / p_beta_c[:, 0]) ** 2 * AVOGADRO_PER_MOL
    elements = material.moles_per_gram
    screening = np.stack([_screening(z, pc, beta2)[:, 0] for z, _ in elements])
    beta = np.sqrt(beta2[:, 0]) if mott else np.zeros_like(k)
    strength = np.stack(
        [
            k * w * (z * z * (1.0 + 0.25 * math.pi * FINE_STRUCTURE * z * beta) + z)
            for z, w in elements
        ]
    )
    sigma1, _ = elastic_transport_cross_sections(t[:, 0], material, mott=mott)

    def hard(mu_c: _Array) -> _Array:
        out: _Array = (strength * (1.0 / (mu_c + screening) - 1.0 / (1.0 + screening))).sum(0)
        return out

    target = sigma1 / HARD_PATH_FRACTION
    lo, hi = np.full(t.shape[0], -40.0), np.zeros(t.shape[0])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        too_many = hard(np.exp(mid)) > target
        lo, hi = np.where(too_many, mid, lo), np.where(too_many, hi, mid)
    mu_cut = np.where(hard(np.zeros(t.shape[0])) > target, np.exp(hi), 0.0)
    soft1, soft2 = np.zeros(t.shape[0]), np.zeros(t.shape[0])
    for i, (z, w) in enumerate(elements):
        m1, m2 = _moments_below(z, screening[i][:, None], beta2, mu_cut[:, None], mott, n)
        has_soft = mu_cut > 0
        soft1 += np.where(has_soft, k * w * m1, 0.0)
        soft2 += np.where(has_soft, k * w * m2, 0.0)
    hard_rate = strength * (1.0 / (mu_cut + screening) - 1.0 / (1.0 + screening))
    return MixedElastic(
        t[:, 0], tuple(z for z, _ in elements), screening, mu_cut, hard_rate, soft1, soft2, mott
    )


def sample_step_deflection(
    mean_mu: npt.NDArray[np.float64],
    mean_mu2: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """Cosines of the multiple-scattering deflection over one condensed-history step, drawn
    from a distribution with the exact first two angular moments.

    Goudsmit-Saunderson theory gives the moments of ``mu = (1 - cos theta)/2`` after a path
    ``s``: ``<P_l(cos theta)> = exp(-s Sigma_l)``, so ``<mu> = (1 - exp(-s Sigma_1))/2`` and
    ``<mu^2> = (exp(-s Sigma_2) - 1 + 6 <mu>)/6``. The step deflection is sampled from the
    two-piece uniform distribution of PENELOPE (Salvat, PENELOPE-2018 manual,
    NEA/MBDAV/R(2019)1, section 4.3, artificial distribution of soft deflections):
    ``mu ~ U(0, b)`` with probability ``a`` and ``U(b, 1)`` otherwise, ``b = (2<mu> -
    3<mu^2>) / (1 - 2<mu>)``, ``a = 1 - 2<mu> + b``, whose first two moments are exact.
    Exact ``Sigma_1`` and ``Sigma_2`` per step make the mean and the mean square
    displacements of the random-hinge transport exact to first order in the step (Lewis
    1950, Phys Rev 78:526, doi:10.1103/PhysRev.78.526), whatever the shape beyond them.

    Parameters
    ----------
    mean_mu : numpy.ndarray
        ``<mu>`` per electron, in ``[0, 1/2)``.
    mean_mu2 : numpy.ndarray
        ``<mu^2>`` per electron, shape of ``mean_mu``.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    numpy.ndarray
        ``cos theta`` (dimensionless, in [-1, 1]), shape of ``mean_mu``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> m, q = np.full(200_000, 0.05), np.full(200_000, 0.02)
    >>> mu = (1.0 - sample_step_deflection(m, q, rng)) / 2.0
    >>> bool(abs(mu.mean() - 0.05) < 1e-3 and abs((mu**2).mean() - 0.02) < 1e-3)
    True
    """
    m = np.clip(mean_mu, 0.0, 0.5 - 1e-12)
    b = np.clip((2.0 * m - 3.0 * mean_mu2) / (1.0 - 2.0 * m), 0.0, 1.0)
    a = np.clip(1.0 - 2.0 * m + b, 0.0, 1.0)
    u = rng.random(m.size)
    low = rng.random(m.size) < a
    mu = np.where(low, u * b, b + u * (1.0 - b))
    out: npt.NDArray[np.float64] = 1.0 - 2.0 * mu
    return out
