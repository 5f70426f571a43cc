"""The Monte Carlo engine: energy balance, normalisation, reproducibility, invariances."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from opensirt.dosimetry import local_deposition_dose
from opensirt.dosimetry.monte_carlo import monte_carlo
from opensirt.errors import InputError
from opensirt.imaging.volume import Volume
from opensirt.physics.nuclides import get_nuclide


def _activity(shape: tuple[int, int, int], spacing_mm: float, units: str = "MBq") -> Volume:
    return Volume(np.zeros(shape), spacing_mm=(spacing_mm,) * 3, units=units)


@pytest.mark.parametrize("nuclide", ["Y-90", "Ho-166"])
def test_energy_balance_in_a_lung_tissue_air_phantom(nuclide: str) -> None:
    act = _activity((6, 6, 6), 4.42)
    act.array[2:4, 2:4, 2:4] = 1.0
    rho = act.with_array(np.full(act.shape, 1.06), units="g/mL")
    rho.array[:, :, :2] = 0.26
    rho.array[:, :, 5] = 0.0012
    result = monte_carlo(act, nuclide, density=rho, histories=4000, batches=4, seed=3)
    assert result.energy_balance == pytest.approx(1.0, abs=1e-9)
    assert result.escaped_electron_mev > 0.0
    assert result.escaped_photon_mev > 0.0
    # betas carry the ICRP 107 energy per decay; Ho-166 adds its photon lines (~28 keV)
    beta = 0.9327 if nuclide == "Y-90" else 0.6651
    photons = 0.0 if nuclide == "Y-90" else 0.028
    assert result.emitted_mev == pytest.approx(beta + photons, rel=0.02)
    # the dose Volume's energy is the deposited energy
    mass_kg = rho.array * act.voxel_volume_ml * 1e-3
    decays = act.array.sum() * 1e6 * get_nuclide(nuclide).mean_life_h * 3600.0
    energy_mev = float((result.dose.array * mass_kg).sum()) / 1.602176634e-13
    assert energy_mev / decays == pytest.approx(result.deposited_mev, rel=0.01)


def test_same_seed_same_result_other_seed_other_result() -> None:
    act = _activity((3, 3, 3), 4.0)
    act.array[1, 1, 1] = 1.0
    first = monte_carlo(act, "Y-90", density=0.5, histories=1000, batches=2, seed=11)
    again = monte_carlo(act, "Y-90", density=0.5, histories=1000, batches=2, seed=11)
    other = monte_carlo(act, "Y-90", density=0.5, histories=1000, batches=2, seed=12)
    assert np.array_equal(first.batch_dose_gy, again.batch_dose_gy)
    assert not np.array_equal(first.dose.array, other.dose.array)
    assert np.allclose(first.batch_dose_gy.mean(axis=0), first.dose.array, rtol=1e-6)


_WORKERS_SCRIPT = """
import os, sys
import numpy as np
import opensirt.dosimetry.monte_carlo as mc
from opensirt.imaging.volume import Volume
pools = []
class CountedPool(mc.ProcessPoolExecutor):
    def __init__(self, max_workers, **kwargs):
        pools.append(max_workers)
        super().__init__(max_workers, **kwargs)
mc.ProcessPoolExecutor = CountedPool
act = Volume(np.zeros((3, 3, 3)), spacing_mm=(4.0,) * 3, units="MBq")
act.array[1, 1, 1] = 1.0
def run():
    seen = []
    r = mc.monte_carlo(act, "Y-90", density=0.5, histories=900, batches=3, seed=21,
                       progress=lambda *a: seen.append(a))
    return r, seen
os.environ["OPENSIRT_THREADS"] = "1"
single, _ = run()
os.environ["OPENSIRT_THREADS"] = "2"
pooled, seen = run()
print(pools, np.array_equal(single.batch_dose_gy, pooled.batch_dose_gy), seen[-1],
      abs(pooled.energy_balance - 1.0) < 1e-9)
"""


def test_worker_processes_give_the_same_result() -> None:
    """With OPENSIRT_THREADS=2 the batches run in two forked processes: the same doses, bit for
    bit, and progress still reaches the total. In a fresh interpreter: workers are forked only
    from a process without other threads, which a test process (servers, pools of earlier
    tests) need not be."""
    env = {k: v for k, v in os.environ.items() if k != "OPENSIRT_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", _WORKERS_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[2]", "True", "(900,", "900)", "True"], done.stdout


def test_dose_is_linear_in_activity() -> None:
    act = _activity((4, 4, 4), 4.42)
    act.array[1:3, 1, 1:3] = [[1.0, 2.0], [0.5, 3.0]]
    single = monte_carlo(act, "Y-90", histories=2000, batches=2, seed=5)
    double = monte_carlo(act.with_array(act.array * 2.5), "Y-90", histories=2000, batches=2, seed=5)
    np.testing.assert_allclose(double.dose.array, 2.5 * single.dose.array, rtol=1e-5)


@pytest.mark.slow
def test_shift_invariance_in_a_uniform_medium() -> None:
    act = _activity((5, 5, 7), 4.42)
    act.array[2, 2, 2] = 1.0
    shifted = act.with_array(np.roll(act.array, 2, axis=2))
    a = monte_carlo(act, "Y-90", density=1.06, histories=4000, batches=4, seed=8)
    b = monte_carlo(shifted, "Y-90", density=1.06, histories=4000, batches=4, seed=9)
    a_dose, b_dose = a.dose.array[:, :, :5], b.dose.array[:, :, 2:]
    sigma = np.hypot(
        a.relative_uncertainty.array[:, :, :5] * a_dose,
        b.relative_uncertainty.array[:, :, 2:] * b_dose,
    )
    big = a_dose > 0.01 * a_dose.max()
    assert np.all(np.abs(a_dose - b_dose)[big] < 4.0 * sigma[big] + 0.005 * a_dose.max())


@pytest.mark.slow
def test_uniform_source_deep_inside_equals_local_deposition() -> None:
    # 12 mm voxels of soft tissue: the central 5^3 voxels lie deeper than the Y-90 range
    act = _activity((7, 7, 7), 12.0)
    act.array[...] = 0.1
    result = monte_carlo(act, "Y-90", density=1.04, histories=30_000, batches=5, seed=2)
    ldm = local_deposition_dose(act, "Y-90", density=1.04).array
    inner = np.zeros(act.shape, dtype=bool)
    inner[1:-1, 1:-1, 1:-1] = True
    mean, error = result.mean_dose_gy(inner)
    # bremsstrahlung (0.4 % of the beta energy) partly escapes
    assert mean / float(ldm[3, 3, 3]) == pytest.approx(0.997, abs=0.008)
    assert error / mean < 0.01
    # the outer voxels lose the electrons that leave the phantom
    assert result.dose.array[0, 3, 3] < 0.95 * mean


def test_progress_and_bad_input() -> None:
    act = _activity((2, 2, 2), 4.0)
    act.array[0, 0, 0] = 1.0
    calls: list[tuple[int, int]] = []
    monte_carlo(act, "Y-90", histories=300, batches=3, progress=lambda d, n: calls.append((d, n)))
    assert calls[-1] == (300, 300)
    with pytest.raises(InputError, match="batches"):
        monte_carlo(act, "Y-90", histories=300, batches=1)
    with pytest.raises(InputError, match="zero"):
        monte_carlo(act.with_array(np.zeros(act.shape)), "Y-90", histories=300)
    with pytest.raises(InputError, match="weights"):
        monte_carlo(act, "Y-90", histories=300, batches=3).mean_dose_gy(np.zeros((2, 2)))
