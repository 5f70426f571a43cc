"""Slice sampling converts only the box around the plane, with the same samples."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from opensirt.imaging.volume import Volume
from opensirt.report.slices import plane_grid


@pytest.mark.parametrize("plane", ["axial", "coronal", "sagittal"])
@pytest.mark.parametrize("position", [(0.0, 20.0, 10.0), (-30.0, -30.0, -30.0), (20.0, 20.0, 40.0)])
@pytest.mark.parametrize("order", [0, 1, 3])
def test_samples_equal_interpolation_of_the_whole_volume(
    plane: str, position: tuple[float, float, float], order: int
) -> None:
    values = np.random.default_rng(0).random((20, 30, 40))
    volume = Volume(values, spacing_mm=(1.5, 1.2, 2.5), origin_mm=(-10.0, 5.0, 3.0))
    grid = plane_grid(volume, plane, position)
    ijk = volume.physical_to_index(grid.points_mm())
    coords = np.moveaxis(ijk[..., ::-1], -1, 0)
    whole = ndimage.map_coordinates(values, coords, order=order, mode="constant", cval=-7.0)
    np.testing.assert_array_equal(grid.sample(volume, order=order, cval=-7.0), whole)
