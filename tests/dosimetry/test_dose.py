"""Local deposition, kernel convolution and density correction."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import fftconvolve

from opensirt.dosimetry import (
    DensityCorrection,
    decays_per_voxel,
    density_from_ct,
    energy_per_decay_j,
    fft_convolve,
    hu_to_density,
    kernel_dose,
    local_deposition_dose,
    point_kernel,
    total_energy_j,
)
from opensirt.dosimetry.kernels import energy_kernel
from opensirt.errors import GeometryError, InputError
from opensirt.imaging.volume import Volume

ABSORBED = point_kernel("Y-90").absorbed_fraction


def _block(shape: tuple[int, int, int], margin: int, spacing: float, units: str = "MBq") -> Volume:
    a = np.zeros(shape)
    a[margin:-margin, margin:-margin, margin:-margin] = 1.0
    return Volume(a, spacing_mm=(spacing,) * 3, units=units)


def test_ldm_hand_computed() -> None:
    # 1 MBq of Y-90 in one 4 mm voxel of density 1.04: N = 1e6 * 64.1 * 3600 / ln 2 decays,
    # E = 0.932314 MeV each, m = 1.04 g/mL * 0.064 mL = 6.656e-5 kg.
    a = np.zeros((3, 3, 3))
    a[1, 1, 1] = 1.0
    dose = local_deposition_dose(Volume(a, spacing_mm=(4.0, 4.0, 4.0), units="MBq"), "Y-90")
    decays = 1e6 * 64.1 * 3600 / np.log(2)
    expected = decays * 0.932314 * 1.602176634e-13 / 6.656e-5
    assert float(dose.array[1, 1, 1]) == pytest.approx(expected, rel=1e-5)
    assert dose.units == "Gy"
    assert dose.metadata["method"] == "LDM"


def test_activity_units_are_parsed() -> None:
    v = Volume(np.ones((2, 2, 2)), spacing_mm=(10.0, 10.0, 10.0), units="MBq/mL")
    # 1 MBq/mL in 1 mL voxels = 1 MBq per voxel; cumulated 1 MBq h = 3.6e9 decays
    assert decays_per_voxel(v, "Y-90")[0, 0, 0] == pytest.approx(1e6 * 64.1 * 3600 / np.log(2))
    c = Volume(np.ones((2, 2, 2)), spacing_mm=(1.0, 1.0, 1.0), units="MBq h")
    assert decays_per_voxel(c, "Y-90")[0, 0, 0] == pytest.approx(3.6e9)
    with pytest.raises(InputError, match=r"activity\.units is 'counts'"):
        decays_per_voxel(Volume(np.ones((2, 2, 2)), spacing_mm=(1, 1, 1), units="counts"), "Y-90")


def test_uniform_source_deep_dose_equals_ldm_and_energy_is_conserved() -> None:
    act = _block((32, 32, 32), 5, 4.0)
    dose = kernel_dose(act, "Y-90")
    ldm = local_deposition_dose(act, "Y-90")
    # deep inside (> 11 mm from the edge of the activity) the kernel dose is the LDM dose
    # minus the bremsstrahlung escape (0.46 %)
    centre = dose.array[16, 16, 16]
    assert centre == pytest.approx(ldm.array[16, 16, 16] * ABSORBED, rel=1e-3)
    assert centre == pytest.approx(ldm.array[16, 16, 16], rel=0.01)
    emitted = float(decays_per_voxel(act, "Y-90").astype(float).sum()) * energy_per_decay_j("Y-90")
    absorbed = total_energy_j(dose)
    assert absorbed == pytest.approx(emitted, rel=0.005)
    assert absorbed == pytest.approx(emitted * ABSORBED, rel=1e-4)


def test_dose_is_linear_in_activity() -> None:
    rng = np.random.default_rng(7)
    a1, a2 = rng.random((12, 12, 12)), rng.random((12, 12, 12))
    v = lambda a: Volume(a, spacing_mm=(4.0, 4.0, 4.0), units="MBq")  # noqa: E731
    d1, d2 = kernel_dose(v(a1), "Y-90").array, kernel_dose(v(a2), "Y-90").array
    d12 = kernel_dose(v(2.0 * a1 + 3.0 * a2), "Y-90").array
    assert np.allclose(d12, 2.0 * d1 + 3.0 * d2, rtol=1e-4, atol=1e-3 * d12.max())


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    st.integers(-3, 3),
    st.integers(-3, 3),
    st.integers(-3, 3),
    st.sampled_from(["Y-90", "Ho-166"]),
)
def test_shifted_source_shifts_the_dose(dz: int, dy: int, dx: int, nuclide: str) -> None:
    a = np.zeros((20, 20, 20))
    a[10, 10, 10] = 1.0
    b = np.roll(a, (dz, dy, dx), axis=(0, 1, 2))
    v = lambda x: Volume(x, spacing_mm=(3.0, 3.0, 3.0), units="MBq")  # noqa: E731
    da, db = kernel_dose(v(a), nuclide).array, kernel_dose(v(b), nuclide).array
    assert np.allclose(np.roll(da, (dz, dy, dx), axis=(0, 1, 2)), db, atol=1e-6 * da.max())


def test_fft_convolve_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a = rng.random((17, 19, 23))
    k = energy_kernel("Y-90", (3.0, 3.0, 3.0))
    ours = fft_convolve(a, k)
    ref = fftconvolve(a, k, mode="same")
    assert ours.dtype == np.float32
    assert np.allclose(ours, ref, rtol=1e-4, atol=1e-5 * ref.max())


def test_ct_density_calibration() -> None:
    # Schneider 2000 points; lung -800 HU: 0.00121 + 200 * (0.93 - 0.00121) / 902
    assert float(hu_to_density([-800.0])[0]) == pytest.approx(0.00121 + 200 * 0.92879 / 902)
    assert float(hu_to_density([1600.0])[0]) == pytest.approx(1.9642, rel=1e-6)
    with pytest.raises(InputError, match="CT numbers span -3024"):
        hu_to_density([-3024.0, 0.0])
    ct = Volume(np.full((2, 2, 2), 14.0), spacing_mm=(1, 1, 1), units="HU")
    assert np.allclose(density_from_ct(ct).array, 1.03)


@pytest.mark.parametrize("method", ["mass", "range"])
def test_uniform_lung_gets_ldm_scaled_by_inverse_density(method: str) -> None:
    rho_lung = 0.3
    act = _block((40, 40, 40), 2, 6.0)
    dose = kernel_dose(act, "Y-90", density=rho_lung, correction=method)
    soft = local_deposition_dose(act, "Y-90")  # soft tissue, 1.04 g/mL
    # range-scaled lung kernel reaches 11 mm / 0.3 = 36 mm: the centre is 108 mm deep
    assert dose.array[20, 20, 20] == pytest.approx(
        soft.array[20, 20, 20] * 1.04 / rho_lung * ABSORBED, rel=2e-3
    )


def _liver_lung(nz: int = 24) -> tuple[Volume, Volume]:
    """Uniform activity in liver (z < nz/2, 1.04 g/mL); lung above (0.3 g/mL), no activity."""
    a = np.zeros((nz, 16, 16))
    a[: nz // 2] = 1.0
    rho = np.full(a.shape, 1.04)
    rho[nz // 2 :] = 0.3
    act = Volume(a, spacing_mm=(4.0, 4.0, 4.0), units="MBq")
    return act, act.with_array(rho, units="g/mL")


def test_liver_lung_interface() -> None:
    act, rho = _liver_lung()
    sk = kernel_dose(act, "Y-90", density=rho, correction="none").array
    skd = kernel_dose(act, "Y-90", density=rho, correction="mass").array
    rng = kernel_dose(act, "Y-90", density=rho, correction="range").array
    # lung side next to the interface: energy from liver electrons over the lung mass
    assert skd[12, 8, 8] == pytest.approx(sk[12, 8, 8] * 1.04 / 0.3, rel=1e-4)
    assert skd[12, 8, 8] > 2.0 * sk[12, 8, 8] > 0
    # liver far (>= 16 mm) from the interface: unchanged by the correction
    ldm = local_deposition_dose(act, "Y-90").array
    for d in (sk, skd, rng):
        assert d[4, 8, 8] == pytest.approx(ldm[4, 8, 8] * ABSORBED, rel=0.02)


@pytest.mark.parametrize("method", ["mass", "range"])
def test_energy_conserved_across_liver_lung_interface(method: str) -> None:
    a = np.zeros((40, 16, 16))
    a[6:20, 4:12, 4:12] = 1.0  # liver activity, >= 16 mm from every edge of the grid
    rho = np.full(a.shape, 1.04)
    rho[20:] = 0.3
    act = Volume(a, spacing_mm=(4.0, 4.0, 4.0), units="MBq")
    density = act.with_array(rho, units="g/mL")
    dose = kernel_dose(act, "Y-90", density=density, correction=method)
    emitted = float(decays_per_voxel(act, "Y-90").astype(float).sum()) * energy_per_decay_j("Y-90")
    assert total_energy_j(dose, density) == pytest.approx(emitted * ABSORBED, rel=1e-4)


def test_density_correction_rejects_bad_input() -> None:
    act, rho = _liver_lung()
    with pytest.raises(InputError, match="correction is 'water'"):
        kernel_dose(act, "Y-90", density=rho, correction="water")
    with pytest.raises(InputError, match="expected densities > 0"):
        kernel_dose(act, "Y-90", density=0.0)
    other = Volume(np.ones((3, 3, 3)), spacing_mm=(4, 4, 4), units="g/mL")
    with pytest.raises(GeometryError, match="different grids"):
        kernel_dose(act, "Y-90", density=other)
    assert DensityCorrection("range") is DensityCorrection.RANGE
