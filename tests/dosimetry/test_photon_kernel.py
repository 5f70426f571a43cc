"""The decay-photon term of the path-length method (Ho-166's gamma and x-ray lines)."""

from __future__ import annotations

import numpy as np
import pytest

from opensirt.dosimetry.mc_photons import ICRP107_PHOTON_ENERGY_MEV
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.dosimetry.photon_kernel import photon_energy_kernel
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import NuclideName

SPACING = (4.42, 4.42, 4.42)


def _point_source(n: int = 41) -> Volume:
    act = Volume(np.zeros((n, n, n), dtype=np.float32), spacing_mm=SPACING, units="MBq")
    act.array[n // 2, n // 2, n // 2] = 1.0
    return act


def test_y90_has_no_photon_term() -> None:
    """Y-90 has no photon lines: the dose is the same, bit for bit, with or without the term."""
    assert photon_energy_kernel(NuclideName.Y90, SPACING) is None
    act = _point_source(15)
    with_term = path_length_dose(act, "Y-90", density=1.04)
    without = path_length_dose(act, "Y-90", density=1.04, decay_photons=False)
    assert np.array_equal(with_term.array, without.array)
    assert with_term.metadata["decay_photons"] is False


def test_ho166_kernel_is_isotropic_and_holds_part_of_the_photon_energy() -> None:
    """The kernel is the same along the three axes (symmetrised over the grid), falls with
    distance, and holds less than the 30 keV of photons per decay (the rest goes farther
    than its radius): about half."""
    kernel = photon_energy_kernel(NuclideName.HO166, SPACING)
    assert kernel is not None
    assert not kernel.flags.writeable
    c = kernel.shape[0] // 2
    for k in (2, 5, 10):
        along = [kernel[c + k, c, c], kernel[c, c - k, c], kernel[c, c, c + k]]
        assert max(along) / min(along) < 1.0 + 1e-9, (k, along)  # symmetrised
    assert kernel[c, c, c] > kernel[c + 1, c, c] > kernel[c + 3, c, c] > kernel[c + 10, c, c]
    fraction = float(kernel.sum()) / ICRP107_PHOTON_ENERGY_MEV[NuclideName.HO166]
    assert 0.35 < fraction < 0.65


def test_ho166_photons_reach_beyond_the_betas() -> None:
    """Beyond the betas' range (Ho-166: 9 mm in soft tissue) only the photon term gives dose;
    it is linear in the activity and the same dose in lung as in tissue (water's fluence)."""
    act = _point_source()
    far = np.zeros(act.shape, dtype=bool)
    c = act.shape[0] // 2
    far[c + 6 : c + 9, c, c] = True  # 26-40 mm from the source
    betas = path_length_dose(act, "Ho-166", density=1.04, decay_photons=False)
    both = path_length_dose(act, "Ho-166", density=1.04)
    assert float(betas.array[far].max()) == 0.0
    assert float(both.array[far].min()) > 0.0
    assert both.metadata["decay_photons"] is True
    double = path_length_dose(act.with_array(act.array * 2.0), "Ho-166", density=1.04)
    assert np.allclose(double.array[far], 2.0 * both.array[far], rtol=1e-5)
    lung = path_length_dose(act, "Ho-166", density=0.26)
    lung_betas = path_length_dose(act, "Ho-166", density=0.26, decay_photons=False)
    photons = (both.array - betas.array)[far]
    assert (lung.array - lung_betas.array)[far] == pytest.approx(photons, rel=1e-4)
