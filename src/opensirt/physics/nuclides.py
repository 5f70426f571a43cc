"""Radionuclides of radioembolization: half-lives, beta energies, dose constants.

Every number carries its source. Two kinds of dose constant exist and are kept apart:

* :attr:`Nuclide.dose_constant_gy_kg_per_gbq` is *computed* from the decay data below: the
  energy of the non-penetrating (beta) radiation released by the complete decay of 1 GBq,
  deposited in 1 kg. For Y-90 (ENSDF/DDEP data) it is 49.73 Gy kg/GBq.
* The *conventional* constants of the device instructions and the partition-model literature
  (49.67, 50, 15.87) live with the devices in :mod:`opensirt.physics.devices`; every method says
  which one it used.

References
----------
.. [ENSDF] Evaluated Nuclear Structure Data File, NNDC, Brookhaven National Laboratory, via
   NuDat 3 (https://www.nndc.bnl.gov/nudat3/); values agree with the LNHB/DDEP recommended data
   (http://www.lnhb.fr/nuclear-data/) to the digits used here.
.. [ICRP107] ICRP Publication 107, Nuclear Decay Data for Dosimetric Calculations,
   Ann. ICRP 38(3), 2008. doi:10.1016/j.icrp.2008.10.004
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from opensirt.errors import InputError

#: Joules per MeV (CODATA 2018, exact since the 2019 SI redefinition of the elementary charge).
JOULE_PER_MEV = 1.602176634e-13
SECONDS_PER_HOUR = 3600.0


class NuclideName(StrEnum):
    """Radionuclides known to OpenSIRT."""

    Y90 = "Y-90"
    HO166 = "Ho-166"
    TC99M = "Tc-99m"


@dataclass(frozen=True)
class Nuclide:
    """Physical data of one radionuclide.

    Attributes
    ----------
    name : NuclideName
    half_life_h : float
        Physical half-life in hours.
    mean_beta_energy_mev : float
        Mean kinetic energy of beta particles per decay (MeV), summed over branches and
        weighted by their intensities; 0 for a nuclide without beta decay.
    max_beta_energy_mev : float
        End-point energy of the dominant beta branch (MeV); 0 without beta decay.
    mean_beta_range_mm, max_beta_range_mm : float
        Mean and maximum range of the betas in soft tissue (mm).
    imaging_photon_kev, imaging_photon_yield : float
        The photon used for imaging (keV) and its emission probability per decay.
    source : str
        Where every number above comes from.
    """

    name: NuclideName
    half_life_h: float
    mean_beta_energy_mev: float
    max_beta_energy_mev: float
    mean_beta_range_mm: float
    max_beta_range_mm: float
    imaging_photon_kev: float
    imaging_photon_yield: float
    source: str

    @property
    def decay_constant_per_h(self) -> float:
        """Decay constant lambda = ln 2 / T1/2, in 1/h."""
        return math.log(2.0) / self.half_life_h

    @property
    def mean_life_h(self) -> float:
        """Mean life tau = T1/2 / ln 2 (h): the cumulated activity of 1 GBq decaying fully is
        1 GBq x tau."""
        return self.half_life_h / math.log(2.0)

    @property
    def dose_constant_gy_kg_per_gbq(self) -> float:
        """Absorbed dose (Gy) in 1 kg from complete decay of 1 GBq, all beta energy local.

        D = E_beta * N / M with N = A * tau the number of decays (MIRD Pamphlet 21,
        Bolch et al. 2009, J Nucl Med 50:477, doi:10.2967/jnumed.108.056036).

        Raises
        ------
        InputError
            For a nuclide without beta emission (Tc-99m), where local deposition of beta
            energy is meaningless.
        """
        if self.mean_beta_energy_mev <= 0.0:
            raise InputError(
                f"nuclide {self.name} emits no beta particles, so it has no local-deposition "
                "dose constant; use a Y-90 or Ho-166 nuclide for therapy dosimetry"
            )
        decays_per_gbq = 1e9 * self.mean_life_h * SECONDS_PER_HOUR
        return decays_per_gbq * self.mean_beta_energy_mev * JOULE_PER_MEV


# Y-90: T1/2 = 64.10 h [ICRP107] (2.671 d; DDEP gives 64.05 h, the device instructions 64.1 h
# for both devices, see devices). Beta: ground-state branch mean 932.4 keV, 99.9885 %; branch to the
# 1760.7 keV level mean 184.6 keV, 0.0115 % [ENSDF]; end point 2278.5 keV [ENSDF]. Internal
# pair production gives 31.86 e+ per 10^6 decays (Selwyn et al. 2007, Appl Radiat Isot 65:318,
# doi:10.1016/j.apradiso.2006.08.009), which makes Y-90 PET possible. Ranges in water:
# mean 2.5 mm, maximum 11 mm (Kennedy et al. 2007, Int J Radiat Oncol Biol Phys 68:13,
# doi:10.1016/j.ijrobp.2006.11.060).
Y90 = Nuclide(
    name=NuclideName.Y90,
    half_life_h=64.10,
    mean_beta_energy_mev=0.9324 * 0.999885 + 0.1846 * 0.000115,
    max_beta_energy_mev=2.2785,
    mean_beta_range_mm=2.5,
    max_beta_range_mm=11.0,
    imaging_photon_kev=511.0,
    imaging_photon_yield=31.86e-6,
    source="T1/2 ICRP Publication 107 (2008); beta energies ENSDF/DDEP; e+ yield Selwyn 2007",
)

# Ho-166: T1/2 = 26.80 h and mean beta energy 0.6651 MeV [ICRP107]; end point 1854.5 keV
# (ground-state branch, 48.7 %) [ENSDF]; 80.57 keV gamma, 6.55 % [ENSDF]. Ranges in tissue:
# mean 2.5 mm, maximum 8.7 mm (Smits et al. 2010, J Exp Clin Cancer Res 29:70,
# doi:10.1186/1756-9966-29-70).
HO166 = Nuclide(
    name=NuclideName.HO166,
    half_life_h=26.80,
    mean_beta_energy_mev=0.6651,
    max_beta_energy_mev=1.8545,
    mean_beta_range_mm=2.5,
    max_beta_range_mm=8.7,
    imaging_photon_kev=80.57,
    imaging_photon_yield=0.0655,
    source="T1/2 and mean beta ICRP Publication 107 (2008); end point and gamma ENSDF",
)

# Tc-99m: T1/2 = 6.0067 h [ENSDF] (ICRP 107: 6.015 h); isomeric transition, no beta;
# 140.51 keV gamma, 89.06 % [ENSDF].
TC99M = Nuclide(
    name=NuclideName.TC99M,
    half_life_h=6.0067,
    mean_beta_energy_mev=0.0,
    max_beta_energy_mev=0.0,
    mean_beta_range_mm=0.0,
    max_beta_range_mm=0.0,
    imaging_photon_kev=140.51,
    imaging_photon_yield=0.8906,
    source="ENSDF (NNDC NuDat 3)",
)

NUCLIDES: dict[NuclideName, Nuclide] = {n.name: n for n in (Y90, HO166, TC99M)}


def get_nuclide(name: NuclideName | str | Nuclide) -> Nuclide:
    """Return the :class:`Nuclide` for a name such as ``"Y-90"`` (case and dash tolerant).

    Parameters
    ----------
    name : NuclideName | str | Nuclide
        The nuclide's name (``"Y-90"``, ``"y90"``, ``"Ho_166"`` ...) or a :class:`Nuclide`,
        returned as it is.

    Returns
    -------
    Nuclide
        The nuclide's decay data.

    Raises
    ------
    InputError
        If the name is not one of the known nuclides.

    Examples
    --------
    >>> get_nuclide("y90").half_life_h
    64.1
    """
    if isinstance(name, Nuclide):
        return name
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    for nuclide_name, nuclide in NUCLIDES.items():
        if nuclide_name.value.lower().replace("-", "") == key:
            return nuclide
    known = ", ".join(n.value for n in NUCLIDES)
    raise InputError(f"nuclide is {name!r}, expected one of {known}")
