"""The look-up table of hu_to_density (large integer CTs) equals the interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from opensirt.dosimetry.density import hu_to_density, schneider_calibration
from opensirt.errors import InputError


@pytest.mark.parametrize("offset", [0.0, 0.25])
def test_large_ct_gives_the_interpolated_densities(offset: float) -> None:
    hu = np.random.default_rng(5).integers(-1024, 3000, (8, 128, 128)).astype(np.float32)
    hu += np.float32(offset)  # 0.25: not integers, so interpolated directly
    xp, fp = schneider_calibration()
    expected = np.interp(hu, xp, fp).astype(np.float32)
    np.testing.assert_array_equal(hu_to_density(hu), expected)


def test_nan_in_a_large_ct_is_refused() -> None:
    hu = np.zeros((8, 128, 128), dtype=np.float32)
    hu[3, 4, 5] = np.nan
    with pytest.raises(InputError, match="CT numbers contain NaN"):
        hu_to_density(hu)
