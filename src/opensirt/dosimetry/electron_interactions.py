"""Electron interactions: stopping powers, Moller and elastic cross-sections of a medium.

The formulas and their sources are described in :mod:`opensirt.dosimetry.electron_transport`,
the condensed-history transport that uses them to build the beta dose point kernels; each
function below cites its own source. The medium (composition, mean excitation energy,
Sternheimer density-effect parameters) is a :class:`~opensirt.dosimetry.materials.Material`,
liquid water unless given. Energies are kinetic energies in MeV; cross-sections and path
lengths are for the medium at 1 g/cm^3 (per g/cm^2).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import ELECTRON_REST_ENERGY_MEV, FINE_STRUCTURE
from opensirt.dosimetry.elastic_scattering import (
    AVOGADRO_PER_MOL,
    CLASSICAL_ELECTRON_RADIUS_CM,
    elastic_transport_cross_sections,
)
from opensirt.dosimetry.materials import WATER, Material

_MC2 = ELECTRON_REST_ENERGY_MEV
#: 2 pi r_e^2 m c^2 N_A, MeV cm^2 / mol (ICRU 37 eq. 2.2 prefactor; CODATA 2018 constants).
_BETHE_K = 0.153537
_R_E_CM = CLASSICAL_ELECTRON_RADIUS_CM
_AVOGADRO = AVOGADRO_PER_MOL


#: Class II threshold ``Delta``: energy transfers above it are Moller collisions sampled
#: explicitly (secondary electrons transported), below it they are part of the restricted
#: stopping power (the EGS4 ``AE``/``ECUT`` convention: threshold equal to the tracking cut-off).
DELTA_MEV = 0.010


def _beta2(t_mev: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    tau = t_mev / _MC2
    out: npt.NDArray[np.float64] = tau * (tau + 2.0) / (tau + 1.0) ** 2
    return out


def _density_effect(tau: npt.NDArray[np.float64], material: Material) -> npt.NDArray[np.float64]:
    """Sternheimer density-effect correction ``delta`` (ICRU 37 eq. 2.4; SBS 1984)."""
    x = np.log10(np.sqrt(tau * (tau + 2.0)))
    s = material.sternheimer
    out: npt.NDArray[np.float64] = np.where(
        x >= s.x1,
        4.6052 * x - s.minus_c,
        np.where(x >= s.x0, 4.6052 * x - s.minus_c + s.a * (s.x1 - x) ** s.m, 0.0),
    )
    return out


def _bethe(
    tau: npt.NDArray[np.float64],
    b2: npt.NDArray[np.float64],
    bracket: npt.NDArray[np.float64],
    material: Material,
) -> npt.NDArray[np.float64]:
    """``K Z/A / beta^2 [bracket - delta]``: the Bethe form shared by the collision stopping
    power and its restricted part (ICRU 37 eq. 2.2), MeV cm^2/g."""
    out: npt.NDArray[np.float64] = (
        _BETHE_K * material.z_over_a / b2 * (bracket - _density_effect(tau, material))
    )
    return out


def collision_stopping_power(
    t_mev: npt.ArrayLike, material: Material = WATER
) -> npt.NDArray[np.float64]:
    """Mass collision stopping power for electrons, MeV cm^2/g (ICRU 37).

    Parameters
    ----------
    t_mev : array_like
        Electron kinetic energies (MeV), > 0.
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``S_col/rho`` (MeV cm^2/g), float64, shape of ``t_mev``.

    Examples
    --------
    >>> abs(float(collision_stopping_power(1.0)) - 1.849) < 0.01  # ESTAR: 1.849
    True
    """
    t = np.asarray(t_mev, dtype=np.float64)
    tau = t / _MC2
    b2 = _beta2(t)
    f_minus = 1.0 - b2 + (tau * tau / 8.0 - (2.0 * tau + 1.0) * math.log(2.0)) / (tau + 1.0) ** 2
    i_rel = material.mean_excitation_mev / _MC2
    log_term = np.log(tau * tau * (tau + 2.0) / (2.0 * i_rel**2))
    return _bethe(tau, b2, log_term + f_minus, material)


def restricted_collision_stopping_power(
    t_mev: npt.ArrayLike, delta_mev: float = DELTA_MEV, material: Material = WATER
) -> npt.NDArray[np.float64]:
    """Restricted mass collision stopping power ``L_Delta/rho``, MeV cm^2/g.

    Mean energy lost per unit path in collisions that transfer less than ``delta_mev``
    (ICRU Report 37, 1984, ch. 2, restricted stopping power of electrons):
    ``L/rho = K Z/A / beta^2 [ln(2 (tau + 2) / (I/mc^2)^2) + F-(tau, d) - delta]`` with
    ``d = Delta / mc^2`` and ``F-(tau, d) = -1 - beta^2 + ln((tau - d) d) + tau / (tau - d)
    + [d^2 / 2 + (2 tau + 1) ln(1 - d / tau)] / (tau + 1)^2``. For ``T <= 2 Delta`` no
    transfer exceeds ``Delta`` (the largest is ``T/2``): the unrestricted value is returned,
    which the formula reaches continuously at ``T = 2 Delta``.

    Parameters
    ----------
    t_mev : array_like
        Electron kinetic energies (MeV), > 0.
    delta_mev : float, optional
        Energy-transfer threshold ``Delta`` (MeV), default :data:`DELTA_MEV` (10 keV).
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``L_Delta/rho`` (MeV cm^2/g), float64, shape of ``t_mev``.

    Examples
    --------
    >>> t = np.array([0.02, 1.0])
    >>> bool(np.allclose(restricted_collision_stopping_power(t, 0.01)[0],
    ...                  collision_stopping_power(0.02)))
    True
    >>> round(float(restricted_collision_stopping_power(1.0, 0.01)), 3)
    1.466
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
    log_term = np.log(2.0 * (tau + 2.0) / (material.mean_excitation_mev / _MC2) ** 2)
    return _bethe(tau, b2, log_term + f_minus, material)


def moller_cross_section(
    t_mev: npt.ArrayLike, delta_mev: float = DELTA_MEV, material: Material = WATER
) -> npt.NDArray[np.float64]:
    """Macroscopic Moller cross-section (medium at 1 g/cm^3) for transfers above ``delta_mev``,
    cm^-1.

    Integral of the Moller cross-section (Moller 1932, Ann Phys 406:531,
    doi:10.1002/andp.19324060506; in the form of the EGSnrc manual, Kawrakow et al., NRCC
    PIRS-701, and ICRU Report 37, ch. 2) over the fractional energy ``eps`` of the
    slower electron from ``eps0 = Delta / T`` to ``1/2``:
    ``Sigma = K Z/A / (beta^2 T) [1/eps0 - 1/(1 - eps0) + c (1/2 - eps0)
    - g ln((1 - eps0) / eps0)]`` with ``c = (tau / (tau + 1))^2``,
    ``g = (2 tau + 1) / (tau + 1)^2`` and ``K = 2 pi r_e^2 m c^2 N_A``; zero for
    ``T <= 2 Delta``. Binding of the atomic electrons is neglected (``Delta >> I``).

    Parameters
    ----------
    t_mev : array_like
        Kinetic energies of the incident electron (MeV).
    delta_mev : float, optional
        Smallest energy transfer counted (MeV), default :data:`DELTA_MEV`.
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``Sigma`` (cm^-1, medium at 1 g/cm^3), float64, shape of ``t_mev``.

    Examples
    --------
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
        _BETHE_K * material.z_over_a / (_beta2(t) * t) * np.maximum(bracket, 0.0),
        0.0,
    )
    return out


def moller_cosines(
    t_mev: npt.NDArray[np.float64], w_mev: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Polar cosines of the primary (``T - W``) and the secondary (``W``) after a collision on
    a free electron at rest: ``cos^2 theta = E'(T + 2mc^2) / (T (E' + 2mc^2))`` for each
    outgoing kinetic energy ``E'`` (two-body kinematics; EGSnrc manual PIRS-701).

    Parameters
    ----------
    t_mev : numpy.ndarray
        Kinetic energies of the incident electrons (MeV).
    w_mev : numpy.ndarray
        Energies transferred to the secondaries (MeV), ``0 < W <= T/2``, shape of ``t_mev``.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Cosines (dimensionless, in [0, 1]) of the primary's and the secondary's polar angles
        relative to the incident direction.
    """
    two_m = 2.0 * _MC2

    def cosine(e: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = np.sqrt(
            np.minimum(e * (t_mev + two_m) / (t_mev * (e + two_m)), 1.0)
        )
        return out

    return cosine(t_mev - w_mev), cosine(w_mev)


def radiative_stopping_power(
    t_mev: npt.ArrayLike, material: Material = WATER
) -> npt.NDArray[np.float64]:
    """Mass radiative stopping power, MeV cm^2/g (Bethe-Heitler, unscreened).

    Parameters
    ----------
    t_mev : array_like
        Electron kinetic energies (MeV).
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``S_rad/rho`` (MeV cm^2/g), float64, shape of ``t_mev``.

    Examples
    --------
    >>> round(float(radiative_stopping_power(1.0)), 4)  # ESTAR: 0.0129
    0.0128
    """
    t = np.asarray(t_mev, dtype=np.float64)
    e_total = t + _MC2
    phi = np.maximum(16.0 / 3.0, 4.0 * np.log(2.0 * e_total / _MC2) - 4.0 / 3.0)
    prefactor = _AVOGADRO * material.z_z1_over_a * FINE_STRUCTURE * _R_E_CM**2
    out: npt.NDArray[np.float64] = prefactor * e_total * phi
    return out


def csda_range_table(
    t_max_mev: float = 3.0,
    n: int = 4000,
    *,
    delta_mev: float | None = None,
    material: Material = WATER,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Energies (MeV) and CSDA ranges (g/cm^2) from 1 keV up to ``t_max_mev``.

    The range below 1 keV is taken as ``T / S(1 keV)`` (negligible: < 0.1 micrometre). With
    ``delta_mev`` the collision part is the restricted stopping power
    (:func:`restricted_collision_stopping_power`): the path length over which the *continuous*
    part of the loss takes an electron from one energy to another in Class II transport.

    Parameters
    ----------
    t_max_mev : float, optional
        Highest energy of the table (MeV), default 3.
    n : int, optional
        Number of logarithmically spaced energies, default 4000.
    delta_mev : float or None, optional
        Restricted-loss threshold (MeV); None (default) for the full CSDA range.
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Energies (MeV) and ranges (g/cm^2, i.e. cm at 1 g/cm^3), increasing.

    Examples
    --------
    >>> t, r = csda_range_table()
    >>> abs(float(np.interp(1.0, t, r)) - 0.4367) < 0.002  # ESTAR: 0.4367 g/cm^2
    True
    """
    t = np.geomspace(1e-3, t_max_mev, n)
    s_col = (
        collision_stopping_power(t, material)
        if delta_mev is None
        else restricted_collision_stopping_power(t, delta_mev, material)
    )
    inv = 1.0 / (s_col + radiative_stopping_power(t, material))
    steps = 0.5 * (inv[1:] + inv[:-1]) * np.diff(t)
    r = np.concatenate([[t[0] * inv[0]], t[0] * inv[0] + np.cumsum(steps)])
    return t, r


def transport_mean_free_path_cm(
    t_mev: npt.ArrayLike, material: Material = WATER
) -> npt.NDArray[np.float64]:
    """First transport mean free path of elastic scattering (medium at 1 g/cm^3), cm.

    ``lambda_1 = 1 / Sigma_1`` of
    :func:`~opensirt.dosimetry.elastic_scattering.elastic_transport_cross_sections`
    (screened Rutherford with Moliere screening and the Mott factor).

    Parameters
    ----------
    t_mev : array_like
        Electron kinetic energies (MeV), > 0.
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``lambda_1`` (cm), float64, shape of ``t_mev``.

    Examples
    --------
    >>> round(float(transport_mean_free_path_cm(1.0)), 2)  # water, 1 MeV
    0.54
    """
    sigma1, _ = elastic_transport_cross_sections(t_mev, material)
    out: npt.NDArray[np.float64] = 1.0 / sigma1
    return out


def moller_transport_cross_section(
    t_mev: npt.ArrayLike,
    delta_mev: float = DELTA_MEV,
    n: int = 256,
    *,
    order: int = 1,
    material: Material = WATER,
) -> npt.NDArray[np.float64]:
    """First (or second) transport cross-section of the Moller collisions above ``delta_mev``
    for the faster (primary) electron, medium at 1 g/cm^3, cm^-1.

    ``Sigma_l = int_Delta^(T/2) (1 - P_l(cos theta_p(W))) dSigma/dW dW`` with the Moller
    differential cross-section (:func:`moller_cross_section`) and the two-body cosine of the
    primary; trapezoidal rule on ``n`` logarithmic points. In Class II transport these
    deflections are sampled explicitly, so they are removed from the elastic-scattering
    transport cross-section, whose ``Z(Z+1)`` term already contains all electron-electron
    scattering (as PENELOPE separates soft and hard angular deflections: Salvat, PENELOPE-2018
    manual, NEA/MBDAV/R(2019)1, ch. 4).

    Parameters
    ----------
    t_mev : array_like
        Kinetic energies of the primary (MeV); 0 returned for ``T <= 2 Delta``.
    delta_mev : float, optional
        Smallest energy transfer counted (MeV), default :data:`DELTA_MEV`.
    n : int, optional
        Quadrature points per energy, default 256.
    order : int, optional
        ``l``: 1 (default) or 2.
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        ``Sigma_l`` (cm^-1), float64, shape of ``t_mev``.

    Examples
    --------
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
    dsdw = (_BETHE_K * material.z_over_a / _beta2(tk)) * (
        1.0 / w**2
        + 1.0 / (tk - w) ** 2
        + 1.0 / (tk + m) ** 2
        - (2.0 * tk + m) * m / ((tk + m) ** 2 * w * (tk - w))
    )
    mu_primary, _ = moller_cosines(np.broadcast_to(tk, w.shape), w)
    one_minus_pl = 1.0 - mu_primary if order == 1 else 1.5 * (1.0 - mu_primary**2)
    out[ok] = np.trapezoid(one_minus_pl * dsdw, w, axis=1)
    return out.reshape(np.shape(t_mev))


def sample_moller_fraction(
    t_mev: npt.NDArray[np.float64], rng: np.random.Generator, delta_mev: float = DELTA_MEV
) -> npt.NDArray[np.float64]:
    """Fractional energy ``eps = W / T`` of the slower electron after a Moller collision.

    Sampled from ``1/eps^2`` on ``[Delta/T, 1/2]`` by inversion,
    ``eps = eps0 / (1 - u (1 - 2 eps0))``, and accepted with probability
    ``eps^2 (dsigma/deps) / (2 + c/4)`` where ``eps^2 dsigma/deps ~ 1 + (eps/(1 - eps))^2 +
    c eps^2 - g eps/(1 - eps) <= 2 + c/4`` (the EGSnrc scheme, PIRS-701; ``c``
    and ``g`` as in :func:`moller_cross_section`). Requires ``T > 2 Delta``.

    Parameters
    ----------
    t_mev : numpy.ndarray
        Kinetic energies of the incident electrons (MeV), each > ``2 delta_mev``.
    rng : numpy.random.Generator
        Random number source.
    delta_mev : float, optional
        Smallest energy transfer (MeV), default :data:`DELTA_MEV`.

    Returns
    -------
    numpy.ndarray
        ``eps`` in ``[Delta/T, 1/2]`` (dimensionless), shape of ``t_mev``.
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


def bohr_straggling_variance(
    t_mev: npt.NDArray[np.float64],
    step_cm: npt.NDArray[np.float64],
    delta_mev: float,
    material: Material = WATER,
) -> npt.NDArray[np.float64]:
    """Bohr variance of the energy lost in soft collisions (below ``delta_mev``) along a step.

    ``Omega^2 = K (Z/A) s Delta (1 - beta^2/2) / beta^2`` (Bohr 1915, Phil Mag 30:581; Particle
    Data Group, Review of Particle Physics, "Passage of particles through matter",
    thick-absorber limit with ``W_max -> Delta``), medium at 1 g/cm^3.

    Parameters
    ----------
    t_mev : numpy.ndarray
        Electron kinetic energies along the step, usually the mid-step energy (MeV).
    step_cm : numpy.ndarray
        Path lengths (cm), shape of ``t_mev``.
    delta_mev : float
        Largest energy transfer counted as soft (MeV).
    material : Material, optional
        The medium, default liquid water.

    Returns
    -------
    numpy.ndarray
        Variance of the soft collision loss (MeV^2), shape of ``t_mev``.
    """
    b2 = _beta2(t_mev)
    out: npt.NDArray[np.float64] = (
        _BETHE_K * material.z_over_a * step_cm * delta_mev * (1.0 - 0.5 * b2) / b2
    )
    return out
