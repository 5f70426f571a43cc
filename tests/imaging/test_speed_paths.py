"""The fast paths for clinical matrix sizes give what the plain computations give."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensirt.demo.phantom import GRIDS, PhantomResolution, make_phantom
from opensirt.errors import InputError
from opensirt.imaging.regrid import crop_to_grid, rebin_sum, voxel_coverage
from opensirt.imaging.rtstruct import rasterise_polygons
from opensirt.imaging.volume import Volume


def _dense_rebin(source: Volume, target: Volume) -> np.ndarray:
    """Rebinning by dense overlap matrices (axis-aligned grids), the textbook way."""

    def weights(a: int) -> np.ndarray:
        src_lo = source.origin_mm[a] + (np.arange(source.shape[2 - a]) - 0.5) * source.spacing_mm[a]
        dst_lo = target.origin_mm[a] + (np.arange(target.shape[2 - a]) - 0.5) * target.spacing_mm[a]
        lo = np.maximum(dst_lo[:, None], src_lo[None, :])
        hi = np.minimum(
            dst_lo[:, None] + target.spacing_mm[a], src_lo[None, :] + source.spacing_mm[a]
        )
        return np.clip(hi - lo, 0.0, None) / source.spacing_mm[a]

    w = [weights(a) for a in range(3)]
    return np.einsum("Kk,Jj,Ii,kji->KJI", w[2], w[1], w[0], np.asarray(source.array, float))


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(*(st.integers(2, 12),) * 3),
    spacing=st.tuples(*(st.floats(0.3, 3.0),) * 3),
    target_spacing=st.tuples(*(st.floats(0.5, 6.0),) * 3),
    shift=st.tuples(*(st.floats(-4.0, 4.0),) * 3),
    seed=st.integers(0, 1000),
)
def test_banded_rebinning_equals_dense_overlaps(
    shape: tuple[int, int, int],
    spacing: tuple[float, float, float],
    target_spacing: tuple[float, float, float],
    shift: tuple[float, float, float],
    seed: int,
) -> None:
    values = np.random.default_rng(seed).random(shape)
    source = Volume(values, spacing_mm=spacing)
    target = Volume(np.zeros((5, 4, 6)), spacing_mm=target_spacing, origin_mm=shift)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = rebin_sum(source, target).array
    np.testing.assert_allclose(fast, _dense_rebin(source, target), rtol=1e-12, atol=1e-12)
    ones = source.with_array(np.ones(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = rebin_sum(ones, target).array
    np.testing.assert_allclose(voxel_coverage(source, target).array, expected, atol=1e-12)


def test_crop_to_grid_keeps_the_sums_on_the_grid() -> None:
    rng = np.random.default_rng(3)
    ct = Volume(rng.random((40, 30, 30)), spacing_mm=(1.5, 1.5, 2.0), origin_mm=(-22, -22, -40))
    pet = Volume(np.zeros((8, 5, 5)), spacing_mm=(4.0, 4.0, 4.0), origin_mm=(-8, -8, -15))
    crop = crop_to_grid(ct, pet)
    assert crop.array.size < ct.array.size / 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(rebin_sum(crop, pet).array, rebin_sum(ct, pet).array)


def test_scanline_rasterisation_of_a_concave_polygon_with_a_hole() -> None:
    # an L shape, and a square hole inside its long arm (even-odd rule)
    ell = np.array([[0.5, 0.5], [8.5, 0.5], [8.5, 2.5], [2.5, 2.5], [2.5, 6.5], [0.5, 6.5]])
    hole = np.array([[3.5, 1.0], [5.5, 1.0], [5.5, 2.0], [3.5, 2.0]])
    mask = rasterise_polygons([ell, hole], (8, 10))
    expected = np.zeros((8, 10), bool)
    expected[1:3, 1:9] = True
    expected[1:7, 1:3] = True
    expected[1:3, 4:6] = False  # centres (4..5, 1..2) lie inside the hole or on its edge
    np.testing.assert_array_equal(mask, expected)


def test_clinical_grids_have_the_stated_matrix_and_voxel_sizes() -> None:
    clinical = GRIDS[PhantomResolution.CLINICAL]
    assert clinical.ct_shape == (250, 512, 512)
    assert clinical.ct_spacing_mm == (0.8, 0.8, 2.0)
    assert clinical.spect_shape == (128, 128, 128)
    assert clinical.pet_shape == (110, 200, 200)


def test_clinical_phantom_geometry_at_a_quarter_size() -> None:
    p = make_phantom(seed=2, size=0.25, resolution="clinical")
    assert p.resolution is PhantomResolution.CLINICAL
    assert p.ct.shape == (62, 128, 128)
    assert p.ct.spacing_mm == pytest.approx((0.8, 0.8, 2.0))
    assert p.maa.image.shape == (32, 32, 32)
    assert p.pet.image.shape == (28, 50, 50)
    small = make_phantom(seed=2, size=0.25)
    # same anatomy: the liver volumes agree to the partial-voxel error of the coarser CT
    assert p.structures.volume_ml("Liver") == pytest.approx(
        small.structures.volume_ml("Liver"), rel=0.05
    )
    assert p.context.study_instance_uid != small.context.study_instance_uid


def test_unknown_resolution_is_refused() -> None:
    with pytest.raises(InputError, match="resolution is 'huge', expected one of 'small', 'clin"):
        make_phantom(size=0.25, resolution="huge")


def test_half_covered_voxels_are_exactly_one_half() -> None:
    """Fractions do not depend on the summation order: a half-covered voxel is 0.5 exactly."""
    from opensirt.imaging.regrid import coverage_fraction

    mask = np.zeros((30, 30, 30), dtype=bool)
    mask[:, :, :15] = True  # x < 15 voxels of 0.1 mm: 1.5 mm
    fine = Volume(mask, spacing_mm=(0.1, 0.1, 0.1))
    coarse = Volume(np.zeros((3, 3, 3)), spacing_mm=(1.0, 1.0, 1.0), origin_mm=(0.45, 0.45, 0.45))
    fraction = coverage_fraction(fine, coarse).array
    np.testing.assert_array_equal(fraction[:, :, 1], 0.5)
    assert bool(np.all(fraction[:, :, 1] >= 0.5))
