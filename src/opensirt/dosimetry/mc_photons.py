"""Photons of the Monte Carlo engine: emission data, bremsstrahlung sampling and interactions
in a medium of any density.

Model (the photon interaction data are those of liquid water scaled by the voxel's density;
the electrons are transported in the kernels' medium, ICRU soft tissue, whose electrons per
gram are 1 % fewer, so Compton attenuation per gram differs by 1 %):

* **Attenuation**: Compton scattering with the Klein-Nishina cross-section on free electrons
  (Klein & Nishina 1929, Z Phys 52:853, doi:10.1007/BF01366453; water has
  ``N_A Z/A = 3.3428e23`` electrons per gram) and photoelectric absorption with the NIST
  XCOM values of water (Berger et al., XCOM: Photon Cross Sections Database, NIST Standard
  Reference Database 8, doi:10.18434/T48G6X), interpolated log-log. Rayleigh scattering
  (no energy transfer, under 7 % of the interactions above 40 keV) and pair production
  (under 0.05 % of the attenuation at 1.66 MeV) are neglected. Binding effects on Compton
  scattering are neglected (they lower the cross-section by under 10 % below 30 keV, where
  the photoelectric effect dominates).
* **Tracking**: Woodcock (delta) tracking with the majorant ``mu(E) rho_max`` of the grid
  (Woodcock et al. 1965, ANL-7050; the standard of voxel photon codes): a tentative collision
  is real with probability ``rho / rho_max``, so no voxel boundary has to be located.
* **Compton**: photon energy and angle sampled from Klein-Nishina with the Butcher & Messel
  scheme (Butcher & Messel 1960, Nucl Phys 20:15, doi:10.1016/0029-5582(60)90154-8; as in
  EGS4, Nelson et al. 1985, SLAC-265). The Compton electron, with the momentum the photon
  lost, is transported like any electron when above the electron cut-off (10 keV), else
  deposited in the voxel.
* **Photoelectric**: the photon's energy is deposited in the voxel (the photoelectron's range,
  0.1 mm at 80 keV in water, is far below a voxel; fluorescence of oxygen, 0.5 keV, is local).
  Photons below :data:`PHOTON_CUTOFF_MEV` are deposited where they are.
* **Bremsstrahlung**: photons above :data:`BREMSSTRAHLUNG_THRESHOLD_MEV` are explicit. The
  radiative loss of a step (the Bethe-Heitler radiative stopping power of
  :mod:`opensirt.dosimetry.electron_interactions`) is split by the thin-target spectrum of
  constant intensity ``k dsigma/dk ~ const`` for ``0 < k < T`` (the non-relativistic
  Bethe-Heitler / Kramers shape: Koch & Motz 1959, Rev Mod Phys 31:920,
  doi:10.1103/RevModPhys.31.920): the part below the threshold, ``k_c / T`` of it, is
  deposited with the collision loss; above it a photon is emitted with probability
  ``n = (S_rad step / T) ln(T / k_c)`` and energy ``k = k_c (T / k_c)^u`` (number spectrum
  ``1/k``), which the electron loses. The mean loss is the radiative stopping power and
  energy is conserved photon by photon. Photons leave along the electron's direction (the
  characteristic angle ``m c^2 / E`` is small at MeV energies; Koch & Motz 1959).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from opensirt.dosimetry.beta_spectrum import ELECTRON_REST_ENERGY_MEV
from opensirt.dosimetry.electron_transport import Step, rotate
from opensirt.physics.nuclides import NuclideName

#: Photons below this energy (MeV) deposit their energy where they are (photoelectric mean
#: free path in water 0.24 mm at 5 keV, XCOM).
PHOTON_CUTOFF_MEV = 0.005
#: Bremsstrahlung photons above this energy (MeV) are transported; below, the radiative loss
#: is deposited locally (mean free path of 10 keV photons in water: 1.9 mm, XCOM).
BREMSSTRAHLUNG_THRESHOLD_MEV = 0.010

#: Photons emitted per decay: (energy MeV, yield per decay), from ICRP Publication 107
#: (Nuclear Decay Data for Dosimetric Calculations, Ann ICRP 38(3), 2008,
#: doi:10.1016/j.icrp.2008.10.004; its file ICRP-07.RAD, the evaluation whose mean beta
#: energy :mod:`opensirt.physics.nuclides` uses), checked against the copy of that file in
#: the OpenGATE ``icrp107-database`` package 0.0.3 (https://pypi.org/project/icrp107-database/).
#:
#: Ho-166: every gamma line with a yield of at least 5e-5 (80.574 keV, 6.71 %; 1379.4 keV,
#: 0.93 %; 1581.89 keV, 0.187 %; 1662.48 keV, 0.12 %; and five lines of 0.0085-0.028 %),
#: the Er K x-rays (K-alpha-2 48.30 keV, 2.99 %; K-alpha-1 49.23 keV, 5.30 %; the seven
#: K-beta lines as one line at their intensity-weighted 56.06 keV, 2.09 %) and the Er L
#: x-rays as one line at their intensity-weighted 7.49 keV (8.05 %). Together 29.975 keV
#: per decay, 99.67 % of ICRP 107's 30.074 keV of photons; the rest is five gammas under
#: 2.1e-5 (0.040 keV) and x-rays under 5 keV (0.059 keV, deposited where emitted anyway).
#: ENSDF (Baglin 2008, Nucl Data Sheets 109:1103, doi:10.1016/j.nds.2008.04.001) gives
#: 6.56(9) % for the 80.6 keV gamma, 0.922 %, 0.182 % and 0.119 % for the three strong
#: high-energy lines: 1.4 % less photon energy (23.84 against 24.19 keV of gammas).
#: Y-90: none. Internal pair production (3.186e-5 e+ per decay, Selwyn et al. 2007, Appl
#: Radiat Isot 65:318, doi:10.1016/j.apradiso.2006.08.009) gives 6.4e-5 annihilation
#: photons per decay, 0.033 keV, 3.5e-5 of the beta energy: neglected (the positron's
#: kinetic energy is part of the beta energy). ICRP 107's 2186 keV gamma (1.4e-8) too.
PHOTON_LINES: dict[NuclideName, tuple[tuple[float, float], ...]] = {
    NuclideName.Y90: (),
    NuclideName.HO166: (
        (0.080574, 0.0671),
        (0.674, 0.000194),
        (0.7053, 0.000131),
        (0.78589, 0.000119),
        (1.3794, 0.0093),
        (1.58189, 0.00187),
        (1.66248, 0.0012),
        (1.74991, 0.000277),
        (1.83049, 0.000085),
        (0.0482994, 0.029892),
        (0.0492265, 0.053044),
        (0.0560568, 0.0209071),
        (0.0074949, 0.0804873),
    ),
}
#: ICRP 107's total photon energy per decay (MeV: gammas 24.185 keV + x-rays 5.889 keV),
#: for checking :data:`PHOTON_LINES`.
ICRP107_PHOTON_ENERGY_MEV: dict[NuclideName, float] = {
    NuclideName.Y90: 0.0,
    NuclideName.HO166: 0.030074,
}

_MC2 = ELECTRON_REST_ENERGY_MEV
_R_E_CM = 2.8179403262e-13  # classical electron radius (CODATA 2018)
_ELECTRONS_PER_GRAM = 6.02214076e23 * 10.0 / 18.0153  # water: N_A Z/A
#: XCOM photoelectric absorption of water: energy (MeV), mu_pe/rho (cm^2/g).
_XCOM_PHOTO = np.array(
    [
        (0.001, 4.076e3),
        (0.0015, 1.372e3),
        (0.002, 6.152e2),
        (0.003, 1.917e2),
        (0.004, 8.191e1),
        (0.005, 4.188e1),
        (0.006, 2.405e1),
        (0.008, 9.915),
        (0.010, 4.944),
        (0.015, 1.374),
        (0.020, 5.503e-1),
        (0.030, 1.557e-1),
        (0.040, 6.246e-2),
        (0.050, 3.070e-2),
        (0.060, 1.719e-2),
        (0.080, 6.788e-3),
        (0.100, 3.283e-3),
        (0.150, 8.962e-4),
        (0.200, 3.605e-4),
        (0.300, 1.034e-4),
        (0.400, 4.463e-5),
        (0.500, 2.438e-5),
        (0.600, 1.530e-5),
        (0.800, 7.617e-6),
        (1.000, 4.638e-6),
        (1.500, 2.058e-6),
        (2.000, 1.302e-6),
    ]
)


class Particles(NamedTuple):
    """A bank of particles of one kind (electrons or photons).

    Attributes
    ----------
    energy_mev : numpy.ndarray
        Kinetic (electrons) or photon energies (MeV), shape (N,).
    pos_mm : numpy.ndarray
        Positions (mm, array order z, y, x, from the grid's corner), shape (N, 3).
    d : numpy.ndarray
        Unit directions (z, y, x), shape (N, 3).
    weight : numpy.ndarray
        Statistical weights (energy scale of the source), shape (N,).
    """

    energy_mev: npt.NDArray[np.float64]
    pos_mm: npt.NDArray[np.float64]
    d: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]

    def take(self, which: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Particles:
        """The particles selected by a mask or indices.

        Parameters
        ----------
        which : numpy.ndarray
            Boolean mask or integer indices.

        Returns
        -------
        Particles
            The selected particles.
        """
        return Particles(
            self.energy_mev[which], self.pos_mm[which], self.d[which], self.weight[which]
        )

    def join(self, other: Particles) -> Particles:
        """These particles followed by ``other``.

        Parameters
        ----------
        other : Particles
            Particles to append.

        Returns
        -------
        Particles
            Both banks in one.
        """
        return Particles(*(np.concatenate([a, b]) for a, b in zip(self, other, strict=True)))

    @staticmethod
    def empty() -> Particles:
        """An empty bank.

        Returns
        -------
        Particles
            No particles.
        """
        return Particles(np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0))


def klein_nishina_cm2_per_g(e_mev: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Klein-Nishina Compton mass attenuation coefficient of water, cm^2/g.

    ``sigma = 2 pi r_e^2 {(1 + k)/k^2 [2 (1 + k)/(1 + 2k) - ln(1 + 2k)/k] + ln(1 + 2k)/(2k)
    - (1 + 3k)/(1 + 2k)^2}``, ``k = E / m c^2`` (Klein & Nishina 1929), times the electrons
    per gram of water.

    Parameters
    ----------
    e_mev : array_like
        Photon energies (MeV), > 0.

    Returns
    -------
    numpy.ndarray
        ``sigma_KN N_A Z/A`` (cm^2/g).

    Examples
    --------
    >>> round(float(klein_nishina_cm2_per_g(1.0)), 4)  # XCOM incoherent, 1 MeV: 0.0707
    0.0706
    """
    k = np.asarray(e_mev, dtype=np.float64) / _MC2
    log = np.log1p(2.0 * k)
    bracket = (1.0 + k) / k**2 * (2.0 * (1.0 + k) / (1.0 + 2.0 * k) - log / k)
    bracket = bracket + log / (2.0 * k) - (1.0 + 3.0 * k) / (1.0 + 2.0 * k) ** 2
    out: npt.NDArray[np.float64] = 2.0 * math.pi * _R_E_CM**2 * bracket * _ELECTRONS_PER_GRAM
    return out


def photoelectric_cm2_per_g(e_mev: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Photoelectric mass attenuation coefficient of water (XCOM), cm^2/g, log-log interpolated.

    Parameters
    ----------
    e_mev : array_like
        Photon energies (MeV), 1 keV to 2 MeV (clamped outside).

    Returns
    -------
    numpy.ndarray
        ``mu_pe / rho`` (cm^2/g).

    Examples
    --------
    >>> round(float(photoelectric_cm2_per_g(0.1)), 5)
    0.00328
    """
    log_e = np.log(np.asarray(e_mev, dtype=np.float64))
    table = np.log(_XCOM_PHOTO)
    out: npt.NDArray[np.float64] = np.exp(np.interp(log_e, table[:, 0], table[:, 1]))
    return out


def bremsstrahlung(
    t_mev: npt.NDArray[np.float64], step: Step, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Split the radiative loss of each step into a local part and an explicit photon.

    Parameters
    ----------
    t_mev : numpy.ndarray
        Kinetic energies at the start of the step (MeV).
    step : Step
        The steps (mid-step energy, radiative and collision losses).
    rng : numpy.random.Generator
        Random number source (two draws per electron).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        The radiative energy deposited locally (below the threshold) and the energy of the
        emitted photon (0 where none), MeV, shape of ``t_mev``.
    """
    kc = BREMSSTRAHLUNG_THRESHOLD_MEV
    t_mid = step.t_mid_mev
    above = t_mid > kc
    ratio = np.where(above, t_mid / kc, 1.0)
    soft = step.radiative_mev * np.minimum(kc / t_mid, 1.0)
    n_photons = step.radiative_mev / t_mid * np.log(ratio)
    emit = rng.random(t_mid.size) < n_photons
    k = kc * ratio ** rng.random(t_mid.size)
    available = t_mev - step.collision_mev - soft
    photon = np.where(emit, np.minimum(k, np.maximum(available, 0.0)), 0.0)
    return soft, photon


def _sample_compton(
    k: npt.NDArray[np.float64], rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Energy ratio ``E'/E`` and ``1 - cos theta`` of Compton photons (Butcher-Messel)."""
    eps0 = 1.0 / (1.0 + 2.0 * k)
    a1 = -np.log(eps0)
    a2 = 0.5 * (1.0 - eps0 * eps0)
    eps = np.empty_like(k)
    todo = np.arange(k.size)
    while todo.size:
        e0, kk = eps0[todo], k[todo]
        u = rng.random((3, todo.size))
        first = u[0] * (a1[todo] + a2[todo]) < a1[todo]
        trial = np.where(first, e0 ** u[1], np.sqrt(e0 * e0 + (1.0 - e0 * e0) * u[1]))
        one_minus_cos = (1.0 - trial) / (kk * trial)
        sin2 = one_minus_cos * (2.0 - one_minus_cos)
        accept = u[2] <= 1.0 - trial * sin2 / (1.0 + trial * trial)
        eps[todo[accept]] = trial[accept]
        todo = todo[~accept]
    return eps, (1.0 - eps) / (k * eps)


def compton(photons: Particles, rng: np.random.Generator) -> tuple[Particles, Particles]:
    """Scatter ``photons`` once (Klein-Nishina): the scattered photons and Compton electrons.

    Parameters
    ----------
    photons : Particles
        The photons that interact.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    tuple of (Particles, Particles)
        The scattered photons and the recoil electrons (kinetic energy ``E - E'``, direction
        of the momentum transferred), in the same order.
    """
    e, pos, d, w = photons
    eps, one_minus_cos = _sample_compton(e / _MC2, rng)
    d_new = rotate(d, 1.0 - one_minus_cos, 2.0 * np.pi * rng.random(e.size))
    e_new = eps * e
    p_electron = d * e[:, None] - d_new * e_new[:, None]
    norm = np.linalg.norm(p_electron, axis=1, keepdims=True)
    d_electron = np.divide(p_electron, norm, out=d.copy(), where=norm > 0)
    return Particles(e_new, pos, d_new, w), Particles(e - e_new, pos.copy(), d_electron, w)


def attenuation_cm2_per_g(
    e_mev: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Total and Compton mass attenuation coefficients of water (cm^2/g).

    Parameters
    ----------
    e_mev : numpy.ndarray
        Photon energies (MeV).

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        ``mu/rho`` (Compton + photoelectric) and the Compton part, cm^2/g.
    """
    mu_c = klein_nishina_cm2_per_g(e_mev)
    return mu_c + photoelectric_cm2_per_g(e_mev), mu_c


def decay_photons(
    nuclide: NuclideName, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Photons of ``n`` decays: the index of the decay each comes from and its energy.

    Parameters
    ----------
    nuclide : NuclideName
        Y-90 (none) or Ho-166 (:data:`PHOTON_LINES`).
    n : int
        Number of decays.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Decay indices and photon energies (MeV), one entry per photon.
    """
    lines = PHOTON_LINES.get(nuclide, ())
    if not lines:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    energies = np.array([line[0] for line in lines])
    yields = np.array([line[1] for line in lines])
    hits = rng.random((n, energies.size)) < yields
    decay, line = np.nonzero(hits)
    return decay.astype(np.intp), energies[line]


def isotropic(n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """``n`` unit vectors uniform on the sphere.

    Parameters
    ----------
    n : int
        Number of directions.
    rng : numpy.random.Generator
        Random number source.

    Returns
    -------
    numpy.ndarray
        Unit vectors, shape (n, 3).
    """
    cos_t = 2.0 * rng.random(n) - 1.0
    phi = 2.0 * np.pi * rng.random(n)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    return np.stack([cos_t, sin_t * np.cos(phi), sin_t * np.sin(phi)], axis=1)
