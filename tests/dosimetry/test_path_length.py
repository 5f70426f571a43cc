"""The fast heterogeneous dose method (path-length scaled point kernel) against exact
solutions: laminar slabs (mass-depth water solution), finite slab boxes with air
(quadrature around the target), uniform media (range-scaled kernel)."""

from __future__ import annotations

import numpy as np
import pytest

from dosimetry.laminar_reference import (
    SLAB_CASES,
    SLAB_VOXEL_MM,
    box_slab_dose_gy,
    laminar_slab_dose_gy,
    slab_errors,
    slab_phantom,
)
from opensirt.dosimetry import decays_per_voxel, energy_per_decay_j, kernel_dose
from opensirt.dosimetry.convolution import fft_convolve
from opensirt.dosimetry.kernels import energy_kernel
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.errors import GeometryError, InputError
from opensirt.imaging.volume import Volume

LAYERS = (6, 8)  # voxel layers of the first and second medium
LATERAL = 31  # lung range is 10 voxels: the central 7 x 7 see no lateral edge
CENTRE = slice(12, 19)


def _slab(case: tuple[str, float, float, int]) -> tuple[Volume, Volume]:
    _, first, second, active = case
    rho, act = slab_phantom(first, second, active, layers=LAYERS, lateral=LATERAL)
    activity = Volume(act, spacing_mm=(SLAB_VOXEL_MM,) * 3, units="MBq")
    return activity, activity.with_array(rho, units="g/mL")


def _layer_means(dose: Volume) -> np.ndarray:
    return np.asarray(dose.array[:, CENTRE, CENTRE], dtype=np.float64).mean(axis=(1, 2))


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
@pytest.mark.parametrize("case", SLAB_CASES[:4], ids=[c[0] for c in SLAB_CASES[:4]])
def test_lung_and_bone_slabs_match_the_exact_laminar_dose(
    case: tuple[str, float, float, int], nuclide: str
) -> None:
    activity, density = _slab(case)
    # the exact path-length dose of the betas: the medium continues beyond the grid (no vacuum
    # deficit), no decay photons (the laminar reference is a beta kernel)
    dose = _layer_means(
        path_length_dose(
            activity, nuclide, density=density, vacuum_deficit=False, decay_photons=False
        )
    )
    n = decays_per_voxel(activity, nuclide)[:, 0, 0]
    exact = laminar_slab_dose_gy(nuclide, density.array[:, 0, 0], n, activity.spacing_zyx_mm)
    errors = slab_errors(dose, exact, LAYERS[0])
    assert errors, "no slab above 2 % of the maximum"
    assert max(abs(e) for e in errors.values()) < 0.05, errors
    # the bulk of the active medium (3 voxels or more from the interface): within 2 %
    active = range(0, LAYERS[0] - 2) if case[3] == 0 else range(LAYERS[0] + 2, sum(LAYERS))
    bulk = np.array([dose[i] / exact[i] - 1 for i in active])
    assert np.max(np.abs(bulk)) < 0.02, bulk


@pytest.mark.slow
@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
@pytest.mark.parametrize("case", SLAB_CASES[4:], ids=[c[0] for c in SLAB_CASES[4:]])
def test_air_slabs_match_the_exact_path_length_dose_of_the_finite_box(
    case: tuple[str, float, float, int], nuclide: str
) -> None:
    # Beta ranges in air are metres: no grid is laterally infinite, so the reference is the
    # exact path-length dose of this very box (quadrature around target points), without
    # the backscatter deficit at vacuum (tested against the Monte Carlo).
    activity, density = _slab(case)
    dose = _layer_means(
        path_length_dose(
            activity, nuclide, density=density, vacuum_deficit=False, decay_photons=False
        )
    )
    n = decays_per_voxel(activity, nuclide)[:, 0, 0]
    layers = [LAYERS[0] - 2, LAYERS[0] - 1, LAYERS[0], LAYERS[0] + 1]
    exact = box_slab_dose_gy(
        nuclide,
        density.array[:, 0, 0],
        n,
        activity.spacing_zyx_mm,
        LATERAL,
        CENTRE,
        layers,
        n_mu=64,
        n_phi=24,
    )
    top = max(exact.values())
    errors = {k: dose[k] / v - 1 for k, v in exact.items() if v > 0.02 * top}
    assert max(abs(e) for e in errors.values()) < 0.05, errors
    # the laminar (infinite) solution is far off in the air: the lateral size matters there
    laminar = laminar_slab_dose_gy(nuclide, density.array[:, 0, 0], n, activity.spacing_zyx_mm)
    assert abs(exact[LAYERS[0] + 1] / laminar[LAYERS[0] + 1] - 1) > 0.02


def test_anisotropic_voxels_at_a_lung_interface() -> None:
    rho, act = slab_phantom(1.06, 0.26, 0, layers=(6, 10), lateral=41)
    activity = Volume(act, spacing_mm=(3.0, 4.42, 2.5), units="MBq")  # x, y, z
    density = activity.with_array(rho, units="g/mL")
    dose = path_length_dose(activity, "Y-90", density=density).array
    means = np.asarray(dose[:, 15:26, 15:26], dtype=np.float64).mean(axis=(1, 2))
    n = decays_per_voxel(activity, "Y-90")[:, 0, 0]
    exact = laminar_slab_dose_gy("Y-90", rho[:, 0, 0], n, activity.spacing_zyx_mm)
    errors = slab_errors(means, exact, 6)
    assert max(abs(e) for e in errors.values()) < 0.05, errors


def test_laminar_and_box_references_agree_where_the_geometry_is_laminar() -> None:
    activity, density = _slab(SLAB_CASES[0])
    n = decays_per_voxel(activity, "Y-90")[:, 0, 0]
    laminar = laminar_slab_dose_gy("Y-90", density.array[:, 0, 0], n, activity.spacing_zyx_mm)
    box = box_slab_dose_gy(
        "Y-90",
        density.array[:, 0, 0],
        n,
        activity.spacing_zyx_mm,
        LATERAL,
        CENTRE,
        [LAYERS[0] - 1, LAYERS[0], LAYERS[0] + 1],
        n_mu=64,
        n_phi=24,
    )
    for layer, value in box.items():
        assert value == pytest.approx(laminar[layer], rel=0.01)


@pytest.mark.parametrize("rho", [0.37, 1.3, 2.1])
def test_uniform_medium_is_the_range_scaled_kernel(rho: float) -> None:
    a = np.zeros((24, 24, 24), dtype=np.float32)
    a[6:18, 8:16, 5:19] = 1.0
    a[10, 12, 12] = 5.0
    activity = Volume(a, spacing_mm=(4.42,) * 3, units="MBq")
    # the medium continuing beyond the grid (at 0.37 g/mL the grid's edge is in reach)
    dose = path_length_dose(activity, "Y-90", density=rho, vacuum_deficit=False).array
    kernel = energy_kernel("Y-90", activity.spacing_zyx_mm, density_g_per_ml=rho)
    energy = fft_convolve(decays_per_voxel(activity, "Y-90"), kernel)
    expected = energy * energy_per_decay_j("Y-90") / (rho * activity.voxel_volume_ml * 1e-3)
    np.testing.assert_allclose(dose, expected, rtol=0, atol=1e-5 * float(expected.max()))
    assert dose[12, 12, 12] == pytest.approx(
        float(kernel_dose(activity, "Y-90", density=rho, correction="range").array[12, 12, 12]),
        rel=0.03,
    )


def test_linear_in_activity_and_shift_invariant_in_a_uniform_medium() -> None:
    a = np.zeros((20, 20, 20), dtype=np.float32)
    a[5:9, 5:9, 5:9] = 1.0
    b = np.zeros_like(a)
    b[11:15, 9:13, 10:14] = 2.0
    vol = Volume(a, spacing_mm=(4.0,) * 3, units="MBq")
    d_a = path_length_dose(vol, "Y-90", density=1.06).array
    d_b = path_length_dose(vol.with_array(b), "Y-90", density=1.06).array
    d_ab = path_length_dose(vol.with_array(a + b), "Y-90", density=1.06).array
    np.testing.assert_allclose(d_ab, d_a + d_b, rtol=0, atol=1e-5 * float(d_ab.max()))
    shifted = path_length_dose(
        vol.with_array(np.roll(a, (2, -1, 3), axis=(0, 1, 2))), "Y-90", density=1.06
    )
    np.testing.assert_allclose(
        shifted.array,
        np.roll(d_a, (2, -1, 3), axis=(0, 1, 2)),
        rtol=0,
        atol=1e-5 * float(d_a.max()),
    )


def test_scaling_the_activity_scales_the_dose_with_interfaces() -> None:
    activity, density = _slab(SLAB_CASES[0])
    once = path_length_dose(activity, "Y-90", density=density).array
    twice = path_length_dose(activity.with_array(3.0 * activity.array), "Y-90", density=density)
    np.testing.assert_allclose(twice.array, 3.0 * once, rtol=1e-4, atol=1e-5 * float(once.max()))


def _tumour_next_to_lung() -> tuple[Volume, Volume]:
    n = 28
    rho = np.full((n, n, n), 1.06, dtype=np.float32)
    rho[14:] = 0.26  # lung above the liver
    z, y, x = np.ogrid[:n, :n, :n]
    tumour = (z - 10.5) ** 2 + (y - 14) ** 2 + (x - 14) ** 2 <= 9.0  # touches the lung
    act = np.where(tumour, 1.0, 0.0).astype(np.float32)
    activity = Volume(act, spacing_mm=(4.42,) * 3, units="MBq")
    return activity, activity.with_array(rho, units="g/mL")


def test_tumour_next_to_lung_behaves_physically() -> None:
    activity, density = _tumour_next_to_lung()
    dose = path_length_dose(activity, "Y-90", density=density).array
    mass = kernel_dose(activity, "Y-90", density=density, correction="mass").array
    lung_axis = dose[14:22, 14, 14]
    # lung dose falls with distance from the tumour, and reaches further than with `mass`
    assert np.all(np.diff(lung_axis) < 0)
    assert lung_axis[2] > 5 * mass[16, 14, 14]
    # no pile-up in the first lung voxel: `mass` puts soft-tissue ranges into lung
    assert lung_axis[0] < 0.8 * mass[14, 14, 14]
    # the tumour core is unaffected (its electrons stop before the lung)
    assert dose[10, 14, 14] == pytest.approx(float(mass[10, 14, 14]), rel=0.01)
    # energy: what the lung gains beyond the first voxel, the first voxel loses
    mass_kg = density.array * np.float32(activity.voxel_volume_ml * 1e-3)
    assert float((dose * mass_kg).sum()) == pytest.approx(float((mass * mass_kg).sum()), rel=0.03)


def test_metadata_and_zero_activity() -> None:
    activity, density = _tumour_next_to_lung()
    dose = path_length_dose(activity, "Y-90", density=density)
    assert dose.units == "Gy"
    assert dose.metadata["method"] == "path-length scaled point kernel"
    assert dose.metadata["ray_traced_source_voxels"] > 0
    empty = path_length_dose(activity.with_array(np.zeros(activity.shape)), "Y-90", density=density)
    assert not np.any(empty.array)


def test_bad_input_names_the_field() -> None:
    activity, density = _tumour_next_to_lung()
    with pytest.raises(InputError, match="rays_per_voxel is 2"):
        path_length_dose(activity, "Y-90", density=density, rays_per_voxel=2)
    with pytest.raises(InputError, match=r"activity\.units is 'counts'"):
        path_length_dose(activity.with_array(activity.array, units="counts"), "Y-90")
    with pytest.raises(InputError, match="density"):
        path_length_dose(activity, "Y-90", density=-1.0)
    with pytest.raises(InputError, match="nuclide"):
        path_length_dose(activity, "Tc-99m")
    with pytest.raises(InputError, match="dose_constant_gy_kg_per_gbq"):
        path_length_dose(activity, "Y-90", dose_constant_gy_kg_per_gbq=0.0)
    other = Volume(np.ones((4, 4, 4)), spacing_mm=(4.42,) * 3, units="g/mL")
    with pytest.raises(GeometryError):
        path_length_dose(activity, "Y-90", density=other)
