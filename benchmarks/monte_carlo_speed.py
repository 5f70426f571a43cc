"""Speed of the Monte Carlo engine on the demo's synthetic patient, and its interface accuracy.

Run: ``.venv/bin/python benchmarks/monte_carlo_speed.py [--histories 20000] [--validation]``

* Histories per second on the synthetic patient (seed 1, ``small``): the true Y-90 activity
  of the post-treatment PET on its grid, densities from the CT (Schneider 2000) resampled
  onto it, on 1 and 2 workers (``OPENSIRT_THREADS``; batches run in parallel processes).
* Time to 2 % uncertainty in the liver (both lobes and the tumours): the batch standard
  error of the mean liver dose and the median voxel uncertainty in the liver, extrapolated
  as ``1/sqrt(N)`` from the run on 2 workers.
* With ``--validation`` (about 15 min on 2 idle cores): a point source (4.42 mm voxels) in
  water of density 0.26, 1.04 and 1.92 g/mL against the shipped water kernel scaled to the
  density, and at 1.04 against the voxel S-values of Lanconelli et al. 2012
  (doi:10.1088/0031-9155/57/2/517); stacks of 4.42 mm slabs, soft tissue (1.06 g/mL) and
  lung (0.26 g/mL) with Y-90 or Ho-166 in one medium, and tissue / air (0.0012 g/mL) with
  Y-90 in the tissue: Monte Carlo against the exact laminar solution
  (tests/dosimetry/laminar_reference.py) in the two slabs on each side of the interface, the bulk of
  the source medium and the slab at the stack's far end (next to vacuum).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from opensirt.dosimetry import (
    density_from_ct,
    energy_kernel,
    energy_per_decay_j,
    local_deposition_dose,
)
from opensirt.dosimetry.monte_carlo import MonteCarloResult, monte_carlo
from opensirt.imaging.volume import Volume

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from dosimetry.laminar_reference import slab_dose_ratio

#: Lanconelli et al. 2012, Y-90, soft tissue, 4.42 mm voxels, mGy/(MBq s) (the table of
#: tests/dosimetry/test_published_s_values.py).
_LANCONELLI_442 = {
    (0, 0, 0): 6.89e-1,
    (1, 0, 0): 9.73e-2,
    (1, 1, 0): 2.48e-2,
    (1, 1, 1): 7.78e-3,
    (2, 0, 0): 2.10e-3,
}
_LIVER = ("liver_right", "liver_left", "T1", "T2", "T3")


def _patient() -> tuple[Volume, Volume, np.ndarray]:
    from opensirt.demo.phantom import make_phantom

    patient = make_phantom(seed=1)
    activity = patient.pet.activity_mbq
    density = density_from_ct(patient.ct).resample_to(activity, default_value=0.0012)
    density = density.with_array(np.maximum(density.array, 0.0012))
    labels = patient.labels.resample_to(activity, interpolation="nearest")
    ids = [k for k, name in patient.label_names.items() if name in _LIVER]
    return activity, density, np.isin(labels.array, ids)


def _run(
    activity: Volume, density: Volume, histories: int, threads: int
) -> tuple[MonteCarloResult, float]:
    os.environ["OPENSIRT_THREADS"] = str(threads)
    t0 = time.perf_counter()
    result = monte_carlo(activity, "Y-90", density=density, histories=histories, batches=10)
    return result, time.perf_counter() - t0


def _speed(histories: int, console: Console) -> None:
    activity, density, liver = _patient()
    table = Table(title=f"Monte Carlo, Y-90, synthetic patient {activity.shape} voxels")
    for column in ("workers", "histories", "time s", "histories/s", "liver mean Gy", "sigma %"):
        table.add_column(column, justify="right")
    result, elapsed = _run(activity, density, histories, 1)
    for threads in (1, 2):
        if threads == 2:
            result, elapsed = _run(activity, density, histories, 2)
        mean, error = result.mean_dose_gy(liver)
        table.add_row(
            str(threads), str(histories), f"{elapsed:.1f}", f"{histories / elapsed:.0f}",
            f"{mean:.1f}", f"{100 * error / mean:.2f}",
        )  # fmt: skip
    console.print(table)
    mean, error = result.mean_dose_gy(liver)
    inside = liver & (result.dose.array > 0)
    median = float(np.median(result.relative_uncertainty.array[inside]))
    to_mean = elapsed * (error / mean / 0.02) ** 2
    to_median = elapsed * (median / 0.02) ** 2
    console.print(
        f"2 workers: mean liver dose {100 * error / mean:.2f} % after {elapsed:.0f} s -> 2 % "
        f"after {to_mean:.1f} s; median voxel uncertainty in the liver {100 * median:.1f} % "
        f"-> 2 % after {to_median / 60:.0f} min ({histories * (median / 0.02) ** 2:.2e} "
        "histories)"
    )


def _kernels(console: Console) -> None:
    table = Table(
        title="Y-90 point source, 4.42 mm voxels: MC / reference (+- 1 sigma); kernel: the "
        "water kernel scaled to rho, L2012: Lanconelli 2012"
    )
    for column in ("reference", "rho", "source", "face", "edge", "corner", "(2,0,0)"):
        table.add_column(column, justify="right")
    os.environ["OPENSIRT_THREADS"] = "2"
    for rho in (0.26, 1.04, 1.92):
        act = Volume(np.zeros((5, 5, 5)), spacing_mm=(4.42,) * 3, units="MBq s")
        act.array[2, 2, 2] = 1.0
        result = monte_carlo(act, "Y-90", density=rho, histories=100_000, batches=10, seed=17)
        kernel = energy_kernel("Y-90", (4.42,) * 3, density_g_per_ml=rho)
        c = kernel.shape[0] // 2
        gy_per_fraction = 1e6 * energy_per_decay_j("Y-90") / (rho * 4.42**3 * 1e-6)
        rows: dict[str, list[str]] = {"kernel": [], "L2012": []}
        for cls in _LANCONELLI_442:
            mask = np.zeros((5, 5, 5))
            for offset in set(itertools.permutations(cls)):
                for signs in itertools.product((-1, 1), repeat=3):
                    o = [2 + s_ * v for s_, v in zip(signs, offset, strict=True)]
                    mask[o[0], o[1], o[2]] = 1.0
            mean, error = result.mean_dose_gy(mask)
            expected = float(kernel[c + cls[0], c + cls[1], c + cls[2]]) * gy_per_fraction
            negligible = expected < 1e-3 * float(kernel[c, c, c]) * gy_per_fraction
            cell = "-" if negligible else f"{mean / expected:.3f}+-{error / expected:.3f}"
            rows["kernel"].append(cell)
            published = _LANCONELLI_442[cls] * 1e-3
            rows["L2012"].append(f"{mean / published:.3f}+-{error / published:.3f}")
        for name, cells in rows.items():
            if name == "L2012" and rho != 1.04:
                continue
            table.add_row(name, f"{rho:g}", *cells)
    console.print(table)


#: Slab cases: (nuclide, second medium, its density, activity in the second medium).
_SLAB_CASES = (
    ("Y-90", "lung", 0.26, False),
    ("Y-90", "lung", 0.26, True),
    ("Ho-166", "lung", 0.26, False),
    ("Ho-166", "lung", 0.26, True),
    ("Y-90", "air", 0.0012, False),
)


def _slab_case(
    nuclide: str, rho_2: float, in_second: bool
) -> tuple[list[float], np.ndarray, np.ndarray, np.ndarray]:
    """Densities, exact and MC dose / LDM and the MC's relative error of each slab."""
    densities = [1.06] * 5 + [rho_2] * 8
    source = np.array([in_second == (i >= 5) for i in range(13)])
    # laterally: 6 x 6 voxels of 45 mm, the central 4 x 4 scored (45 mm from the edges)
    act = Volume(np.zeros((13, 6, 6)), spacing_mm=(45.0, 45.0, 4.42), units="MBq")
    act.array[source] = 1.0
    rho = act.with_array(np.asarray(densities)[:, None, None] * np.ones((13, 6, 6)))
    result = monte_carlo(act, nuclide, density=rho, histories=120_000, batches=10, seed=4)
    ldm = float(local_deposition_dose(act, nuclide, density=rho).array[source][0, 1, 1])
    mc, err = np.zeros(13), np.zeros(13)
    for k in range(13):
        mask = np.zeros((13, 6, 6))
        mask[k, 1:5, 1:5] = 1.0
        mean, error = result.mean_dose_gy(mask)
        mc[k], err[k] = mean / ldm, error / mean
    return densities, slab_dose_ratio(nuclide, densities, 4.42, list(source)), mc, err


def _slabs(console: Console) -> None:
    table = Table(
        title="Tissue 1.06 | lung 0.26 or air 0.0012, 4.42 mm slabs (tissue 0-4): dose / "
        "local deposition of the source medium, exact laminar and Monte Carlo"
    )
    for column in ("nuclide", "media", "source", "slab", "exact", "Monte Carlo", "MC / exact"):
        table.add_column(column, justify="right")
    os.environ["OPENSIRT_THREADS"] = "2"
    for nuclide, medium, rho_2, in_second in _SLAB_CASES:
        _, exact, mc, err = _slab_case(nuclide, rho_2, in_second)
        bulk = 8 if in_second else 2
        for k in (3, 4, 5, 6, bulk, 12 if in_second else 0):
            table.add_row(
                nuclide, f"tissue|{medium}", medium if in_second else "tissue", str(k),
                f"{exact[k]:.4f}", f"{mc[k]:.4f} +- {100 * err[k]:.1f} %",
                f"{mc[k] / exact[k]:.3f}" if exact[k] > 1e-3 else "-",
            )  # fmt: skip
    console.print(table)


def main() -> None:
    """Print the speed table and, with ``--validation``, the validation tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=20_000)
    parser.add_argument("--validation", action="store_true")
    args = parser.parse_args()
    console = Console()
    _speed(args.histories, console)
    if args.validation:
        _kernels(console)
        _slabs(console)


if __name__ == "__main__":
    main()
