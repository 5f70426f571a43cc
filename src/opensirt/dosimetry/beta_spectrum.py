"""Beta-particle energy spectra of Y-90 and Ho-166 from Fermi theory.

The number of betas emitted with kinetic energy ``T`` (Konopinski 1966; Behrens & Buehring
1982) is

.. math:: N(W)\\,dW \\propto F(Z, W)\\, p\\, W\\, (W_0 - W)^2\\, C(W)\\, dW

with ``W = 1 + T / m_e c^2`` the total energy and ``p = sqrt(W^2 - 1)`` the momentum in
electron units, ``W_0`` the end point, ``F`` the relativistic Fermi function of the
daughter (charge ``Z``, nuclear radius ``R = 1.2 A^{1/3}`` fm) and ``C`` the shape factor:
``1`` for allowed and first-forbidden non-unique transitions in the xi approximation,
``q^2 + lambda_2 p^2`` (``q = W_0 - W``, ``lambda_2 = F_1 / F_0`` the Coulomb function of
the ``j = 3/2`` electron wave) for first-forbidden unique transitions (Konopinski &
Uhlenbeck 1941, Phys Rev 60:308, doi:10.1103/PhysRev.60.308).

Branches (end points and intensities from ENSDF via NuDat 3, https://www.nndc.bnl.gov/nudat3/):

* Y-90 (2-) -> Zr-90 (0+) ground state, 2278.5 keV, 99.99 %: first-forbidden unique. The
  0.0115 % branch to the 1760.7 keV level is neglected.
* Ho-166 (0-) -> Er-166 (0+) ground state, 1854.5 keV, 48.7 %: first-forbidden non-unique
  (allowed shape); -> 2+ level at 80.57 keV, 1773.9 keV, 50.0 %: first-forbidden unique.
  The weak branches to levels above 1.3 MeV (about 1.3 % together) are neglected.

The spectra set the *shape* of the dose point kernels; their magnitude is always the mean beta
energy of :mod:`opensirt.physics.nuclides` (ICRP 107), so that the kernels and local
deposition use the same energy per decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import loggamma

from opensirt.errors import InputError
from opensirt.physics.nuclides import Nuclide, NuclideName, get_nuclide

#: Electron rest energy, MeV (CODATA 2018).
ELECTRON_REST_ENERGY_MEV = 0.51099895
#: Fine-structure constant (CODATA 2018).
FINE_STRUCTURE = 7.2973525693e-3
#: Reduced Compton wavelength of the electron, fm (CODATA 2018): the unit of length of ``R``.
_COMPTON_FM = 386.15926796


@dataclass(frozen=True)
class BetaBranch:
    """One beta branch: end point (MeV), intensity (fraction of decays), daughter, shape."""

    endpoint_mev: float
    intensity: float
    daughter_z: int
    daughter_a: int
    unique_first_forbidden: bool


BRANCHES: dict[NuclideName, tuple[BetaBranch, ...]] = {
    NuclideName.Y90: (BetaBranch(2.2785, 0.999885, 40, 90, True),),
    NuclideName.HO166: (
        BetaBranch(1.8545, 0.487, 68, 166, False),
        BetaBranch(1.7739, 0.500, 68, 166, True),
    ),
}


def generalized_fermi_function(
    k: int, z: int, a: int, w: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Generalised Fermi function ``F_{k-1}(Z, W)`` of beta-minus decay (finite-radius form).

    ``F_{k-1} = [k (2k - 1)!!]^2 4^(k-1) (2 p R)^(2(g_k - k)) exp(pi y) |Gamma(g_k + i y)|^2
    / Gamma(2 g_k + 1)^2`` with ``g_k = sqrt(k^2 - (alpha Z)^2)``, ``y = alpha Z W / p``
    (Behrens & Buehring 1982, Electron Radial Wave Functions and Nuclear Beta-decay, Oxford,
    ch. 4; Konopinski 1966, The Theory of Beta Radioactivity). ``k = 1`` is the usual Fermi
    function ``F0`` (up to a constant: only the shape matters here); both tend to the same
    limit for ``Z -> 0``.

    Parameters
    ----------
    k : int
        1 or 2 (the electron partial wave ``j = k - 1/2``).
    z : int
        Atomic number of the daughter nucleus.
    a : int
        Mass number (sets the nuclear radius ``R = 1.2 A^{1/3}`` fm).
    w : numpy.ndarray
        Total electron energy in units of ``m_e c^2`` (``W = 1 + T / m_e c^2``), each > 1.

    Returns
    -------
    numpy.ndarray
        ``F_{k-1}`` (dimensionless), float64, same shape as ``w``.

    Raises
    ------
    InputError
        If ``k`` is not 1 or 2.
    """
    if k not in (1, 2):
        raise InputError(f"k is {k}, expected 1 or 2")
    p = np.sqrt(w * w - 1.0)
    az = FINE_STRUCTURE * z
    g = np.sqrt(k * k - az * az)
    y = az * w / p
    radius = 1.2 * a ** (1.0 / 3.0) / _COMPTON_FM
    log_f = (
        2.0 * math.log(k * (2 * k - 1))
        + (k - 1) * math.log(4.0)
        + 2.0 * (g - k) * np.log(2.0 * p * radius)
        + np.pi * y
        + 2.0 * np.real(loggamma(g + 1j * y))
        - 2.0 * float(np.real(loggamma(2.0 * g + 1.0)))
    )
    out: npt.NDArray[np.float64] = np.exp(log_f)
    return out


def fermi_function(z: int, a: int, w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Relativistic Fermi function F0(Z, W) for beta-minus decay (finite-radius form).

    :func:`generalized_fermi_function` with ``k = 1``: ``F0 = 4 (2 p R)^{2(g-1)} exp(pi y)
    |Gamma(g + i y)|^2 / Gamma(2 g + 1)^2``, ``g = sqrt(1 - (alpha Z)^2)``.

    Parameters
    ----------
    z : int
        Atomic number of the daughter nucleus.
    a : int
        Mass number (sets the nuclear radius ``R = 1.2 A^{1/3}`` fm).
    w : numpy.ndarray
        Total electron energy in units of ``m_e c^2`` (``W = 1 + T / m_e c^2``), each > 1.

    Returns
    -------
    numpy.ndarray
        F0 (dimensionless), float64, same shape as ``w``.
    """
    return 4.0 * generalized_fermi_function(1, z, a, w)


def coulomb_lambda2(z: int, a: int, w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Coulomb function ``lambda_2 = F_1 / F_0`` of the unique first-forbidden shape factor.

    The shape factor of a first-forbidden unique transition is ``C = q^2 + lambda_2 p^2``
    (Konopinski 1966; Behrens & Buehring 1982): ``lambda_2`` weights the ``j = 3/2``
    electron wave, which the daughter's charge pulls in less than the ``j = 1/2`` wave at high
    energy (about 0.89-0.91 above 0.5 MeV for Zr-90; 1 for ``Z -> 0``). Taking it as 1 makes
    the Y-90 spectrum 1.5 % harder than evaluated.

    Parameters
    ----------
    z : int
        Atomic number of the daughter nucleus.
    a : int
        Mass number.
    w : numpy.ndarray
        Total electron energies in units of ``m_e c^2``, each > 1.

    Returns
    -------
    numpy.ndarray
        ``lambda_2`` (dimensionless), shape of ``w``.

    Examples
    --------
    >>> lam = coulomb_lambda2(40, 90, np.array([1.0 + 1.0 / 0.51099895]))
    >>> round(float(lam[0]), 2)
    0.89
    """
    out: npt.NDArray[np.float64] = generalized_fermi_function(
        2, z, a, w
    ) / generalized_fermi_function(1, z, a, w)
    return out


def branch_spectrum(
    branch: BetaBranch, kinetic_mev: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Unnormalised number spectrum dN/dT of one branch at kinetic energies ``kinetic_mev``.

    Parameters
    ----------
    branch : BetaBranch
        End point, daughter and shape of the branch.
    kinetic_mev : numpy.ndarray
        Electron kinetic energies (MeV).

    Returns
    -------
    numpy.ndarray
        ``F p W (W_0 - W)^2 C`` (arbitrary units; its intensity is not applied), float64,
        same shape as ``kinetic_mev``; 0 at and beyond the end point and for ``T <= 0``.
    """
    t = np.asarray(kinetic_mev, dtype=np.float64)
    w = 1.0 + t / ELECTRON_REST_ENERGY_MEV
    w0 = 1.0 + branch.endpoint_mev / ELECTRON_REST_ENERGY_MEV
    inside = (t > 0.0) & (w < w0)
    w_in = w[inside]
    p = np.sqrt(w_in * w_in - 1.0)
    q = w0 - w_in
    if branch.unique_first_forbidden:
        shape = q * q + coulomb_lambda2(branch.daughter_z, branch.daughter_a, w_in) * p * p
    else:
        shape = np.ones_like(w_in)
    out = np.zeros_like(t)
    out[inside] = fermi_function(branch.daughter_z, branch.daughter_a, w_in) * p * w_in * q**2
    out[inside] *= shape
    return out


def beta_spectrum(
    nuclide: Nuclide | NuclideName | str, n_points: int = 2000
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Kinetic energies (MeV, bin centres) and the probability of each bin per beta decay.

    The probabilities sum to 1 over all branches (each branch weighted by its intensity,
    renormalised over the branches modelled).

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        A beta emitter with branch data: Y-90 or Ho-166.
    n_points : int, optional
        Number of equal-width energy bins from 0 to the highest end point (default 2000).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Bin-centre kinetic energies (MeV) and the probability per decay of each bin
        (dimensionless, summing to 1), both float64 of length ``n_points``.

    Raises
    ------
    InputError
        If the nuclide has no beta spectrum data (e.g. Tc-99m).

    Examples
    --------
    >>> energy_mev, probability = beta_spectrum("Y-90")
    >>> round(float(probability.sum()), 6)
    1.0
    >>> 0.92 < float((energy_mev * probability).sum()) < 0.95
    True
    """
    nuc = get_nuclide(nuclide)
    if nuc.name not in BRANCHES:
        raise InputError(
            f"nuclide is {nuc.name}, expected a beta emitter with spectrum data "
            f"({', '.join(n.value for n in BRANCHES)})"
        )
    branches = BRANCHES[nuc.name]
    t_max = max(b.endpoint_mev for b in branches)
    edges = np.linspace(0.0, t_max, n_points + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    total_intensity = sum(b.intensity for b in branches)
    probability = np.zeros_like(centres)
    for branch in branches:
        shape = branch_spectrum(branch, centres)
        probability += branch.intensity / total_intensity * shape / shape.sum()
    return centres, probability


def mean_energy_mev(nuclide: Nuclide | NuclideName | str) -> float:
    """Mean kinetic energy (MeV) of the modelled spectrum (a check against ICRP 107).

    The model (no screening or radiative corrections; Coulomb function ``lambda_2`` in the
    unique shape factor) gives 0.9302 MeV for Y-90, 0.2 % below the evaluated spectrum
    (ICRP 107: 0.9323 MeV), and 0.668 MeV for Ho-166 (ICRP 107: 0.6651 MeV, +0.4 %); with
    ``lambda_2 = 1`` it was 1.5 % and 3 % too hard. It only sets the shape of the kernels,
    not their energy.

    Parameters
    ----------
    nuclide : Nuclide or NuclideName or str
        Y-90 or Ho-166.

    Returns
    -------
    float
        Mean beta kinetic energy per beta decay (MeV).

    Raises
    ------
    InputError
        If the nuclide has no beta spectrum data.

    Examples
    --------
    >>> round(mean_energy_mev("Y-90"), 3)
    0.93
    """
    energy, probability = beta_spectrum(nuclide)
    return float((energy * probability).sum())
