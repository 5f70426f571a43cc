"""Independent Monte Carlo check: ompMC (EGSnrc physics) against the water kernel and the exact
laminar reference, Y-90, lung (0.26 g/mL) / soft tissue (1.06 g/mL), 4.42 mm voxels.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/independent_mc.py [--histories 1000000]``
(``--write-planar-kernel`` first re-tallies ompMC's planar kernel into tests/data).

Needs the dev extra (``ompmc``, GPL-3, a test dependency only). Prints

1. water, uniform source in an 11 cm cube: ompMC's deposited energy against the dose volume's,
   and the dose deep inside against local deposition;
2. water, point source (0.5 mm voxels): X50, X80, X90, X95 of ompMC against the shipped
   kernel voxelised the same way;
3. per layer of the slab phantom, activity in tissue only and in lung only, the ompMC dose
   (ICRU tissue and lung) against the laminar reference from the shipped kernel (``total``),
   split into: ``kernel`` = laminar reference from ompMC's own water planar kernel / from the
   shipped kernel (transport physics in water); ``geometry`` = ompMC with water at the two
   densities / the laminar reference from ompMC's kernel (exact in that model: voxels,
   interface, scaling); ``composition`` = ompMC with ICRU media / with water.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from dosimetry.laminar_reference import (  # noqa: E402
    PlanarKernel,
    laminar_layer_dose,
    shipped_planar_kernel,
)
from dosimetry.ompmc_beta import (  # noqa: E402
    bin_mass_kg,
    energy_per_decay_mev,
    make_geometry,
    run_batch,
    slab_dose,
    slab_phantom,
    water_cube,
)
from dosimetry.ompmc_water import (  # noqa: E402
    PLANAR_KERNEL_CSV,
    ompmc_planar_kernel,
    point_source_energy,
    radial_radii_mm,
    read_planar_kernel_csv,
    voxelised_kernel,
    write_planar_kernel_csv,
)
from opensirt.dosimetry.kernels import point_kernel  # noqa: E402
from opensirt.physics.nuclides import JOULE_PER_MEV  # noqa: E402

KERNEL = point_kernel("Y-90")
SHIPPED = shipped_planar_kernel("Y-90")


def water_checks(histories: int) -> None:
    """Print the uniform-cube and point-source checks in water."""
    cube = water_cube(25, 4.42, 3)
    geometry = make_geometry(cube, merge_lateral=True, merge_depth=slice(3, 22))
    dose, emitted, fraction = run_batch(cube, histories, 11, 0, geometry=geometry)
    local = emitted * JOULE_PER_MEV / bin_mass_kg(geometry).sum() * KERNEL.absorbed_fraction
    print(f"uniform water cube (11 cm), {histories} decays, mean beta {emitted:.4f} MeV")
    print(f"  deposited / emitted, ompMC's tally     {fraction:.4f}")
    deposited = energy_per_decay_mev(dose, geometry)
    print(f"  deposited / emitted, dose x mass       {deposited / emitted:.4f}")
    print(f"  dose deeper than 13 mm / local dep.    {dose[1, 1, 1] / local:.4f}")
    n, h = 49, 0.5
    energy, _ = point_source_energy(n, h, histories, 5)
    fractions = (0.5, 0.8, 0.9, 0.95)
    ours = radial_radii_mm(voxelised_kernel(KERNEL, n, h, 4_000_000, 1), h, fractions)
    theirs = radial_radii_mm(energy, h, fractions)
    print(f"point source in water, {histories} decays, {h} mm voxels")
    print(f"  absorbed fraction: ompMC {energy.sum():.4f}, kernel {KERNEL.absorbed_fraction:.4f}")
    for f, a, b in zip(fractions, theirs, ours, strict=True):
        diff = 100 * (a / b - 1)
        print(f"  X{round(100 * f)}: ompMC {a:.2f} mm, kernel {b:.2f} mm ({diff:+.1f} %)")


def _pct(ratio: float) -> str:
    return f"{100.0 * (ratio - 1.0):+6.1f}"


def slab_table(source: str, histories: int, ompmc_kernel: PlanarKernel) -> None:
    """Print the per-layer table of one source case."""
    started = time.perf_counter()
    icru = slab_dose(slab_phantom(source), histories, batches=10, seed=2026)
    water = slab_dose(slab_phantom(source, water_media=True), histories, batches=10, seed=2027)
    seconds = time.perf_counter() - started
    phantom = icru.phantom
    rho = phantom.density_g_per_ml[:, 0, 0]
    layers = (phantom.source[:, 0, 0], phantom.voxel_mm, phantom.area_cm2)
    ref = laminar_layer_dose(SHIPPED, rho, *layers, 1.0)  # per MeV emitted
    ref_mc = laminar_layer_dose(ompmc_kernel, rho, *layers, 1.0)
    d_icru = icru.dose_gy / icru.emitted_mev
    d_water = water.dose_gy / water.emitted_mev
    sd_icru = 100.0 * icru.sigma_gy / icru.dose_gy
    sd_water = 100.0 * water.sigma_gy / water.dose_gy
    tissue = int((rho > 1.0).sum())
    print(f"\nactivity in {source} only: {histories} decays per run, two runs in {seconds:.0f} s")
    print(
        " layer  medium  depth mm  ref/max  ref Gy/decay   total %  (1 sd)   kernel %"
        "  geometry % (1 sd)  composition %"
    )
    for k in range(3, 19):  # farther than the electron range from the outer faces
        if ref[k] < 1.0e-3 * ref.max():
            continue
        print(
            f" {k:5d}  {'tissue' if rho[k] > 1.0 else 'lung':6s}  "
            f"{(k - tissue + 0.5) * phantom.voxel_mm:+8.1f}  {ref[k] / ref.max():7.3f}  "
            f"{ref[k] * icru.emitted_mev:12.4e}   {_pct(d_icru[k] / ref[k])}  "
            f"({sd_icru[k]:4.1f})   {_pct(ref_mc[k] / ref[k])}"
            f"    {_pct(d_water[k] / ref_mc[k])} ({sd_water[k]:4.1f})"
            f"   {_pct(d_icru[k] / d_water[k])}"
        )


def main() -> None:
    """Parse the options and print the checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", type=int, default=1_000_000, help="decays per run")
    parser.add_argument(
        "--write-planar-kernel", type=int, metavar="DECAYS", default=0,
        help="re-tally ompMC's planar kernel with this many decays into tests/data first",
    )  # fmt: skip
    args = parser.parse_args()
    path = TESTS / "data" / PLANAR_KERNEL_CSV
    if args.write_planar_kernel:
        planar = ompmc_planar_kernel(args.write_planar_kernel, 90, step_mm=0.2)
        write_planar_kernel_csv(planar, str(path), args.write_planar_kernel, 90)
    water_checks(min(args.histories, 200_000))
    for source in ("tissue", "lung"):
        slab_table(source, args.histories, read_planar_kernel_csv(str(path)))


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
