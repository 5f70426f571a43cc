"""Exact rebinning, fractional coverage and quantification arithmetic."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.errors import GeometryError, InputError
from opensirt.imaging import (
    concentration_to_activity_mbq,
    counts_to_activity_mbq,
    coverage_fraction,
    decay_activity,
    rebin_sum,
    scale_to_total_activity,
)
from opensirt.imaging.volume import Volume

TZ = timezone(timedelta(hours=1))


def test_overlap_by_hand() -> None:
    # fine 1 mm voxels centred at x = 0..5; coarse 3 mm voxels centred at 1 and 4 mm:
    # coarse 0 spans [-0.5, 2.5] -> fine 0, 1, 2 entirely; coarse 1 spans [2.5, 5.5]
    fine = Volume(np.arange(1.0, 7.0).reshape(1, 1, 6), spacing_mm=(1, 1, 1))
    coarse = Volume(np.zeros((1, 1, 2)), spacing_mm=(3, 1, 1), origin_mm=(1, 0, 0))
    assert rebin_sum(fine, coarse).array.ravel().tolist() == [1 + 2 + 3, 4 + 5 + 6]
    # shifted by 0.5 mm: coarse 0 spans [0, 3] -> half of fine 0, fine 1, 2, half of fine 3
    shifted = Volume(np.zeros((1, 1, 2)), spacing_mm=(3, 1, 1), origin_mm=(1.5, 0, 0))
    with pytest.warns(UserWarning, match="outside the target grid"):
        out = rebin_sum(fine, shifted).array.ravel()
    assert out.tolist() == pytest.approx([0.5 + 2 + 3 + 2, 2 + 5 + 6])


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    shift=st.tuples(*[st.floats(-2.0, 2.0)] * 3),
    flip=st.booleans(),
)
def test_coverage_sums_to_mask_volume(seed: int, shift: tuple[float, ...], flip: bool) -> None:
    rng = np.random.default_rng(seed)
    mask = Volume(rng.random((12, 14, 16)) > 0.7, spacing_mm=(1.0, 1.2, 1.5))
    direction = (-1, 0, 0, 0, 1, 0, 0, 0, 1) if flip else (1, 0, 0, 0, 1, 0, 0, 0, 1)
    origin = (20.0 if flip else -3.0, -3.0, -3.0)
    coarse = Volume(
        np.zeros((8, 8, 10)),
        spacing_mm=(4.42, 4.42, 4.42),
        origin_mm=tuple(o + s for o, s in zip(origin, shift, strict=True)),
        direction=direction,
    )
    fraction = coverage_fraction(mask, coarse)
    covered_ml = fraction.array.sum() * coarse.voxel_volume_ml
    assert covered_ml == pytest.approx(np.count_nonzero(mask.array) * mask.voxel_volume_ml)
    assert fraction.array.min() >= 0.0
    assert fraction.array.max() <= 1.0


def test_oblique_grid_is_supersampled() -> None:
    mask = Volume(np.ones((20, 20, 20), bool), spacing_mm=(1, 1, 1), origin_mm=(-9.5,) * 3)
    c, s = math.cos(0.3), math.sin(0.3)
    coarse = Volume(
        np.zeros((2, 2, 2)),
        spacing_mm=(4, 4, 4),
        origin_mm=(-2, -2, -2),
        direction=(c, -s, 0, s, c, 0, 0, 0, 1),
    )  # fully inside the mask: every fraction is 1; most of the mask lies outside
    with pytest.warns(UserWarning, match="lies outside the coarse grid"):
        np.testing.assert_allclose(coverage_fraction(mask, coarse).array, 1.0)


def test_frames_must_match() -> None:
    a = Volume(np.ones((2, 2, 2)), spacing_mm=(1, 1, 1), frame_of_reference_uid="1.2")
    b = Volume(np.ones((2, 2, 2)), spacing_mm=(1, 1, 1), frame_of_reference_uid="1.3")
    with pytest.raises(GeometryError, match="different frames of reference"):
        rebin_sum(a, b)


def test_counts_to_activity_by_hand() -> None:
    # Tc-99m, T1/2 = 6.0067 h; 20 min scan; k = 20 cps/MBq; 1.0e6 counts in a voxel
    counts = Volume(np.full((1, 1, 1), 1.0e6), spacing_mm=(4.42,) * 3, units="counts")
    lam = math.log(2) / (6.0067 * 3600)  # 1/s
    effective_s = (1 - math.exp(-lam * 1200)) / lam  # lam T = 0.03846 -> 1177.25 s
    expected = 1.0e6 / (20.0 * effective_s)  # = 42.47 MBq at the scan start
    a = counts_to_activity_mbq(counts, 20.0, duration_s=1200, nuclide="Tc-99m")
    assert a.array[0, 0, 0] == pytest.approx(expected, rel=1e-12)
    assert a.units == "MBq"
    assert expected == pytest.approx(42.473, abs=1e-3)


def test_scale_to_total_and_units_errors() -> None:
    counts = Volume(np.array([[[100.0, 300.0, 600.0, 0.0]]]), spacing_mm=(4, 4, 4), units="counts")
    region = counts.with_array(np.array([[[1.0, 1.0, 0.5, 0.0]]]))
    # counts in region = 100 + 300 + 0.5 * 600 = 700 -> 140 MBq / 700 = 0.2 MBq per count
    a = scale_to_total_activity(counts, region, 140.0)
    assert a.array.ravel().tolist() == pytest.approx([20.0, 60.0, 120.0, 0.0])
    with pytest.raises(InputError, match=r"holds 0.0"):
        scale_to_total_activity(counts, counts.with_array(np.array([[[0, 0, 0, 1.0]]])), 1.0)
    with pytest.raises(InputError, match="total_activity_mbq is -1"):
        scale_to_total_activity(counts, region, -1.0)
    with pytest.raises(InputError, match="units 'counts', expected 'Bq/mL'"):
        concentration_to_activity_mbq(counts)
    with pytest.raises(InputError, match="names no radionuclide"):
        counts_to_activity_mbq(counts, 10.0, duration_s=10.0)
    with pytest.raises(InputError, match="acquisition_duration_s"):
        counts_to_activity_mbq(counts, 10.0, nuclide="Tc-99m")


def test_pet_concentration_and_decay() -> None:
    t_scan = datetime(2026, 11, 26, 12, 0, tzinfo=TZ)
    pet = Volume(
        np.full((1, 1, 1), 250_000.0),
        spacing_mm=(4, 4, 4),
        units="Bq/mL",
        metadata={"activity_reference_datetime": t_scan, "radionuclide": "Y-90"},
    )
    a = concentration_to_activity_mbq(pet)
    assert a.array[0, 0, 0] == pytest.approx(0.25 * 0.064)  # 0.25 MBq/mL x 0.064 mL
    # back to the treatment time, 26 h earlier: x exp(+ln2 x 26 / 64.1) = x 1.3245
    treated = decay_activity(a, t_scan - timedelta(hours=26))
    assert treated.array[0, 0, 0] == pytest.approx(0.016 * 2 ** (26 / 64.1))
    with pytest.raises(InputError, match="time zone"):
        decay_activity(a, datetime(2026, 11, 25, 10, 0))
