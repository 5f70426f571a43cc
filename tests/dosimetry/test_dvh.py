"""Dose-volume histograms and metrics against hand-computed cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.dosimetry import dose_volume_histogram
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume


def test_four_voxels_hand_computed() -> None:
    # doses 10, 20, 30, 40 Gy, 1 mL each: cumulative points (40, 25 %), (30, 50 %),
    # (20, 75 %), (10, 100 %)
    h = dose_volume_histogram(np.array([10.0, 20.0, 30.0, 40.0]), np.ones(4), 1.0, name="t")
    assert h.volume_ml == 4.0
    assert h.mean_gy == 25.0
    assert (h.min_gy, h.max_gy) == (10.0, 40.0)
    assert h.d_percent_gy(50) == 30.0
    assert h.d_percent_gy(70) == pytest.approx(22.0)  # 30 - (70-50)/25 * 10
    assert h.d_percent_gy(90) == pytest.approx(14.0)  # 20 - (90-75)/25 * 10
    assert h.d_percent_gy(98) == pytest.approx(10.8)
    assert h.d_percent_gy(2) == 40.0
    assert h.d_percent_gy(100) == 10.0
    assert h.v_fraction(20.0) == 0.75
    assert h.v_ml(20.0) == 3.0
    assert h.v_fraction(35.0) == pytest.approx(0.375)
    assert h.v_fraction(5.0) == 1.0
    assert h.v_fraction(40.01) == 0.0


def test_partial_voxels() -> None:
    # a full voxel at 10 Gy and a half voxel at 20 Gy (2 mL voxels): volume 3 mL,
    # mean (10 + 0.5 * 20) / 1.5 = 13.33 Gy; V(20 Gy) = 0.5 / 1.5
    h = dose_volume_histogram(np.array([10.0, 20.0]), np.array([1.0, 0.5]), 2.0)
    assert h.volume_ml == 3.0
    assert h.mean_gy == pytest.approx(40.0 / 3.0)
    assert h.v_fraction(20.0) == pytest.approx(1.0 / 3.0)
    # D50: between (20, 1/3) and (10, 1): 20 - (0.5 - 1/3) / (2/3) * 10 = 17.5
    assert h.d_percent_gy(50) == pytest.approx(17.5)
    # a zero-weight voxel changes nothing
    h0 = dose_volume_histogram(np.array([10.0, 20.0, 99.0]), np.array([1.0, 0.5, 0.0]), 2.0)
    assert h0.max_gy == 20.0
    assert h0.mean_gy == pytest.approx(h.mean_gy)


def test_known_distribution_on_volume() -> None:
    # a linear dose ramp 0.5..99.5 Gy over 100 slices: D_x = 100 - x (voxel-centre doses)
    dose = np.broadcast_to((np.arange(100) + 0.5)[:, None, None], (100, 2, 2)).copy()
    v = Volume(dose, spacing_mm=(2.0, 2.0, 2.0), units="Gy")
    h = dose_volume_histogram(v, np.ones(dose.shape, bool), name="ramp")
    assert h.volume_ml == pytest.approx(400 * 0.008)
    for x in (50, 70, 90, 95):
        assert h.d_percent_gy(x) == pytest.approx(100.5 - x, abs=1e-9)
    assert h.metrics()["D95_gy"] == pytest.approx(5.5)


def test_cumulative_and_differential() -> None:
    h = dose_volume_histogram(np.array([10.0, 20.0, 30.0, 40.0]), np.ones(4), 1.0)
    edges = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    assert np.allclose(h.cumulative(edges), [1.0, 1.0, 0.75, 0.5, 0.25, 0.0])
    assert h.differential(edges).sum() == pytest.approx(1.0)


@settings(max_examples=30, derandomize=True, deadline=None)
@given(st.lists(st.floats(0.0, 500.0), min_size=1, max_size=40), st.floats(0.0, 100.0))
def test_d_and_v_are_consistent(doses: list[float], percent: float) -> None:
    h = dose_volume_histogram(np.array(doses), np.ones(len(doses)), 1.0)
    d = h.d_percent_gy(percent)
    assert h.min_gy <= d <= h.max_gy
    assert h.v_fraction(d) >= percent / 100.0 - 1e-9


def test_bad_structures_are_refused() -> None:
    with pytest.raises(InputError, match="expected a boolean mask"):
        dose_volume_histogram(np.ones(3), np.array([0, 1, 2]), 1.0)
    with pytest.raises(InputError, match="structure 'liver' is empty"):
        dose_volume_histogram(np.ones(3), np.zeros(3), 1.0, name="liver")
    with pytest.raises(InputError, match="expected the dose grid's"):
        dose_volume_histogram(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(InputError, match="percent is 120"):
        dose_volume_histogram(np.ones(3), np.ones(3), 1.0).d_percent_gy(120)


def test_dust_weights_are_dropped() -> None:
    # round-off occupancies (1e-15) from grid arithmetic change neither the volume, the mean,
    # the extremes nor any D_x
    doses = np.array([10.0, 20.0, 30.0, 40.0, 1000.0, 0.0])
    clean = dose_volume_histogram(doses[:4], np.ones(4), 1.0)
    dusty = dose_volume_histogram(doses, np.array([1, 1, 1, 1, 1e-15, 3e-7]), 1.0)
    assert dusty.volume_ml == clean.volume_ml
    assert dusty.mean_gy == clean.mean_gy
    assert (dusty.min_gy, dusty.max_gy) == (10.0, 40.0)
    for x in (0.0, 2.0, 50.0, 98.0, 100.0):
        assert dusty.d_percent_gy(x) == clean.d_percent_gy(x)
    with pytest.raises(InputError, match=r"structure 'dust' is empty \(no voxel with occupancy"):
        dose_volume_histogram(doses, np.full(6, 1e-9), 1.0, name="dust")


def test_barely_touched_voxels_do_not_set_min_max_or_d2() -> None:
    # 100 voxels fully inside at 10..19.9 Gy; the contour grazes a 500 Gy voxel (1 %) and a
    # 0 Gy voxel (2 %): min and max are those of the voxels at least half inside, and the
    # near-extremes move by the partial volumes only, not to 0 or 500 Gy
    doses = np.concatenate([10.0 + 0.1 * np.arange(100), [500.0, 0.0]])
    weights = np.concatenate([np.ones(100), [0.01, 0.02]])
    h = dose_volume_histogram(doses, weights, 1.0)
    assert (h.min_gy, h.max_gy) == (10.0, pytest.approx(19.9))
    assert h.volume_ml == pytest.approx(100.03)
    assert 19.0 < h.d_percent_gy(2.0) < 19.9
    assert 10.0 < h.d_percent_gy(98.0) < 11.0
    # the barely-touched voxels still hold their share of the volume at their dose
    assert h.v_ml(500.0) == pytest.approx(0.01)
    assert h.v_fraction(0.0) == 1.0


def test_structure_smaller_than_half_a_voxel_uses_its_most_occupied_voxels() -> None:
    h = dose_volume_histogram(np.array([5.0, 7.0, 9.0]), np.array([0.2, 0.3, 0.3]), 1.0)
    assert (h.min_gy, h.max_gy) == (7.0, 9.0)
    assert h.volume_ml == pytest.approx(0.8)
