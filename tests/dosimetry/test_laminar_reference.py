"""The laminar (slab) reference of the independent Monte Carlo check: conservation and symmetry."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dosimetry.laminar_reference import (
    PlanarKernel,
    ShellPlanarKernel,
    laminar_layer_dose,
    laminar_slab_dose_gy,
    slab_energy_fraction,
)
from opensirt.dosimetry import energy_per_decay_j
from opensirt.dosimetry.kernels import point_kernel
from opensirt.physics.nuclides import JOULE_PER_MEV


@pytest.fixture(scope="module")
def planar() -> ShellPlanarKernel:
    return ShellPlanarKernel(point_kernel("Y-90"))


@pytest.fixture(scope="module")
def histogram(planar: ShellPlanarKernel) -> PlanarKernel:
    return planar.histogram(0.01)


def test_planar_kernel_holds_the_absorbed_energy(
    planar: ShellPlanarKernel, histogram: PlanarKernel
) -> None:
    assert planar.absorbed_fraction == pytest.approx(point_kernel("Y-90").absorbed_fraction)
    assert histogram.absorbed_fraction == pytest.approx(planar.absorbed_fraction, rel=1e-12)
    # the planar kernel falls with depth and vanishes beyond the largest radius
    density = histogram.fraction / np.diff(histogram.edges_mm)
    assert np.all(np.diff(density) <= 1e-12)


def test_closed_form_and_histogram_agree(planar: ShellPlanarKernel) -> None:
    """G of the closed form against G of its histogram (exact bins): converges with the bin."""
    u = np.linspace(0.0, 14.0, 1401)
    exact = planar.second_integral(u)
    for step_mm, tolerance in ((0.01, 2e-5), (0.001, 3e-7)):
        assert np.abs(planar.histogram(step_mm).second_integral(u) - exact).max() < tolerance


def test_second_integral_is_exact_for_the_histogram(histogram: PlanarKernel) -> None:
    """G(u) against a fine numerical double integral of the histogram."""
    planar = histogram
    u = np.linspace(0.0, 14.0, 140001)
    density = np.append(0.5 * planar.fraction / np.diff(planar.edges_mm), 0.0)
    p = density[np.searchsorted(planar.edges_mm, u, side="right") - 1]
    q = np.concatenate(([0.0], np.cumsum(0.5 * (p[1:] + p[:-1]) * np.diff(u))))
    g = np.concatenate(([0.0], np.cumsum(0.5 * (q[1:] + q[:-1]) * np.diff(u))))
    assert planar.second_integral(u[::10000]) == pytest.approx(g[::10000], rel=1e-3, abs=1e-6)
    assert planar.second_integral([-3.0]) == pytest.approx(planar.second_integral([3.0]))


def test_energy_is_conserved_and_reciprocal(planar: ShellPlanarKernel) -> None:
    """All layers together absorb the absorbed fraction; source and target swap (reciprocity)."""
    edges = np.arange(-30.0, 31.0, 1.0)
    total = sum(
        slab_energy_fraction(planar, (0.0, 1.0), (a, b)) for a, b in itertools.pairwise(edges)
    )
    assert total == pytest.approx(planar.absorbed_fraction, rel=1e-9)
    forward = slab_energy_fraction(planar, (0.0, 2.0), (3.0, 4.0)) * 2.0
    backward = slab_energy_fraction(planar, (3.0, 4.0), (0.0, 2.0)) * 1.0
    assert forward == pytest.approx(backward, rel=1e-9)


def test_thick_uniform_source_gives_local_deposition(planar: ShellPlanarKernel) -> None:
    """Deep inside a thick source of any density: energy x absorbed fraction / source mass."""
    for rho in (0.26, 1.06, 1.92):
        density = np.full(40, rho)
        dose = laminar_layer_dose(planar, density, np.ones(40, bool), 4.42, 100.0, 0.93)
        mass_kg = 100.0 * 40 * 0.442 * rho * 1.0e-3
        local = 0.93 * JOULE_PER_MEV / mass_kg * planar.absorbed_fraction
        assert dose[20] == pytest.approx(local, rel=1e-9)


def test_mass_depth_scaling(planar: ShellPlanarKernel) -> None:
    """A layer twice as dense and half as thick is the same layer in mass depth."""
    a = laminar_layer_dose(planar, [1.0, 1.0, 0.5], [True, True, False], 4.0, 1.0, 1.0)
    b = laminar_layer_dose(planar, [2.0, 2.0, 1.0], [True, True, False], 2.0, 1.0, 1.0)
    assert a == pytest.approx(b, rel=1e-12)


def test_general_layer_dose_matches_the_one_medium_form(planar: ShellPlanarKernel) -> None:
    """Per-voxel decays (laminar_slab_dose_gy) and per-decay dose (laminar_layer_dose) agree."""
    rho = np.array([1.06] * 4 + [0.26] * 6)
    source = rho > 1.0
    per_voxel = laminar_slab_dose_gy("Y-90", rho, source * 3.0, (4.42, 2.0, 2.0))
    emitted_mev = energy_per_decay_j("Y-90") / JOULE_PER_MEV
    per_decay = laminar_layer_dose(planar, rho, source, 4.42, 0.04, emitted_mev)  # 2 x 2 mm
    assert per_voxel == pytest.approx(per_decay * 12.0, rel=1e-9)  # 12 decays per column
