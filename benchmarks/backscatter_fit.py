"""Fit the backscatter-deficit model of the path-length method to the project's Monte Carlo.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/backscatter_fit.py --nuclide Y-90
[--histories 200000 100000] [--cache mc] [--layer 0] [--validate | --entry]``

The path-length method superposes the infinite-medium soft-tissue kernel, which includes the
electrons scattered back by medium beyond the point scored. Where a ray leaves dense medium
for vacuum (the grid's edge, or air out to the ray's end) that medium is missing. The model
(:mod:`opensirt.dosimetry._backscatter`) scales the energy a ray deposits at the mass
distance ``Delta`` before its exit by ``c = 1 - (1 - a - b mu) exp(-Delta / lambda)``, ``mu``
an effective cosine between the ray and the outward normal of the surface (the larger of
the cosine and the depth over the length of the ray's last chord through the surface layer,
the voxels within one voxel plus ``--layer`` mm of vacuum; a fixed choice, not fitted).
This script fits ``a``,
``b`` and ``lambda`` to the Monte Carlo (``monte_carlo``: ICRU soft tissue at each voxel's
density, vacuum outside the grid) in two *fitting geometries* that no test or table uses:

* ``column``: voxels 2.21 mm along z, 4.42 mm laterally, 21 x 21 laterally; 10 layers of
  soft tissue (1.06 g/mL) then 20 of air (0.0012 g/mL); the activity uniform in the central
  7 x 7 columns of the tissue (a 31 mm square source 22 mm deep). Scored: the tissue layers
  1-3 under the surface (the depth of the deficit), and the air in bins of height (layers
  1-2, 3-5, 6-10, 11-20) and lateral distance from the source column (inside it, 1-3 and
  4-7 voxels outside): each bin sees the surface under its own range of angles.
* ``sphere``: a uniformly loaded tissue sphere of 30 mm diameter in air, 4.42 mm cubes,
  15^3; scored: its outer 4.42 mm and the air shells 0-4.42, 4.42-8.84 and 8.84-17.7 mm
  from its surface (a convex surface, seen at steep angles: precise, about 1 %).

For each ``lambda`` of a grid the path-length dose is linear in ``a`` and ``b`` (three
path-length runs per geometry); ``a`` and ``b`` are fitted by weighted least squares over
the regions of both geometries (weights: the MC's standard error and 3 % for the rays'
noise and the model's own error, in quadrature), and the ``lambda`` with the smallest
chi-square is kept. Printed: the
parameters (to be copied into ``_backscatter.SURFACE_DEFICITS``) and the error of each
region before and after the correction. ``--validate`` prints the same for a geometry not
fitted, with the stored parameters: 6 layers of loaded tissue, 3 of lung (0.26 g/mL), then
the grid's edge (vacuum); and the box of the skin test (5 layers of loaded tissue under 8 of
air, the central 9 x 9 voxels scored). The skin slabs of
``benchmarks/dose_methods_vs_mc.py`` are another check.

``--entry`` fits the entry albedo instead (``_backscatter.SurfaceAlbedo``: rays from
activity in air that enter tissue give back ``eta(mu) = normal + grazing (1 - mu)`` of
their energy, taken from the mass depth ``lambda`` after the entry, to a mirrored ray that
deposits ``q`` of it per mm at 1 g/mL of air), on two more fitting geometries:

* ``air-column``: the ``column`` grid with the activity in the central 7 x 7 columns of the
  air instead of the tissue; scored: the tissue layers 1-3 under the surface and the air in
  bins of height, inside the column and 1-3 voxels outside it;
* ``air-sphere``: the ``sphere`` grid with the activity in the air around the tissue sphere;
  scored: the sphere's outer 4.42 mm and the next 4.42 mm, and the air shells.

Only regions above 2 % of their geometry's maximum dose (the goals' regions) are fitted.
For each ``lambda`` and ``q`` of a grid the dose is linear in ``normal`` and ``grazing``
(five path-length runs per ``lambda``), fitted by non-negative least squares. The slabs of
``benchmarks/dose_methods_vs_mc.py --case "air -> tissue"`` are the validation.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from opensirt.dosimetry import _backscatter, absorbed_dose
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.imaging.volume import Volume

H = 4.42
DEPTHS_MM = (0.3, 0.6, 1.0, 1.5, 2.2, 3.0)
ENTRY_DEPTHS_MM = (0.5, 1.0, 1.5, 2.2, 3.0, 4.5)
#: Relative model error added in quadrature to the MC's standard error: the rays' noise and
#: the angular law's own error (the two geometries disagree by a few per cent under it);
#: 3 % gives a chi-square near the number of degrees of freedom.
MODEL_ERROR = 0.03
#: Monte Carlo seed per geometry.
SEEDS = {"column": 29, "sphere": 31, "lung-vacuum": 31, "skin": 77, "air-column": 37}
SEEDS |= {"air-sphere": 41}
#: Grid of the reflected rays' deposit ``q`` (per mm at 1 g/mL) searched by ``--entry``.
LOSSES_PER_MM = tuple(np.round(np.arange(0.0, 4.01, 0.1), 2))
Geometry = tuple[Volume, Volume, dict[str, np.ndarray]]


def _column_grid(
    air_loaded: bool,
) -> tuple[Volume, np.ndarray, np.ndarray, int, int, int]:
    """The column grids: activity in the central 7 x 7 columns of the tissue (or the air),
    density, each voxel's lateral distance outside the column (voxels), the column's first and
    last lateral index and the number of tissue layers."""
    tissue, air, lateral, width = 10, 20, 21, 7
    shape = (tissue + air, lateral, lateral)
    rho = np.full(shape, 0.0012, dtype=np.float32)
    rho[:tissue] = 1.06
    lo, hi = (lateral - width) // 2, (lateral - width) // 2 + width - 1
    act = np.zeros(shape, dtype=np.float32)
    layers = slice(tissue, None) if air_loaded else slice(None, tissue)
    act[layers, lo : hi + 1, lo : hi + 1] = 1.0
    activity = Volume(act, spacing_mm=(H / 2, H, H), units="MBq")
    j, i = np.indices(shape[1:])
    outside = np.maximum(np.maximum(lo - j, j - hi), np.maximum(lo - i, i - hi))
    return activity, rho, outside, lo, hi, tissue


def _air_bins(
    shape: tuple[int, ...], tissue: int, outside: np.ndarray, rings: tuple[tuple[int, int], ...]
) -> dict[str, np.ndarray]:
    """The column grids' air regions: bins of height over the surface and of lateral distance
    outside the column."""
    regions = {}
    for h0, h1 in ((1, 2), (3, 5), (6, 10), (11, 20)):
        for r0, r1 in rings:
            mask = np.zeros(shape, dtype=bool)
            mask[tissue + h0 - 1 : tissue + h1] = (outside >= r0) & (outside <= r1)
            regions[f"air {h0}-{h1} ring {r0}-{r1}"] = mask
    return regions


def column() -> Geometry:
    """The ``column`` fitting geometry (module docstring)."""
    activity, rho, outside, lo, hi, tissue = _column_grid(air_loaded=False)
    regions = {}
    for depth in (1, 2, 3):
        mask = np.zeros(rho.shape, dtype=bool)
        mask[tissue - depth, lo + 1 : hi, lo + 1 : hi] = True
        regions[f"tissue -{depth}"] = mask
    regions |= _air_bins(rho.shape, tissue, outside, ((0, 0), (1, 3), (4, 7)))
    return activity, activity.with_array(rho, units="g/mL"), regions


def air_column() -> Geometry:
    """The ``air-column`` fitting geometry of the entry albedo (module docstring)."""
    activity, rho, outside, _lo, _hi, tissue = _column_grid(air_loaded=True)
    regions = {}
    for depth in (1, 2, 3):
        for r0, r1 in ((0, 0), (1, 3)):
            mask = np.zeros(rho.shape, dtype=bool)
            mask[tissue - depth] = (outside >= r0) & (outside <= r1)
            regions[f"tissue -{depth} ring {r0}-{r1}"] = mask
    regions |= _air_bins(rho.shape, tissue, outside, ((0, 0), (1, 3)))
    return activity, activity.with_array(rho, units="g/mL"), regions


def _sphere_grid(air_loaded: bool) -> tuple[Volume, np.ndarray, np.ndarray, np.ndarray]:
    """A 30 mm tissue sphere in air, 4.42 mm cubes, 15^3: activity in the sphere (or the air
    around it), density, the sphere's voxels and each voxel's distance to its surface (mm)."""
    n, radius = 15, 15.0
    z, y, x = (np.indices((n, n, n)) + 0.5 - n / 2) * H
    shell = np.sqrt(z * z + y * y + x * x) - radius
    inside = shell <= 0
    loaded = ~inside if air_loaded else inside
    activity = Volume(loaded.astype(np.float32), spacing_mm=(H,) * 3, units="MBq")
    rho = np.where(inside, 1.06, 0.0012).astype(np.float32)
    return activity, rho, inside, shell


def _air_shells(inside: np.ndarray, shell: np.ndarray) -> dict[str, np.ndarray]:
    """The sphere grids' air shells."""
    return {
        "air 0-4.42 mm": ~inside & (shell < H),
        "air 4.42-8.84 mm": ~inside & (shell >= H) & (shell < 2 * H),
        "air 8.84-17.7 mm": ~inside & (shell >= 2 * H) & (shell < 4 * H),
    }


def sphere() -> Geometry:
    """The ``sphere`` fitting geometry (module docstring)."""
    activity, rho, inside, shell = _sphere_grid(air_loaded=False)
    regions = {"sphere, outer 4.42 mm": inside & (shell > -H)} | _air_shells(inside, shell)
    return activity, activity.with_array(rho, units="g/mL"), regions


def air_around_sphere() -> Geometry:
    """The ``air-sphere`` fitting geometry of the entry albedo (module docstring)."""
    activity, rho, inside, shell = _sphere_grid(air_loaded=True)
    regions = {
        "sphere, outer 4.42 mm": inside & (shell > -H),
        "sphere, 4.42-8.84 mm deep": inside & (shell <= -H) & (shell > -2 * H),
    } | _air_shells(inside, shell)
    return activity, activity.with_array(rho, units="g/mL"), regions


def lung_to_vacuum() -> Geometry:
    """Validation: 6 layers of loaded tissue, 3 of lung, then the grid's edge; 13 x 13 cubes."""
    rho = np.full((9, 13, 13), 0.26, dtype=np.float32)
    rho[:6] = 1.06
    activity = Volume((rho > 1).astype(np.float32), spacing_mm=(H,) * 3, units="MBq")
    regions = {}
    for name, layer in (("tissue -1", 5), ("lung +1", 6), ("lung +2", 7), ("lung +3", 8)):
        mask = np.zeros(rho.shape, dtype=bool)
        mask[layer, 3:10, 3:10] = True
        regions[name] = mask
    return activity, activity.with_array(rho, units="g/mL"), regions


def skin() -> Geometry:
    """Validation: the skin test's box (5 loaded tissue layers under 8 of air, 13 x 13
    cubes, the central 9 x 9 scored)."""
    rho = np.full((13, 13, 13), 0.0012, dtype=np.float32)
    rho[:5] = 1.06
    activity = Volume((rho > 1).astype(np.float32), spacing_mm=(H,) * 3, units="MBq")
    regions = {}
    for name, layers in (
        ("tissue -2", [3]), ("tissue -1", [4]), ("air +1", [5]), ("air +2", [6]),
        ("air +4..+6", [8, 9, 10]), ("tissue bulk", [1, 2]),
    ):  # fmt: skip
        mask = np.zeros(rho.shape, dtype=bool)
        mask[layers, 2:11, 2:11] = True
        regions[name] = mask
    return activity, activity.with_array(rho, units="g/mL"), regions


def mc_means(
    nuclide: str, name: str, geometry: Geometry, histories: int, cache: Path | None
) -> tuple[np.ndarray, np.ndarray]:
    """MC mean dose per region and its standard error (batch doses cached if asked)."""
    activity, density, regions = geometry
    path = None if cache is None else Path(f"{cache}.{nuclide}.{name}.npz")
    if path is not None and path.exists():
        batches = np.load(path)["batch_dose_gy"]
    else:
        dose = absorbed_dose(
            activity, nuclide, density=density, method="monte-carlo", histories=histories,
            batches=10, seed=SEEDS[name],
        )  # fmt: skip
        batches = dose.metadata["monte_carlo"].batch_dose_gy
        if path is not None:
            np.savez_compressed(path, batch_dose_gy=batches)
    means = np.array([[b[m].mean() for m in regions.values()] for b in batches])
    return means.mean(axis=0), means.std(axis=0, ddof=1) / np.sqrt(len(means))


def measured(
    nuclide: str, geometries: dict[str, Geometry], histories: tuple[int, int], cache: Path | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MC mean dose and standard error of every region of the geometries, in order, and
    whether each is above 2 % of its geometry's maximum (the goals' regions)."""
    runs = [
        mc_means(nuclide, name, g, n, cache)
        for (name, g), n in zip(geometries.items(), histories, strict=True)
    ]
    mc = np.concatenate([m for m, _ in runs])
    se = np.concatenate([s for _, s in runs])
    return mc, se, np.concatenate([m > 0.02 * m.max() for m, _ in runs])


def path_length(
    nuclide: str, geometry: Geometry, model: _backscatter.SurfaceDeficit | None
) -> np.ndarray:
    """Mean path-length dose per region with the given deficit model (None: none)."""
    activity, density, regions = geometry
    if model is None:
        dose = path_length_dose(activity, nuclide, density=density, vacuum_deficit=False)
        return np.array([dose.array[m].mean() for m in regions.values()])
    saved = _backscatter.SURFACE_DEFICITS[nuclide]
    _backscatter.SURFACE_DEFICITS[nuclide] = model
    try:
        array = path_length_dose(activity, nuclide, density=density).array
    finally:
        _backscatter.SURFACE_DEFICITS[nuclide] = saved
    return np.array([array[m].mean() for m in regions.values()])


def table(title: str, names: list[str], mc: np.ndarray, se: np.ndarray, *doses: np.ndarray) -> None:
    """Print one markdown table: MC +- 1 sigma, then the deviation (%) of each dose."""
    print(f"\n{title}\n")
    print("| region | MC (Gy/MBq) +- 1 sigma | path-length (%) | corrected (%) |")
    print("|---|---|---|---|")
    for i, name in enumerate(names):
        cells = " | ".join(f"{100 * (d[i] / mc[i] - 1):+.1f}" for d in doses)
        print(f"| {name} | {mc[i]:.4g} +- {100 * se[i] / mc[i]:.1f} % | {cells} |")


def fit(nuclide: str, histories: tuple[int, int], cache: Path | None, layer_mm: float) -> None:
    """Fit ``a``, ``b`` (linear least squares) for each ``lambda``; print the best."""
    geometries = {"column": column(), "sphere": sphere()}
    mc, se, _used = measured(nuclide, geometries, histories, cache)
    sigma = np.hypot(se, MODEL_ERROR * mc)
    plain = np.concatenate([path_length(nuclide, g, None) for g in geometries.values()])
    best: tuple[float, float, float, float, np.ndarray] | None = None
    for depth in DEPTHS_MM:
        runs = [
            np.concatenate([path_length(nuclide, g, model) for g in geometries.values()])
            for model in (_backscatter.SurfaceDeficit(0.0, b, depth, layer_mm) for b in (0.0, 1.0))
        ]
        x, y = plain - runs[0], runs[1] - runs[0]
        design = np.stack([x / sigma, y / sigma], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, (mc - runs[0]) / sigma, rcond=None)
        model = runs[0] + a * x + b * y
        chi2 = float((((model - mc) / sigma) ** 2).sum())
        print(f"lambda {depth:.2f} mm: a {a:.4f} b {b:.4f} chi-square {chi2:.1f}")
        if best is None or chi2 < best[3]:
            best = (depth, float(a), float(b), chi2, model)
    assert best is not None
    depth, a, b, chi2, model = best
    print(
        f"\n{nuclide}: SurfaceDeficit(a={a:.3f}, b={b:.3f}, depth_mm={depth}, "
        f"layer_mm={layer_mm}), chi-square "
        f"{chi2:.1f} over {mc.size} regions (MC sigma and {MODEL_ERROR:.0%} in quadrature)"
    )
    names = [f"{g}: {r}" for g, geo in geometries.items() for r in geo[2]]
    table(f"{nuclide}, fitted geometries", names, mc, se, plain, model)


def fit_entry(nuclide: str, histories: tuple[int, int], cache: Path | None) -> None:
    """Fit the entry albedo: ``normal``, ``grazing`` (non-negative least squares) for each
    ``lambda`` and ``q`` of a grid; print the best and its fitted regions."""
    from scipy.optimize import nnls

    geometries = {"air-column": air_column(), "air-sphere": air_around_sphere()}
    mc, se, used = measured(nuclide, geometries, histories, cache)
    sigma = np.where(used, np.hypot(se, MODEL_ERROR * mc), np.inf)
    deficit = _backscatter.SURFACE_DEFICITS[nuclide]

    def run(normal: float, grazing: float, depth: float, q: float) -> np.ndarray:
        albedo = _backscatter.SurfaceAlbedo(normal, grazing, depth, q) if normal + grazing else None
        model = replace(deficit, albedo=albedo)
        return np.concatenate([path_length(nuclide, g, model) for g in geometries.values()])

    plain = run(0.0, 0.0, 1.0, 0.0)
    best: tuple[float, float, float, float, float, np.ndarray] | None = None
    for depth in ENTRY_DEPTHS_MM:
        n0, n1 = run(1.0, 0.0, depth, 0.0), run(1.0, 0.0, depth, 1.0)
        g0, g1 = run(0.0, 1.0, depth, 0.0), run(0.0, 1.0, depth, 1.0)
        for q in LOSSES_PER_MM:
            x = (n0 - plain) + q * (n1 - n0)
            y = (g0 - plain) + q * (g1 - g0)
            (normal, grazing), _ = nnls(np.stack([x / sigma, y / sigma], 1), (mc - plain) / sigma)
            model = plain + normal * x + grazing * y
            chi2 = float((((model - mc) / sigma)[used] ** 2).sum())
            if best is None or chi2 < best[4]:
                best = (depth, float(q), float(normal), float(grazing), chi2, model)
    assert best is not None
    depth, q, normal, grazing, chi2, model = best
    print(
        f"\n{nuclide}: SurfaceAlbedo(normal={normal:.3f}, grazing={grazing:.3f}, "
        f"depth_mm={depth}, loss_per_mm={q}), chi-square {chi2:.1f} over {used.sum()} regions "
        f"(MC sigma and {MODEL_ERROR:.0%} in quadrature)"
    )
    names = [f"{g}: {r}" for g, geo in geometries.items() for r in geo[2]]
    table(f"{nuclide}, fitted geometries (entry albedo)", names, mc, se, plain, model)


def validate(nuclide: str, histories: int, cache: Path | None) -> None:
    """Print the MC and the path-length dose, plain and corrected, in the validation cases."""
    model = _backscatter.SURFACE_DEFICITS[nuclide]
    cases = {"lung-vacuum": ("tissue -> 3 lung slabs -> vacuum", lung_to_vacuum())}
    cases["skin"] = ("tissue -> air (the skin test's box)", skin())
    for key, (title, geometry) in cases.items():
        mc, se = mc_means(nuclide, key, geometry, histories, cache)
        doses = (path_length(nuclide, geometry, None), path_length(nuclide, geometry, model))
        table(f"{nuclide}, {title} ({histories} histories)", list(geometry[2]), mc, se, *doses)


def main() -> None:
    """Run (or load) the Monte Carlo and print the fitted parameters or the validation."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nuclide", default="Y-90", choices=["Y-90", "Ho-166"])
    parser.add_argument(
        "--histories", type=int, nargs=2, default=[200_000, 100_000], help="column, sphere"
    )
    parser.add_argument("--cache", type=Path, default=None, help="prefix of npz MC caches")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--validate", action="store_true", help="the geometry not fitted")
    mode.add_argument(
        "--entry", action="store_true", help="fit the entry albedo (activity in air) instead"
    )
    parser.add_argument(
        "--layer", type=float, default=0.0, help="t (mm): the surface layer of the chord cosine"
    )
    args = parser.parse_args()
    if args.validate:
        validate(args.nuclide, args.histories[1], args.cache)
    elif args.entry:
        fit_entry(args.nuclide, tuple(args.histories), args.cache)
    else:
        fit(args.nuclide, tuple(args.histories), args.cache, args.layer)


if __name__ == "__main__":
    main()
