"""Dose point kernels, voxel kernels and voxel S-values."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.dosimetry import point_kernel, voxel_s_values
from opensirt.dosimetry.beta_spectrum import mean_energy_mev
from opensirt.dosimetry.electron_interactions import (
    collision_stopping_power,
    csda_range_table,
    moller_cosines,
    moller_cross_section,
    moller_transport_cross_section,
    restricted_collision_stopping_power,
    sample_moller_fraction,
)
from opensirt.dosimetry.electron_transport import simulate_point_kernel
from opensirt.dosimetry.kernels import SOFT_TISSUE_DENSITY_G_PER_ML, energy_kernel
from opensirt.dosimetry.materials import ICRU_SOFT_TISSUE
from opensirt.errors import InputError
from opensirt.physics import Y90


@pytest.mark.parametrize(
    ("energy_mev", "estar_g_cm2"),
    # NIST ESTAR, liquid water, CSDA ranges
    [(0.1, 0.01431), (0.5, 0.1766), (1.0, 0.4367), (2.0, 0.9785)],
)
def test_csda_range_matches_estar(energy_mev: float, estar_g_cm2: float) -> None:
    t, r = csda_range_table()
    assert float(np.interp(energy_mev, t, r)) == pytest.approx(estar_g_cm2, rel=0.01)


def test_collision_stopping_power_matches_estar() -> None:
    # ESTAR water: 0.01 MeV 22.56, 0.1 MeV 4.115 MeV cm^2/g
    assert float(collision_stopping_power(0.01)) == pytest.approx(22.56, rel=0.005)
    assert float(collision_stopping_power(0.1)) == pytest.approx(4.115, rel=0.005)


# Class II quantities at T = 1 MeV, Delta = 10 keV, water (hand computation):
# tau = 1/0.51099895 = 1.956951; beta^2 = tau(tau+2)/(tau+1)^2 = 0.885630;
# d = Delta/mc^2 = 0.0195695; K Z/A = 0.153537 * 10/18.015 = 0.0852273 MeV cm^2/g (H2O with
# the IUPAC 2013 atomic weights 1.008 and 15.999).
_TAU = 1.0 / 0.51099895
_BETA2 = _TAU * (_TAU + 2) / (_TAU + 1) ** 2
_KZA = 0.153537 * 10 / 18.015


def test_restricted_stopping_power_hand_value() -> None:
    # ICRU 37 restricted stopping power:
    # ln(2 (tau + 2) / (I/mc^2)^2) = ln(2 * 3.956951 / (75e-6/0.510999)^2) = 19.721890;
    # F-(tau, d) = -1 - 0.885630 + ln((1.956951 - 0.019570) * 0.019570)
    # + 1.956951/1.937382 + (0.019570^2/2 + 4.913902 ln(1 - 0.0100000)) / 2.956951^2
    # = -4.153601; density effect: x = log10(sqrt(tau (tau + 2))) = 0.444470,
    # delta = 4.6052 x - 3.5017 + 0.09116 (2.8004 - x)^3.4773 = 0.339596;
    # L = 0.0852273 / 0.885630 * (19.721890 - 4.153601 - 0.339596) = 1.465514 MeV cm^2/g
    d = 0.01 / 0.51099895
    f_minus = (
        -1
        - _BETA2
        + math.log((_TAU - d) * d)
        + _TAU / (_TAU - d)
        + (d * d / 2 + (2 * _TAU + 1) * math.log(1 - d / _TAU)) / (_TAU + 1) ** 2
    )
    assert f_minus == pytest.approx(-4.153601, abs=1e-6)
    expected = _KZA / _BETA2 * (19.721890 + f_minus - 0.339596)
    assert expected == pytest.approx(1.465514, rel=1e-5)
    assert float(restricted_collision_stopping_power(1.0, 0.01)) == pytest.approx(
        expected, rel=1e-5
    )


def test_moller_cross_section_hand_value() -> None:
    # eps0 = 0.01; c = (tau/(tau+1))^2 = 0.437998; g = (2 tau + 1)/(tau + 1)^2 = 0.562002;
    # bracket = 1/0.01 - 1/0.99 + 0.437998 * 0.49 - 0.562002 * ln(99) = 96.62205;
    # Sigma = 0.0852273 / (0.885630 * 1 MeV) * 96.62205 = 9.29828 cm^-1 (mean free path 1.1 mm)
    c = (_TAU / (_TAU + 1)) ** 2
    g = (2 * _TAU + 1) / (_TAU + 1) ** 2
    bracket = 1 / 0.01 - 1 / 0.99 + c * 0.49 - g * math.log(99)
    assert bracket == pytest.approx(96.62205, rel=1e-6)
    assert float(moller_cross_section(1.0, 0.01)) == pytest.approx(
        _KZA / _BETA2 * bracket, rel=1e-9
    )
    assert float(moller_cross_section(0.02, 0.01)) == 0.0  # T <= 2 Delta: no hard collision


@pytest.mark.parametrize("t_mev", [0.05, 0.3, 1.0, 2.2])
def test_restricted_plus_hard_losses_give_the_full_stopping_power(t_mev: float) -> None:
    """L_Delta + int_Delta^(T/2) W dSigma/dW dW = S_col (ICRU 37, ch. 2)."""
    delta = 0.01
    w = np.geomspace(delta, t_mev / 2, 20001)
    m = 0.51099895
    tau = t_mev / m
    b2 = tau * (tau + 2) / (tau + 1) ** 2
    dsdw = (
        _KZA
        / b2
        * (
            1 / w**2
            + 1 / (t_mev - w) ** 2
            + 1 / (t_mev + m) ** 2
            - (2 * t_mev + m) * m / ((t_mev + m) ** 2 * w * (t_mev - w))
        )
    )
    hard_loss = np.trapezoid(w * dsdw, w)
    total = float(restricted_collision_stopping_power(t_mev, delta)) + hard_loss
    assert total == pytest.approx(float(collision_stopping_power(t_mev)), rel=1e-6)
    assert np.trapezoid(dsdw, w) == pytest.approx(
        float(moller_cross_section(t_mev, delta)), rel=1e-6
    )


def test_moller_sampling_reproduces_mean_transfer() -> None:
    """Mean sampled transfer equals (S_col - L_Delta) / Sigma, the cross-section's own mean."""
    rng = np.random.default_rng(5)
    t = np.full(200_000, 1.0)
    eps = sample_moller_fraction(t, rng, 0.01)
    assert eps.min() >= 0.01
    assert eps.max() <= 0.5
    hard_loss = float(
        collision_stopping_power(1.0) - restricted_collision_stopping_power(1.0, 0.01)
    )
    expected = hard_loss / float(moller_cross_section(1.0, 0.01))
    # mean about 0.040 MeV; standard error of the mean 0.07 / sqrt(2e5) = 0.00016 MeV
    assert float(eps.mean()) == pytest.approx(expected, abs=0.0008)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.floats(0.03, 2.5), st.floats(0.0, 1.0))
def test_moller_kinematics_conserve_momentum(t_mev: float, u: float) -> None:
    w = 0.01 + u * (t_mev / 2 - 0.01)
    mu_p, mu_s = moller_cosines(np.array([t_mev]), np.array([w]))

    def p(e: float) -> float:
        return math.sqrt(e * (e + 2 * 0.51099895))

    along = p(t_mev - w) * float(mu_p[0]) + p(w) * float(mu_s[0])
    across = p(t_mev - w) * math.sqrt(1 - float(mu_p[0]) ** 2) - p(w) * math.sqrt(
        1 - float(mu_s[0]) ** 2
    )
    assert along == pytest.approx(p(t_mev), rel=1e-9)
    assert across == pytest.approx(0.0, abs=1e-9 * p(t_mev))


def test_moller_transport_cross_section_small_share_of_scattering() -> None:
    # the explicit hard deflections remove a few per cent of the scattering power
    s1 = float(moller_transport_cross_section(1.0, 0.01))
    assert 0.0 < s1 < 0.1 * float(moller_cross_section(1.0, 0.01))
    assert float(moller_transport_cross_section(0.015, 0.01)) == 0.0


def test_spectrum_mean_energy_close_to_icrp107() -> None:
    assert mean_energy_mev("Y-90") == pytest.approx(Y90.mean_beta_energy_mev, rel=0.005)
    assert mean_energy_mev("Ho-166") == pytest.approx(0.6651, rel=0.006)


def test_small_transport_run_conserves_energy() -> None:
    r_mm, fraction, radiative = simulate_point_kernel("Y-90", 4000, seed=1)
    assert fraction.sum() + radiative == pytest.approx(1.0, abs=1e-9)
    assert 0.002 < radiative < 0.01
    # range straggling carries a few electrons past the CSDA range (11.3 mm), never far past
    assert r_mm[np.searchsorted(np.cumsum(fraction), fraction.sum() - 1e-12)] < 1.08 * 11.32


@pytest.mark.parametrize(("nuclide", "endpoint_mev"), [("Y-90", 2.2785), ("Ho-166", 1.8545)])
def test_shipped_point_kernel_is_consistent(nuclide: str, endpoint_mev: float) -> None:
    pk = point_kernel(nuclide)
    assert pk.absorbed_fraction + pk.radiative_fraction == pytest.approx(1.0, abs=2e-6)
    assert np.all(np.diff(pk.cumulative_fraction) >= 0)
    # CSDA range of the end-point energy in soft tissue (Y-90 11.4 mm, Ho-166 9.1 mm):
    # energy-loss straggling carries a trace (0 .. 1e-5) beyond it, none beyond 1.08 times it
    t, r = csda_range_table(material=ICRU_SOFT_TISSUE)
    csda_mm = float(np.interp(endpoint_mev, t, r)) * 10.0
    beyond = pk.absorbed_fraction - float(np.interp(csda_mm, pk.r_mm, pk.cumulative_fraction))
    assert 0.0 <= beyond < 1e-5
    assert pk.max_radius_mm < 1.08 * csda_mm


def test_y90_x90_and_mean_range() -> None:
    pk = point_kernel("Y-90")
    # X90 of Y-90 in water is about 5.3 mm (mean range 2.5 mm, max 11 mm: Kennedy 2007); the
    # kernel is soft tissue at 1 g/cm^3, 1 % longer per g/cm^2
    assert 5.0 < pk.radius_containing_mm(0.9) < 5.6


@pytest.mark.parametrize("voxel_mm", [3.0, 4.42, 5.0])
def test_voxel_kernel_sums_to_absorbed_fraction(voxel_mm: float) -> None:
    k = energy_kernel("Y-90", (voxel_mm,) * 3)
    assert k.sum() == pytest.approx(point_kernel("Y-90").absorbed_fraction, rel=1e-9)


def test_voxel_kernel_symmetry_anisotropic() -> None:
    k = energy_kernel("Y-90", (5.0, 4.0, 3.0))
    assert np.array_equal(k, k[::-1, :, :])
    assert np.array_equal(k, k[:, ::-1, :])
    assert np.array_equal(k, k[:, :, ::-1])
    c = np.array(k.shape) // 2
    # the neighbour across the smallest face (3 mm, x) gets more than across 5 mm (z)
    assert k[c[0], c[1], c[2] + 1] > k[c[0] + 1, c[1], c[2]]


def test_voxel_kernel_cubic_is_axis_symmetric() -> None:
    k = energy_kernel("Ho-166", (4.0, 4.0, 4.0))
    assert np.allclose(k, k.transpose(1, 0, 2))
    assert np.allclose(k, k.transpose(2, 1, 0))


def _tent_quadrature(offset: tuple[int, int, int], h_mm: float, n: int = 60) -> float:
    """Energy fraction in voxel ``offset`` by deterministic quadrature of the DPK.

    Independent of the quasi-Monte Carlo sampler: the difference of two uniform points in
    cubes of side h has the density prod(1 - |t_i|) on [-1, 1]^3 (in units of h), so
    E(n) = h^3 * integral prod(1 - |t_i|) rho_E(h |n + t|) d^3t with the energy density
    rho_E(r) = F'(r) / (4 pi r^2), F the cumulative absorbed fraction (range-scaled to
    soft tissue, 1.04 g/mL). Midpoint rule on n^3 points.
    """
    pk = point_kernel("Y-90")
    rho = SOFT_TISSUE_DENSITY_G_PER_ML
    shell = np.diff(np.concatenate([[0.0], pk.cumulative_fraction]))
    mid_water = pk.r_mm - 0.025
    t = (np.arange(n) + 0.5) / n * 2.0 - 1.0
    tz, ty, tx = np.meshgrid(t, t, t, indexing="ij")
    weight = (1 - abs(tz)) * (1 - abs(ty)) * (1 - abs(tx)) * (2.0 / n) ** 3
    r = h_mm * np.sqrt((offset[0] + tz) ** 2 + (offset[1] + ty) ** 2 + (offset[2] + tx) ** 2)
    dfdr = rho * np.interp(r * rho, mid_water, shell / 0.05, right=0.0)
    return float(np.sum(weight * dfdr / (4 * math.pi * r**2)) * h_mm**3)


@pytest.mark.parametrize("voxel_mm", [3.0, 4.42, 5.0])
@pytest.mark.parametrize("offset", [(0, 0, 1), (0, 1, 1), (1, 1, 1), (0, 0, 2)])
def test_voxel_kernel_agrees_with_independent_quadrature(
    voxel_mm: float, offset: tuple[int, int, int]
) -> None:
    k = energy_kernel("Y-90", (voxel_mm,) * 3)
    c = k.shape[0] // 2
    value = k[c + offset[0], c + offset[1], c + offset[2]]
    assert value == pytest.approx(_tent_quadrature(offset, voxel_mm), rel=0.03)


def test_voxel_s_values_units_and_hand_value() -> None:
    s = voxel_s_values("Y-90", 5.0)
    c = s.shape[0] // 2
    # S = E * f / m: E = 0.932314 MeV = 1.4937e-13 J; m = 1.04 g/mL * 0.125 mL = 1.3e-4 kg;
    # mGy/(MBq s) = 1e9 * J/kg per decay
    f = energy_kernel("Y-90", (5.0, 5.0, 5.0))[c, c, c]
    expected = 0.932314 * 1.602176634e-13 * f / 1.3e-4 * 1e9
    assert s[c, c, c] == pytest.approx(expected, rel=1e-4)
    # self-dose: about half the energy stays in a 5 mm voxel
    assert 0.4 < f < 0.55


def test_voxel_s_values_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="voxel_size_mm is"):
        voxel_s_values("Y-90", (1.0, 2.0))
    with pytest.raises(InputError, match="expected a therapy beta emitter"):
        voxel_s_values("Tc-99m", 4.0)
