"""Error of every dose method at the issue's interface slabs, against the exact solution.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/path_length_slabs.py [--nuclide Y-90]``

Geometry (tests/dosimetry/laminar_reference.py): 4.42 mm voxels, 8 voxel layers of the first medium
then 10 of the second, 31 x 31 voxels laterally, uniform activity in one medium. For each
case it prints the error (%) of the mean dose over the central 7 x 7 voxels of the two
layers on each side of the interface (where the reference is > 2 % of its maximum): the
path-length method (``path_length_dose``, default 128 and 512 rays), the kernel with ``mass``
and ``range`` density correction, and local deposition (LDM). The reference is the exact
laminar (mass-depth) solution for lung and bone; with air, where beta ranges are metres, it
is the exact path-length dose of this finite box (quadrature around target points). The
path-length method runs without its backscatter-deficit correction at vacuum
(``vacuum_deficit=False``), which the exact references do not have; that correction is
measured against the Monte Carlo (``benchmarks/dose_methods_vs_mc.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dosimetry.laminar_reference import (
    SLAB_CASES,
    SLAB_VOXEL_MM,
    box_slab_dose_gy,
    laminar_slab_dose_gy,
    slab_phantom,
)
from opensirt.dosimetry import decays_per_voxel, kernel_dose, local_deposition_dose
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.imaging.volume import Volume

LAYERS = (8, 10)
LATERAL = 31
CENTRE = slice(12, 19)


def _errors(nuclide: str, case: tuple[str, float, float, int]) -> dict[str, list[str]]:
    _, first, second, active = case
    rho, act = slab_phantom(first, second, active, layers=LAYERS, lateral=LATERAL)
    activity = Volume(act, spacing_mm=(SLAB_VOXEL_MM,) * 3, units="MBq")
    density = activity.with_array(rho, units="g/mL")
    n = decays_per_voxel(activity, nuclide)[:, 0, 0]
    layers = [LAYERS[0] - 2, LAYERS[0] - 1, LAYERS[0], LAYERS[0] + 1]
    if min(first, second) < 0.01:
        exact = box_slab_dose_gy(
            nuclide, rho[:, 0, 0], n, activity.spacing_zyx_mm, LATERAL, CENTRE, layers
        )
    else:
        full = laminar_slab_dose_gy(nuclide, rho[:, 0, 0], n, activity.spacing_zyx_mm)
        exact = {k: float(full[k]) for k in layers}
    top = max(exact.values())
    doses = {
        "path-length": path_length_dose(activity, nuclide, density=density, vacuum_deficit=False),
        "path-length, 512 rays": path_length_dose(
            activity, nuclide, density=density, rays_per_voxel=512, vacuum_deficit=False
        ),
        "mass": kernel_dose(activity, nuclide, density=density, correction="mass"),
        "range": kernel_dose(activity, nuclide, density=density, correction="range"),
        "LDM": local_deposition_dose(activity, nuclide, density=density),
    }
    out = {}
    for name, dose in doses.items():
        means = np.asarray(dose.array[:, CENTRE, CENTRE], dtype=np.float64).mean(axis=(1, 2))
        out[name] = [
            f"{100 * (means[k] / v - 1):+.1f}" if v > 0.02 * top else "." for k, v in exact.items()
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nuclide", default="Y-90", choices=["Y-90", "Ho-166"])
    args = parser.parse_args()
    print(f"{args.nuclide}: error (%) of the layers -2 -1 | +1 +2 around the interface")
    print("| case | path-length | path-length, 512 rays | mass | range | LDM |")
    print("|---|---|---|---|---|---|")
    for case in SLAB_CASES:
        errors = _errors(args.nuclide, case)
        cells = [" / ".join(v[:2]) + " \\| " + " / ".join(v[2:]) for v in errors.values()]
        print(f"| {case[0]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
