"""Decay photon data of the Monte Carlo engine against the evaluated table it cites."""

from __future__ import annotations

import numpy as np
import pytest

from opensirt.dosimetry.mc_photons import PHOTON_LINES, decay_photons
from opensirt.dosimetry.monte_carlo import monte_carlo
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import NuclideName

#: ICRP Publication 107 (2008, doi:10.1016/j.icrp.2008.10.004), Ho-166: photon energy per
#: decay, gammas 24.185 keV + x-rays 5.889 keV (sum of energy x yield over its ICRP-07.RAD
#: lines), and the 80.574 keV gamma's yield.
ICRP107_HO166_PHOTON_MEV = 0.024185 + 0.005889
ICRP107_HO166_GAMMA_80KEV = (0.080574, 0.0671)


def _line_energy_mev(nuclide: NuclideName) -> float:
    return sum(e * y for e, y in PHOTON_LINES[nuclide])


def test_ho166_photon_energy_per_decay_is_that_of_icrp107() -> None:
    # the lines left out (five gammas under 2.1e-5, x-rays under 5 keV) carry 0.33 %
    assert _line_energy_mev(NuclideName.HO166) == pytest.approx(ICRP107_HO166_PHOTON_MEV, rel=0.005)
    assert _line_energy_mev(NuclideName.HO166) < ICRP107_HO166_PHOTON_MEV
    assert ICRP107_HO166_GAMMA_80KEV in PHOTON_LINES[NuclideName.HO166]
    # the high-energy gammas carry most of it: 1.38-1.83 MeV, 18.4 keV per decay
    high = sum(e * y for e, y in PHOTON_LINES[NuclideName.HO166] if e > 1.0)
    assert high == pytest.approx(0.01842, rel=0.001)


def test_y90_emits_no_decay_photons() -> None:
    decay, energy = decay_photons(NuclideName.Y90, 1000, np.random.default_rng(1))
    assert decay.size == 0
    assert energy.size == 0


def test_sampled_photon_energy_matches_the_lines() -> None:
    n = 200_000
    decay, energy = decay_photons(NuclideName.HO166, n, np.random.default_rng(2))
    assert decay.max() < n
    per_decay = energy.sum() / n
    # sigma of the mean: sqrt(sum E^2 y) / sqrt(n), 0.6 % of the mean
    assert per_decay == pytest.approx(_line_energy_mev(NuclideName.HO166), rel=0.025)


@pytest.mark.slow
def test_monte_carlo_without_decay_photons_emits_the_beta_energy_only() -> None:
    act = Volume(np.zeros((3, 3, 3)), spacing_mm=(4.42,) * 3, units="MBq")
    act.array[1, 1, 1] = 1.0
    options = {"density": 1.06, "histories": 2000, "batches": 2, "seed": 4}
    with_photons = monte_carlo(act, "Ho-166", **options)
    without = monte_carlo(act, "Ho-166", decay_photons=False, **options)
    # the betas' weighted energy has a sampling spread of about 2 % at 2000 histories
    assert without.emitted_mev == pytest.approx(0.6651, rel=0.05)
    assert without.energy_balance == pytest.approx(1.0, abs=1e-9)
    # the 1.4-1.8 MeV gammas escape a 13 mm cube; bremsstrahlung alone carries far less
    assert with_photons.escaped_photon_mev > 0.015
    assert without.escaped_photon_mev < 0.005
