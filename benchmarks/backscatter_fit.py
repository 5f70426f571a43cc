"""Fit the backscatter-deficit model of the path-length method to the project's Monte Carlo.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/backscatter_fit.py --nuclide Y-90
[--histories 200000] [--cache mc.npz]``

The path-length method superposes the infinite-medium soft-tissue kernel, which includes the
electrons scattered back by medium beyond the point scored. Where a ray leaves dense medium
for vacuum (the grid's edge, or air out to the ray's end) that medium is missing. The model
(:mod:`opensirt.dosimetry._backscatter`) scales the energy a ray deposits at the mass
distance ``Delta`` before its exit by ``c = 1 - (1 - a - b mu) exp(-Delta / lambda)``, ``mu``
the cosine between the ray and the outward normal of the surface. This script fits ``a``,
``b`` and ``lambda`` to the Monte Carlo (``monte_carlo``, ICRU soft tissue at its density,
vacuum outside the grid) in a *fitting geometry* that no test or table uses:

* voxels 2.21 mm along z, 4.42 mm laterally, 21 x 21 laterally; 10 layers of soft tissue
  (1.06 g/mL) then 20 of air (0.0012 g/mL); the activity uniform in the central 7 x 7
  columns of the tissue (a 31 mm square source 22 mm deep);
* scored: the tissue layers 1-3 under the surface, and the air in bins of height (layers
  1-2, 3-5, 6-10, 11-20 above the surface) and lateral distance from the source column
  (inside it, 1-3 and 4-7 voxels outside): each bin sees the surface under its own range of
  angles, so the fit separates ``a``, ``b`` and ``lambda``.

For each ``lambda`` of a grid the path-length dose is linear in ``a`` and ``b``
(three path-length runs); ``a`` and ``b`` are fitted by weighted least squares (weights: the
MC's standard errors), and the ``lambda`` with the smallest chi-square is kept. Printed: the
parameters (to be copied into ``_backscatter.SURFACE_DEFICITS``), chi-square per bin, and the
error of each bin before and after the correction.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from opensirt.dosimetry import _backscatter, absorbed_dose
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.imaging.volume import Volume

TISSUE, AIR, LATERAL, COLUMN = 10, 20, 21, 7
SPACING = (2.21, 4.42, 4.42)
HEIGHTS = ((1, 2), (3, 5), (6, 10), (11, 20))
RINGS = ((0, 0), (1, 3), (4, 7))
DEPTHS_MM = (0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2, 3.0)
#: Relative model error added in quadrature to the MC's standard error (the rays' noise).
MODEL_ERROR = 0.01


def geometry() -> tuple[Volume, Volume]:
    """Activity (1 MBq per active voxel) and density of the fitting geometry."""
    shape = (TISSUE + AIR, LATERAL, LATERAL)
    rho = np.full(shape, 0.0012, dtype=np.float32)
    rho[:TISSUE] = 1.06
    act = np.zeros(shape, dtype=np.float32)
    lo = (LATERAL - COLUMN) // 2
    act[:TISSUE, lo : lo + COLUMN, lo : lo + COLUMN] = 1.0
    activity = Volume(act, spacing_mm=SPACING, units="MBq")
    return activity, activity.with_array(rho, units="g/mL")


def regions() -> dict[str, np.ndarray]:
    """Scored regions (masks) by name."""
    shape = (TISSUE + AIR, LATERAL, LATERAL)
    lo = (LATERAL - COLUMN) // 2
    j, i = np.indices(shape[1:])
    outside = np.maximum(
        np.maximum(lo - j, j - (lo + COLUMN - 1)), np.maximum(lo - i, i - (lo + COLUMN - 1))
    )
    out = {}
    for depth in (1, 2, 3):
        mask = np.zeros(shape, dtype=bool)
        mask[TISSUE - depth, lo + 1 : lo + COLUMN - 1, lo + 1 : lo + COLUMN - 1] = True
        out[f"tissue -{depth}"] = mask
    for h0, h1 in HEIGHTS:
        for r0, r1 in RINGS:
            mask = np.zeros(shape, dtype=bool)
            ring = (outside >= r0) & (outside <= r1)
            mask[TISSUE + h0 - 1 : TISSUE + h1] = ring
            out[f"air {h0}-{h1} ring {r0}-{r1}"] = mask
    return out


def monte_carlo_doses(nuclide: str, histories: int, cache: Path | None) -> np.ndarray:
    """Batch doses (Gy) of the Monte Carlo in the fitting geometry (cached if asked)."""
    if cache is not None and cache.exists():
        return np.load(cache)["batch_dose_gy"]
    activity, density = geometry()
    dose = absorbed_dose(
        activity, nuclide, density=density, method="monte-carlo", histories=histories,
        batches=10, seed=29,
    )  # fmt: skip
    batches = dose.metadata["monte_carlo"].batch_dose_gy
    if cache is not None:
        np.savez_compressed(cache, batch_dose_gy=batches)
    return batches


def _path_length(nuclide: str, model: _backscatter.SurfaceDeficit | None) -> np.ndarray:
    """Mean path-length dose per region with the given deficit model (None: none)."""
    activity, density = geometry()
    saved = _backscatter.SURFACE_DEFICITS.pop(nuclide)
    try:
        if model is not None:
            _backscatter.SURFACE_DEFICITS[nuclide] = model
        dose = path_length_dose(activity, nuclide, density=density).array
    finally:
        _backscatter.SURFACE_DEFICITS[nuclide] = saved
    return np.array([dose[m].mean() for m in regions().values()])


def fit(nuclide: str, batches: np.ndarray) -> None:
    """Fit ``a``, ``b`` (linear least squares) for each ``lambda`` and print the best."""
    means = np.array([[b[m].mean() for m in regions().values()] for b in batches])
    mc = means.mean(axis=0)
    sigma = np.hypot(means.std(axis=0, ddof=1) / np.sqrt(len(means)), MODEL_ERROR * mc)
    plain = _path_length(nuclide, None)
    best: tuple[float, float, float, float, np.ndarray] | None = None
    for depth in DEPTHS_MM:
        r1 = _path_length(nuclide, _backscatter.SurfaceDeficit(0.0, 0.0, depth))
        r2 = _path_length(nuclide, _backscatter.SurfaceDeficit(0.0, 1.0, depth))
        x, y = plain - r1, r2 - r1
        design = np.stack([x / sigma, y / sigma], axis=1)
        (a, b), *_ = np.linalg.lstsq(design, (mc - r1) / sigma, rcond=None)
        model = r1 + a * x + b * y
        chi2 = float((((model - mc) / sigma) ** 2).sum())
        print(f"lambda {depth:.2f} mm: a {a:.4f} b {b:.4f} chi2 {chi2:.1f}")
        if best is None or chi2 < best[3]:
            best = (depth, float(a), float(b), chi2, model)
    assert best is not None
    depth, a, b, chi2, model = best
    print(f"\n{nuclide}: SurfaceDeficit(a={a:.3f}, b={b:.3f}, depth_mm={depth}), chi2 {chi2:.1f}")
    print(f"over {mc.size} regions (MC sigma + {MODEL_ERROR:.0%} in quadrature)\n")
    print("| region | MC (Gy/MBq) +- 1 sigma | path-length (%) | corrected (%) |")
    print("|---|---|---|---|")
    for i, name in enumerate(regions()):
        rel = 100 * means.std(axis=0, ddof=1)[i] / np.sqrt(len(means)) / mc[i]
        print(
            f"| {name} | {mc[i]:.4g} +- {rel:.1f} % | {100 * (plain[i] / mc[i] - 1):+.1f} | "
            f"{100 * (model[i] / mc[i] - 1):+.1f} |"
        )


def validation_geometries() -> dict[str, tuple[Volume, Volume, dict[str, np.ndarray]]]:
    """Geometries not used by the fit: a tissue sphere in air, tissue -> lung -> vacuum."""
    h = 4.42
    n = 15
    z, y, x = (np.indices((n, n, n)) + 0.5 - n / 2) * h
    r = np.sqrt(z * z + y * y + x * x)
    sphere = r <= 15.0
    rho = np.where(sphere, 1.06, 0.0012).astype(np.float32)
    act = Volume(sphere.astype(np.float32), spacing_mm=(h,) * 3, units="MBq")
    shell = r - 15.0
    out = {
        "tissue sphere (30 mm) in air": (
            act,
            act.with_array(rho, units="g/mL"),
            {
                "sphere, outer 4.42 mm": sphere & (shell > -h),
                "air 0-4.42 mm": ~sphere & (shell < h),
                "air 4.42-8.84 mm": ~sphere & (shell >= h) & (shell < 2 * h),
                "air 8.84-17.7 mm": ~sphere & (shell >= 2 * h) & (shell < 4 * h),
            },
        )
    }
    # 6 layers of loaded tissue, 3 of lung, then the grid's edge (vacuum); 13 x 13 cubes
    rho = np.full((9, 13, 13), 0.26, dtype=np.float32)
    rho[:6] = 1.06
    act = Volume((rho > 1).astype(np.float32), spacing_mm=(h,) * 3, units="MBq")
    masks = {}
    for name, layer in (
        ("tissue -1", 5),
        ("lung +1", 6),
        ("lung +2", 7),
        ("lung +3 (at vacuum)", 8),
    ):
        mask = np.zeros(rho.shape, dtype=bool)
        mask[layer, 3:10, 3:10] = True
        masks[name] = mask
    out["tissue -> lung (3 slabs) -> vacuum"] = (act, act.with_array(rho, units="g/mL"), masks)
    return out


def validate(nuclide: str, histories: int, cache: Path | None) -> None:
    """Print the MC and the path-length dose, plain and corrected, in the validation cases."""
    for k, (name, (activity, density, masks)) in enumerate(validation_geometries().items()):
        path = None if cache is None else cache.with_suffix(f".val{k}.npz")
        if path is not None and path.exists():
            batches = np.load(path)["batch_dose_gy"]
        else:
            dose = absorbed_dose(
                activity, nuclide, density=density, method="monte-carlo",
                histories=histories, batches=10, seed=31,
            )  # fmt: skip
            batches = dose.metadata["monte_carlo"].batch_dose_gy
            if path is not None:
                np.savez_compressed(path, batch_dose_gy=batches)
        corrected = path_length_dose(activity, nuclide, density=density).array
        saved = _backscatter.SURFACE_DEFICITS.pop(nuclide)
        try:
            plain = path_length_dose(activity, nuclide, density=density).array
        finally:
            _backscatter.SURFACE_DEFICITS[nuclide] = saved
        print(f"\n{nuclide}, {name} ({histories} histories)\n")
        print("| region | MC (Gy/MBq) +- 1 sigma | path-length (%) | corrected (%) |")
        print("|---|---|---|---|")
        for region, mask in masks.items():
            means = np.array([b[mask].mean() for b in batches])
            mc = means.mean()
            rel = 100 * means.std(ddof=1) / np.sqrt(len(means)) / mc
            errors = [100 * (d[mask].mean() / mc - 1) for d in (plain, corrected)]
            print(f"| {region} | {mc:.4g} +- {rel:.1f} % | {errors[0]:+.1f} | {errors[1]:+.1f} |")


def main() -> None:
    """Run (or load) the Monte Carlo and print the fitted parameters."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nuclide", default="Y-90", choices=["Y-90", "Ho-166"])
    parser.add_argument("--histories", type=int, default=200_000)
    parser.add_argument("--cache", type=Path, default=None, help="npz of the MC batch doses")
    parser.add_argument("--mc-only", action="store_true")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="the geometries not fitted, with the stored parameters",
    )
    args = parser.parse_args()
    if args.validate:
        validate(args.nuclide, args.histories, args.cache)
        return
    batches = monte_carlo_doses(args.nuclide, args.histories, args.cache)
    if args.mc_only:
        return
    fit(args.nuclide, batches)


if __name__ == "__main__":
    main()
