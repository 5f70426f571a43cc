"""Every dose method against the Monte Carlo, geometry by geometry (issue 13's table).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/dose_methods_vs_mc.py [--nuclide Y-90]
[--histories 80000] [--case "bone -> tissue" ...] [--seed 13] [--no-decay-photons]``
(``--case`` repeats; default every geometry. ``--no-decay-photons`` runs the Monte Carlo
without Ho-166's gamma and x-ray lines, which no kernel method has: for diagnosis.)

Every method runs through ``opensirt.dosimetry.absorbed_dose`` on the same finite phantom;
the Monte Carlo (``method="monte-carlo"``, 10 batches) is the reference. Printed per region:
the MC mean dose over the region (Gy per MBq of each active voxel) with its 1-sigma (%),
and each deterministic method's deviation (%) from it.

Geometries:

* the six slab cases of ``tests/dosimetry/laminar_reference.py`` (``SLAB_CASES``): 4.42 mm voxel
  layers along z, 6 of tissue then 12 of the second medium, activity uniform in one medium.
  Laterally 6 x 6 voxels of 45 mm, the central 4 x 4 scored (45 mm from the edges, beyond
  the 42 mm range of Y-90 betas in lung): the depth dose of a laminar geometry does not
  depend on the lateral voxel size, and every history then counts. With air (beta ranges of
  metres, where the box's lateral size matters and the path-length rays need cubic voxels)
  the voxels are 4.42 mm cubes, 13 x 13 laterally, the central 5 x 5 scored. Regions: the two voxel
  slabs on each side of the interface (-2, -1 | +1, +2; only where the MC dose is > 2 % of
  its maximum, otherwise the dose fraction is shown) and the bulk of each medium (tissue:
  slabs 3-4 before the interface; second medium: slabs 4-6 after it, 6 or more from the far
  face).
* a tumour sphere (30 mm diameter, 4x the activity concentration of the surrounding liver)
  in soft tissue (1.06 g/mL) touching a lung (0.26 g/mL) half-space: 4.42 mm cubic voxels,
  15 x 15 laterally, 5 lung layers above 11 of tissue. Regions: the tumour, the liver
  (tissue outside the tumour), and the lung voxels whose centres lie 0-4.42 mm and
  4.42-8.84 mm from the tumour's surface.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dosimetry.laminar_reference import SLAB_CASES, SLAB_VOXEL_MM, slab_phantom
from opensirt.dosimetry import DOSE_METHODS, absorbed_dose
from opensirt.imaging.volume import Volume

LAYERS = (6, 12)
LATERAL_MM = 45.0
SPHERE_DIAMETER_MM = 30.0
TUMOUR_TO_LIVER = 4.0
METHODS = [m for m in DOSE_METHODS if m != "monte-carlo"]
Geometry = tuple[Volume, Volume, dict[str, np.ndarray]]


def slab_geometry(first: float, second: float, active: int) -> Geometry:
    """Activity, density and scored regions of one slab case (module docstring)."""
    air = min(first, second) < 0.01
    lateral, centre = (13, slice(4, 9)) if air else (6, slice(1, 5))
    rho, act = slab_phantom(first, second, active, layers=LAYERS, lateral=lateral)
    side = SLAB_VOXEL_MM if air else LATERAL_MM
    activity = Volume(act, spacing_mm=(side, side, SLAB_VOXEL_MM), units="MBq")
    density = activity.with_array(rho, units="g/mL")
    i = LAYERS[0]
    slabs = {"-2": [i - 2], "-1": [i - 1], "+1": [i], "+2": [i + 1]}
    slabs |= {"bulk 1": [i - 4, i - 3], "bulk 2": [i + 3, i + 4, i + 5]}
    regions = {}
    for name, layers in slabs.items():
        mask = np.zeros(act.shape, dtype=bool)
        mask[layers, centre, centre] = True
        regions[name] = mask
    return activity, density, regions


def sphere_geometry() -> Geometry:
    """Tumour sphere in tissue touching lung (module docstring)."""
    nz, n, lung = 16, 15, 5
    z, y, x = np.indices((nz, n, n), dtype=np.float64) + 0.5
    z, y, x = z * SLAB_VOXEL_MM, y * SLAB_VOXEL_MM, x * SLAB_VOXEL_MM
    radius = SPHERE_DIAMETER_MM / 2
    centre = (lung * SLAB_VOXEL_MM + radius, n * SLAB_VOXEL_MM / 2, n * SLAB_VOXEL_MM / 2)
    distance = np.sqrt((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2)
    is_lung = z < lung * SLAB_VOXEL_MM
    tumour = (distance <= radius) & ~is_lung
    rho = np.where(is_lung, 0.26, 1.06).astype(np.float32)
    act = np.where(is_lung, 0.0, np.where(tumour, TUMOUR_TO_LIVER, 1.0)).astype(np.float32)
    activity = Volume(act, spacing_mm=(SLAB_VOXEL_MM,) * 3, units="MBq")
    # the liver well inside the lateral faces (free surfaces in the MC), 3+ voxels from lung
    inner = np.zeros_like(tumour)
    inner[lung + 3 : nz - 2, 3:-3, 3:-3] = True
    shell = distance - radius
    regions = {
        "tumour": tumour,
        "liver": inner & ~tumour,
        "lung 0-4.42 mm": is_lung & (shell < SLAB_VOXEL_MM),
        "lung 4.42-8.84 mm": is_lung & (shell >= SLAB_VOXEL_MM) & (shell < 2 * SLAB_VOXEL_MM),
    }
    return activity, activity.with_array(rho, units="g/mL"), regions


SPHERE = "tumour sphere next to lung"


def compare(
    args: argparse.Namespace,
    geometry: Geometry,
    histories: int,
    progress: Callable[[int, int], None],
) -> list[str]:
    """Markdown cells per region: MC dose +- sigma, then each method's deviation (%)."""
    activity, density, regions = geometry
    nuclide = args.nuclide
    mc_dose = absorbed_dose(
        activity, nuclide, density=density, method="monte-carlo", histories=histories,
        batches=10, seed=args.seed, progress=progress, decay_photons=args.decay_photons,
    )  # fmt: skip
    result = mc_dose.metadata["monte_carlo"]
    doses = {m: absorbed_dose(activity, nuclide, density=density, method=m) for m in METHODS}
    top = float(mc_dose.array.max())
    rows = []
    for name, mask in regions.items():
        mean, sigma = result.mean_dose_gy(mask)
        if mean <= 0.02 * top:
            rows.append(f"| {name} | {100 * mean / top:.2g} % of max | " + "- | " * len(METHODS))
            continue
        cells = [f"{100 * (float(d.array[mask].mean()) / mean - 1):+.1f}" for d in doses.values()]
        rows.append(
            f"| {name} | {mean:.4g} +- {100 * sigma / mean:.1f} % | " + " | ".join(cells) + " |"
        )
    return rows


def main() -> None:
    """Print the tables for one nuclide."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nuclide", default="Y-90", choices=["Y-90", "Ho-166"])
    parser.add_argument("--histories", type=int, default=80_000, help="MC histories per slab case")
    parser.add_argument(
        "--sphere-histories", type=int, default=None, help="for the sphere (default 2x)"
    )
    names = [c[0] for c in SLAB_CASES] + [SPHERE]
    parser.add_argument(
        "--case", action="append", choices=names, help="a geometry (repeat; default all)"
    )
    parser.add_argument("--seed", type=int, default=13, help="Monte Carlo seed (default 13)")
    parser.add_argument(
        "--no-decay-photons",
        dest="decay_photons",
        action="store_false",
        help="Monte Carlo without the nuclide's gamma and x-ray lines (diagnosis)",
    )
    args = parser.parse_args()
    chosen = args.case or names
    cases = [(c[0], slab_geometry(*c[1:]), args.histories) for c in SLAB_CASES if c[0] in chosen]
    sphere_n = args.sphere_histories or 2 * args.histories
    if SPHERE in chosen:
        cases.append((SPHERE, sphere_geometry(), sphere_n))
    header = "| region | MC dose (Gy) +- 1 sigma | " + " | ".join(METHODS) + " |"
    start = time.perf_counter()
    with Progress(transient=True) as bar:
        task = bar.add_task(args.nuclide, total=sum(n for *_, n in cases))
        done = 0
        for name, geometry, histories in cases:

            def advance(n: int, _total: int, base: int = done) -> None:
                bar.update(task, completed=base + n)

            photons = "" if args.decay_photons else ", no decay photons"
            label = f"{args.nuclide}, {name} ({histories} histories, seed {args.seed}{photons})"
            block = [f"\n{label}\n", header, "|---" * (len(METHODS) + 2) + "|"]
            block += compare(args, geometry, histories, advance)
            bar.console.print("\n".join(block), markup=False, highlight=False, soft_wrap=True)
            done += histories
    print(f"\n{args.nuclide}: {time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
