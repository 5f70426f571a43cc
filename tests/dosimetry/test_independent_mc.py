"""Independent Monte Carlo check with ompMC (EGSnrc physics): internal Y-90 sources.

ompMC is a GPL-3 *test* dependency (the dev extra); CI installs it, so there these tests must
run (``OPENSIRT_REQUIRE_TOOLS``), and locally they skip without it. One core, about a minute in
all (``OMP_NUM_THREADS=1``); the larger runs and the full table are in
``benchmarks/independent_mc.py``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from dosimetry.laminar_reference import laminar_layer_dose, shipped_planar_kernel
from dosimetry.ompmc_beta import (
    bin_mass_kg,
    energy_per_decay_mev,
    make_geometry,
    run_batch,
    slab_dose,
    slab_phantom,
    transport,
    water_cube,
)
from dosimetry.ompmc_water import (
    PLANAR_KERNEL_CSV,
    point_source_energy,
    radial_radii_mm,
    read_planar_kernel_csv,
    voxelised_kernel,
)
from opensirt.dosimetry.kernels import point_kernel
from opensirt.physics.nuclides import JOULE_PER_MEV

pytestmark = pytest.mark.slow
PLANAR_KERNEL = Path(__file__).resolve().parents[1] / "data" / PLANAR_KERNEL_CSV


@pytest.fixture(scope="module", autouse=True)
def _ompmc() -> None:
    if importlib.util.find_spec("ompmc") is None:
        if os.environ.get("OPENSIRT_REQUIRE_TOOLS"):
            pytest.fail("ompmc (the dev extra) is required (OPENSIRT_REQUIRE_TOOLS set)")
        pytest.skip("ompmc (the dev extra) is not installed")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def test_phase_space_particles_start_where_they_are() -> None:
    """A 100 keV electron (CSDA range 0.14 mm) deep inside stays in its own 2 mm voxel."""
    phantom = water_cube(9, 2.0, 0)
    n = 2000
    start = np.tile([0.5, 0.7, 1.1], (n, 1))  # cm from the corner: voxel (i, j, k) = (2, 3, 5)
    direction = np.tile([0.0, 0.0, 1.0], (n, 1))
    dose, fraction = transport(make_geometry(phantom), start, direction, np.full(n, 0.1), (3, 4))
    energy = dose * 1.0e-3 * 0.2**3 / JOULE_PER_MEV  # MeV per history, (x, y, z) order
    assert fraction == pytest.approx(1.0, abs=1e-3)
    assert energy[2, 3, 5] / energy.sum() > 0.99
    assert energy.sum() == pytest.approx(0.1, rel=1e-3)


def test_uniform_water_source_local_deposition_deep_inside() -> None:
    """Uniform Y-90 in an 11 cm water cube: the dose deep inside is local deposition, to 1 %.

    Tallied in 3 x 3 x 3 bins (3 voxels = 13 mm, beyond the 11 mm electron range, from the
    faces): the dose volume holds the energy ompMC says it deposited.
    """
    phantom = water_cube(25, 4.42, 3)
    geometry = make_geometry(phantom, merge_lateral=True, merge_depth=slice(3, 22))
    dose, emitted_mev, fraction = run_batch(phantom, 60_000, 11, 0, geometry=geometry)
    assert energy_per_decay_mev(dose, geometry) == pytest.approx(fraction * emitted_mev, rel=1e-3)
    mass_kg = bin_mass_kg(geometry).sum()
    local = emitted_mev * JOULE_PER_MEV / mass_kg * point_kernel("Y-90").absorbed_fraction
    assert dose[1, 1, 1] / local == pytest.approx(1.0, abs=0.01)


def test_point_source_radii_against_the_water_kernel() -> None:
    """X50 and X90 of ompMC's point source in water against the shipped kernel.

    Same voxelisation (0.5 mm) on both sides; the radii are interpolated between voxel-centre
    distances, so they move in steps of a few per cent. Measured against the previous water
    kernel (benchmarks/independent_mc.py, 2e5 decays): ompMC's X50 +6.9 %, X90 +2.1 % (EGSnrc
    physics put the energy farther out). The soft-tissue kernel with mixed elastic scattering
    and the Mott factor puts it farther out too (and soft tissue has 1 % fewer electrons per
    gram than ompMC's water): here (15 000 decays) both radii agree, X50 and X90 +0.0 %.
    """
    n, h = 49, 0.5
    energy, fraction = point_source_energy(n, h, 15_000, 5)
    kernel = point_kernel("Y-90")
    assert energy.sum() == pytest.approx(kernel.absorbed_fraction, abs=0.003)
    assert fraction == pytest.approx(energy.sum(), rel=1e-3)
    ours = radial_radii_mm(voxelised_kernel(kernel, n, h, 1_000_000, 1), h, (0.5, 0.9))
    theirs = radial_radii_mm(energy, h, (0.5, 0.9))
    x50, x90 = theirs / ours - 1.0
    assert abs(x50) < 0.05
    assert abs(x90) < 0.05


@pytest.mark.parametrize("source_medium", ["tissue", "lung"])
def test_lung_tissue_slabs_against_the_laminar_reference(source_medium: str) -> None:
    """ICRU tissue (1.06) / lung (0.26), 4.42 mm voxels, activity in one medium only.

    The layers of the issue's goals against the exact laminar solution for water of the
    voxel's density, built from ompMC's own water planar kernel (so geometry and composition
    are tested: 5 % at the interface, 2 % in the bulk) and from the shipped kernel (the
    transport difference in water added: 5 % more); plus 3 sigma. The table of every layer in
    docs/dosimetry.md comes from benchmarks/independent_mc.py.
    """
    phantom = slab_phantom(source_medium)
    result = slab_dose(phantom, 100_000, batches=8, seed=2026)
    rho = phantom.density_g_per_ml[:, 0, 0]
    layers = (phantom.source[:, 0, 0], phantom.voxel_mm, phantom.area_cm2, result.emitted_mev)
    own = laminar_layer_dose(read_planar_kernel_csv(str(PLANAR_KERNEL)), rho, *layers)
    shipped = laminar_layer_dose(shipped_planar_kernel("Y-90"), rho, *layers)
    # the layers: two on each side of the interface (between k = 7 and 8) and the bulk
    # of each medium (13 mm, beyond the electron range, from the tissue's outer face and the
    # interface; 20-44 mm into lung), where the dose is above 2 % of the maximum
    interface, bulk = np.zeros((2, rho.size), dtype=bool)
    interface[6:10] = True
    bulk[[3, 4, 14, 15, 16, 17, 18]] = True
    checked = (interface | bulk) & (own > 0.02 * own.max())
    tolerance = np.where(interface, 0.05, 0.02)
    sigma = result.sigma_gy[checked] / own[checked]
    for reference, extra in ((own, 0.0), (shipped, 0.05)):
        deviation = np.abs(result.dose_gy[checked] / reference[checked] - 1.0)
        allowed = tolerance[checked] + extra + 3.0 * sigma
        assert np.all(deviation < allowed), (deviation, allowed)
    assert checked.sum() == (6 if source_medium == "tissue" else 8)
