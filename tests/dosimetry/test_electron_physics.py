"""Media, elastic scattering and beta-spectrum physics of the electron transport."""

import numpy as np
import pytest

from opensirt.dosimetry.beta_spectrum import coulomb_lambda2, mean_energy_mev
from opensirt.dosimetry.elastic_scattering import (
    elastic_transport_cross_sections,
    mixed_elastic_tables,
    sample_step_deflection,
)
from opensirt.dosimetry.electron_interactions import collision_stopping_power, csda_range_table
from opensirt.dosimetry.materials import ICRU_SOFT_TISSUE, WATER, Material, Sternheimer
from opensirt.errors import InputError
from opensirt.physics import HO166, Y90


def test_material_electron_densities_match_estar() -> None:
    # NIST ESTAR material data: water <Z/A> 0.55509, ICRU four-component soft tissue 0.54975
    assert WATER.z_over_a == pytest.approx(0.55509, abs=5e-5)
    assert ICRU_SOFT_TISSUE.z_over_a == pytest.approx(0.54975, abs=5e-5)


def test_material_rejects_bad_composition() -> None:
    params = Sternheimer(3.5, 0.2, 2.8, 0.09, 3.4)
    with pytest.raises(InputError, match="summing to 1"):
        Material("x", ((1, 0.5), (8, 0.4)), 75.0, params)
    with pytest.raises(InputError, match="atomic mass"):
        Material("x", ((1, 0.5), (92, 0.5)), 75.0, params)
    with pytest.raises(InputError, match="mean_excitation_ev"):
        Material("x", ((1, 0.5), (8, 0.5)), 0.0, params)


def test_soft_tissue_stops_less_per_gram_by_its_electron_density() -> None:
    # same I within 0.1 eV: S_col per gram scales with <Z/A> (1 % less than water) below 2 MeV
    t = np.array([0.05, 0.3, 1.0, 2.0])
    ratio = collision_stopping_power(t, ICRU_SOFT_TISSUE) / collision_stopping_power(t)
    assert ratio == pytest.approx(ICRU_SOFT_TISSUE.z_over_a / WATER.z_over_a, rel=2e-3)
    tw, rw = csda_range_table()
    ts, rs = csda_range_table(material=ICRU_SOFT_TISSUE)
    assert float(np.interp(1.0, ts, rs) / np.interp(1.0, tw, rw)) == pytest.approx(1.0097, abs=1e-3)


def test_elastic_cross_section_quadrature_and_mott_factor() -> None:
    t = np.array([0.01, 0.1, 1.0, 2.0])
    s1, s2 = elastic_transport_cross_sections(t, mott=False)
    m1, _m2 = elastic_transport_cross_sections(t, mott=True)
    assert np.all(s2 > 2.0 * s1)
    assert np.all(s2 < 3.0 * s1)
    # the spin of the electron lowers large-angle scattering more as beta -> 1
    ratio = m1 / s1
    assert ratio[0] == pytest.approx(1.0, abs=0.005)
    assert ratio[0] > ratio[1] > ratio[2]
    assert np.all((ratio[2:] > 0.92) & (ratio[2:] < 0.96))


def test_mixed_elastic_soft_plus_hard_is_the_whole_cross_section() -> None:
    t = np.array([0.05, 0.5, 1.5])
    tables = mixed_elastic_tables(t)
    total, _ = elastic_transport_cross_sections(t)
    rng = np.random.default_rng(7)
    for i, energy in enumerate(t):
        mu = tables.sample_hard(np.full(400_000, energy), rng)
        hard_sigma1 = 2.0 * mu.mean() * tables.hard_rate[:, i].sum()
        assert tables.soft_sigma1[i] + hard_sigma1 == pytest.approx(total[i], rel=0.01)


def test_step_deflection_has_the_requested_moments() -> None:
    rng = np.random.default_rng(3)
    for m, q in ((0.01, 0.002), (0.1, 0.05), (0.3, 0.2)):
        mu = (1.0 - sample_step_deflection(np.full(2_000_000, m), np.full(2_000_000, q), rng)) / 2
        assert mu.mean() == pytest.approx(m, rel=0.015)
        assert (mu * mu).mean() == pytest.approx(q, rel=0.03)


def test_coulomb_lambda2_and_spectrum_means() -> None:
    w = np.array([1.5, 3.0, 5.0])
    assert coulomb_lambda2(1, 2, w) == pytest.approx(1.0, abs=0.01)
    assert np.all(coulomb_lambda2(40, 90, w) < 1.0)
    # ICRP 107 mean beta energies: the model spectra are within 0.5 %
    assert mean_energy_mev("Y-90") == pytest.approx(Y90.mean_beta_energy_mev, rel=0.005)
    assert mean_energy_mev("Ho-166") == pytest.approx(HO166.mean_beta_energy_mev, rel=0.006)
