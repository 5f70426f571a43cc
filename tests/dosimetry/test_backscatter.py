"""The backscatter-deficit correction of the path-length method at vacuum (issue 13, skin)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from opensirt.dosimetry._backscatter import (
    SURFACE_DEFICITS,
    ExitLog,
    SurfaceAlbedo,
    SurfaceDeficit,
    outward_normals,
    vacuum_distance_mm,
    weighted_growth,
)
from opensirt.dosimetry.path_length import cumulative_kernel, path_length_dose
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume


def _slab_in_air(scale: float = 1.0) -> tuple[Volume, Volume]:
    """5 layers of loaded tissue under 6 of air, 4.42 mm cubes, 9 x 9 laterally."""
    rho = np.full((11, 9, 9), 0.0012, dtype=np.float32)
    rho[:5] = 1.06
    act = np.zeros_like(rho)
    act[:5] = scale
    activity = Volume(act, spacing_mm=(4.42,) * 3, units="MBq")
    return activity, activity.with_array(rho, units="g/mL")


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_factor_is_one_deep_inside_and_the_surface_value_at_the_surface(nuclide: str) -> None:
    model = SURFACE_DEFICITS[nuclide]
    mu = np.array([0.0, 0.5, 1.0])
    assert np.allclose(model.factor(np.full(3, 40.0 * model.depth_mm), mu), 1.0, atol=1e-12)
    assert np.allclose(model.factor(np.zeros(3), mu), model.a + model.b * mu)
    assert np.all(np.diff(model.factor(np.linspace(0.0, 5.0, 20), np.full(20, 0.7))) > 0)


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(InputError, match="depth_mm"):
        SurfaceDeficit(0.5, 0.2, 0.0)
    with pytest.raises(InputError, match="surface factor"):
        SurfaceDeficit(0.9, 0.3, 1.0)


def test_weighted_growth_integrates_the_kernel() -> None:
    f = cumulative_kernel("Y-90")
    d = np.linspace(0.0, f.max_radius_mm, 7)
    # a very long lambda: G = F
    assert np.allclose(weighted_growth(f.values, f.step_mm, 1e9, d), np.interp(
        d, np.arange(f.values.size) * f.step_mm, f.values), atol=1e-6)  # fmt: skip


def test_normals_point_out_of_the_dense_side_and_out_of_the_grid() -> None:
    rho = np.ones((4, 4, 4), dtype=np.float32)
    rho[:, :, 2:] = 0.0012
    n = outward_normals(rho, np.array([np.ravel_multi_index((2, 2, 1), rho.shape)]), (1.0,) * 3)
    assert np.allclose(n, [[0.0, 0.0, 1.0]])  # towards the air
    uniform = np.ones((5, 5, 5), dtype=np.float32)
    n = outward_normals(uniform, np.array([np.ravel_multi_index((0, 2, 2), (5, 5, 5))]), (2.0,) * 3)
    assert np.allclose(n, [[-1.0, 0.0, 0.0]])  # at the grid's edge (z = 0), out of the grid


def test_air_next_to_loaded_tissue_gets_less_and_deep_tissue_is_unchanged() -> None:
    activity, density = _slab_in_air()
    corrected = path_length_dose(activity, "Y-90", density=density).array
    plain = path_length_dose(activity, "Y-90", density=density, vacuum_deficit=False).array
    air = np.s_[5:7, 3:6, 3:6]
    ratio = corrected[air].mean() / plain[air].mean()
    assert 0.4 < ratio < 0.95
    # the middle of the tissue, 2 voxels (9 mm) from the air and the grid's edges
    deep = np.s_[2, 3:6, 3:6]
    assert np.allclose(corrected[deep], plain[deep], rtol=2e-3)


def test_the_correction_is_linear_in_the_activity() -> None:
    activity, density = _slab_in_air()
    one = path_length_dose(activity, "Y-90", density=density).array
    activity, density = _slab_in_air(3.0)
    three = path_length_dose(activity, "Y-90", density=density).array
    assert np.allclose(three, 3.0 * one, rtol=1e-5, atol=1e-6 * float(one.max()))


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_no_change_where_no_vacuum_is_in_reach(nuclide: str) -> None:
    """Tissue with a lung block, activity far from the grid's edges: bit for bit the same."""
    rho = np.full((20, 20, 20), 1.06, dtype=np.float32)
    rho[9:12, 6:14, 6:14] = 0.26
    act = np.zeros_like(rho)
    act[7:9, 8:12, 8:12] = 1.0
    activity = Volume(act, spacing_mm=(4.0,) * 3, units="MBq")
    density = activity.with_array(rho, units="g/mL")
    corrected = path_length_dose(activity, nuclide, density=density).array
    plain = path_length_dose(activity, nuclide, density=density, vacuum_deficit=False).array
    assert np.array_equal(corrected, plain)


def _plane_exit_cosine(start: tuple[float, float, float], mu: float) -> float:
    """Chord cosine of one ray from ``start`` (voxel units, 1 mm voxels) leaving the tissue
    (z < 5) of a 9 x 9 x 12 grid through the plane z = 5 at the cosine ``mu``."""
    rho = np.full((9, 9, 12), 0.0012, dtype=np.float32)
    rho[:5] = 1.0
    p0, u = np.asarray(start), np.array([mu, 0.0, (1.0 - mu * mu) ** 0.5])
    t_exit = (5.0 - p0[0]) / mu
    faces = [(np.floor(p0[a]) + k - p0[a]) / u[a] for a in (0, 2) for k in range(1, 13)]
    t = np.unique(np.clip([0.0, *faces, t_exit], 0.0, t_exit))
    log = ExitLog(1, 100.0, p0[None, :])
    for t0, t1 in itertools.pairwise(t):
        cell = np.floor(p0 + 0.5 * (t0 + t1) * u).astype(np.int64)
        flat = np.array([np.ravel_multi_index(tuple(cell), rho.shape)])
        log.step(flat, rho.ravel()[flat], np.array([t0]), np.array([t1]))
    log.finish(np.array([False]), np.array([True]), np.array([t_exit]))
    normal = np.array([[1.0, 0.0, 0.0]])
    return float(log.chord_cosines(np.array([0]), rho, (1.0,) * 3, 0.0, normal)[0])


@pytest.mark.parametrize("mu", [0.3, 0.6, 0.9])
def test_the_chord_cosine_under_a_plane_is_the_cosine(mu: float) -> None:
    assert _plane_exit_cosine((1.5, 4.5, 0.2), mu) == pytest.approx(mu, rel=1e-6)
    # a ray that starts in the surface layer: its start's depth over its path to the exit
    assert _plane_exit_cosine((4.3, 4.5, 0.2), mu) == pytest.approx(mu, rel=1e-6)


def test_vacuum_distance_counts_the_grid_edge_and_light_voxels() -> None:
    rho = np.ones((5, 5, 5), dtype=np.float32)
    rho[2, 2, 4] = 0.0012
    flat = np.ravel_multi_index(([2, 2, 0], [2, 3, 2], [2, 3, 2]), rho.shape)
    assert np.allclose(vacuum_distance_mm(rho, flat, (2.0, 2.0, 2.0), 5.0), [4.0, 8**0.5, 2.0])


def _air_over_tissue() -> tuple[Volume, Volume]:
    """5 layers of tissue under 6 of loaded air, 4.42 mm cubes, 9 x 9 laterally."""
    rho = np.full((11, 9, 9), 0.0012, dtype=np.float32)
    rho[:5] = 1.06
    activity = Volume((rho < 1).astype(np.float32), spacing_mm=(4.42,) * 3, units="MBq")
    return activity, activity.with_array(rho, units="g/mL")


def test_invalid_albedo_parameters_are_refused() -> None:
    with pytest.raises(InputError, match="depth_mm"):
        SurfaceAlbedo(0.1, 0.1, 0.0, 1.0)
    with pytest.raises(InputError, match="loss_per_mm"):
        SurfaceAlbedo(0.1, 0.1, 1.0, -1.0)
    with pytest.raises(InputError, match="normal \\+ grazing"):
        SurfaceAlbedo(0.6, 0.5, 1.0, 1.0)


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_the_albedo_moves_energy_from_the_tissue_surface_to_the_air(
    nuclide: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity, density = _air_over_tissue()
    reflected = path_length_dose(activity, nuclide, density=density, decay_photons=False).array
    monkeypatch.setitem(SURFACE_DEFICITS, nuclide, replace(SURFACE_DEFICITS[nuclide], albedo=None))
    kept = path_length_dose(activity, nuclide, density=density, decay_photons=False).array
    centre = (slice(2, 7), slice(2, 7))
    tissue, air = (
        reflected[4][centre].mean() / kept[4][centre].mean(),
        reflected[5][centre].mean() / kept[5][centre].mean(),
    )
    assert 0.85 < tissue < 0.98  # a few per cent of the entering energy comes back out
    assert 1.03 < air < 1.3  # and is the air's dose next to the surface
    mass = density.array.astype(np.float64)
    taken = float(((kept - reflected) * mass)[:5].sum())
    given = float(((reflected - kept) * mass)[5:].sum())
    assert 0.0 < given < taken  # the air keeps a little of it; the rest leaves the grid


def test_sources_in_dense_medium_are_unchanged_by_the_albedo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    activity, density = _slab_in_air()
    with_albedo = path_length_dose(activity, "Y-90", density=density).array
    monkeypatch.setitem(SURFACE_DEFICITS, "Y-90", replace(SURFACE_DEFICITS["Y-90"], albedo=None))
    assert np.array_equal(path_length_dose(activity, "Y-90", density=density).array, with_albedo)


def test_a_ray_from_air_is_mirrored_in_the_surface_it_enters() -> None:
    rho = np.full((4, 4, 4), 0.0012, dtype=np.float32)
    rho[:2] = 1.0  # dense below z = 2: the outward normal is +z
    u = np.array([-0.8, 0.6, 0.0])
    start = np.array([3.5, 1.2, 1.5])
    log = ExitLog(1, 100.0, start[None, :])
    # voxels crossed (1 mm cubes) and the geometric distances where the ray enters them
    path: list[tuple[tuple[int, int, int] | None, float]] = [
        ((3, 1, 1), 0.0), ((2, 1, 1), 0.625), ((2, 2, 1), 4 / 3), ((1, 2, 1), 1.875),
        ((1, 3, 1), 3.0), ((0, 3, 1), 3.125), (None, 4.375),
    ]  # fmt: skip
    d = 0.0
    for (cell, t0), (_, t1) in itertools.pairwise(path):
        assert cell is not None
        flat = np.array([np.ravel_multi_index(cell, rho.shape)])
        d1 = d + float(rho[cell]) * (t1 - t0)
        log.step(flat, rho.ravel()[flat], np.array([d]), np.array([d1]), np.array([t0]))
        d = d1
    f = cumulative_kernel("Y-90")
    model = SurfaceAlbedo(0.05, 0.2, 1.5, 1.0)
    voxel, taken, at, mirror, energy = log.reflections(
        model, f.values, f.step_mm, rho, (1.0,) * 3, u[None, :], np.ones(1), np.zeros(1)
    )
    assert np.allclose(mirror, [[0.8, 0.6, 0.0]])
    assert np.allclose(at, [[2.0, 1.2 + 1.875 * 0.6, 1.5]], atol=1e-3)
    assert at[0, 0] > 2.0  # in the air voxel before the entry
    assert np.all(rho.ravel()[voxel] == 1.0)
    assert np.all(taken <= 0.0)
    assert energy[0] == pytest.approx(-taken.sum())
    assert 0.0 < energy[0] < float(model.eta(np.array([0.8]))[0])
