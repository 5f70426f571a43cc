"""Dose point kernels, voxel kernels and voxel S-values."""

import math

import numpy as np
import pytest

from opensirt.dosimetry import point_kernel, voxel_s_values
from opensirt.dosimetry.beta_spectrum import mean_energy_mev
from opensirt.dosimetry.electron_transport import (
    collision_stopping_power,
    csda_range_table,
    simulate_point_kernel,
)
from opensirt.dosimetry.kernels import SOFT_TISSUE_DENSITY_G_PER_ML, energy_kernel
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


def test_spectrum_mean_energy_close_to_icrp107() -> None:
    assert mean_energy_mev("Y-90") == pytest.approx(Y90.mean_beta_energy_mev, rel=0.02)
    assert mean_energy_mev("Ho-166") == pytest.approx(0.6651, rel=0.04)


def test_small_transport_run_conserves_energy() -> None:
    r_mm, fraction, radiative = simulate_point_kernel("Y-90", 4000, seed=1)
    assert fraction.sum() + radiative == pytest.approx(1.0, abs=1e-9)
    assert 0.002 < radiative < 0.01
    assert r_mm[np.searchsorted(np.cumsum(fraction), fraction.sum() - 1e-12)] < 11.5


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_shipped_point_kernel_is_consistent(nuclide: str) -> None:
    pk = point_kernel(nuclide)
    assert pk.absorbed_fraction + pk.radiative_fraction == pytest.approx(1.0, abs=2e-6)
    assert np.all(np.diff(pk.cumulative_fraction) >= 0)
    # beyond the CSDA range of the end-point energy nothing is absorbed (Y-90: 11.3 mm)
    assert pk.max_radius_mm < 11.5


def test_y90_x90_and_mean_range() -> None:
    pk = point_kernel("Y-90")
    # X90 of Y-90 in water is about 5.3 mm (mean range 2.5 mm, max 11 mm: Kennedy 2007)
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
