"""Time the full voxel-dose computation against scipy.signal.fftconvolve, same arrays, same run.

Run: ``.venv/bin/python benchmarks/dose_kernel.py [--sizes 128 256] [--workers -1] [--repeat 3]``

For each grid (n^3 voxels of 4 mm: a torso in air with lungs, a liver with a tumour under
the right lung, a spine and a lung shunt; see ``_phantom``), it times:

* ``kernel build``: the Y-90 voxel kernel from the point kernel (cache cleared first);
* ``dose (mass)``: ``kernel_dose`` with mass density correction (kernel cached);
* ``dose (range)``: ``kernel_dose`` with range-scaled kernels (several density classes);
* ``dose (path-length)``: ``path_length_dose``, the fast heterogeneous method (its
  density-class kernels built by an untimed first call, as the ``mass`` kernel is cached);
* ``FFT round trip``: one float32 ``rfftn`` + ``irfftn`` of the grid padded as ``mass``
  pads it, the floor of any convolution;
* ``scipy``: ``scipy.signal.fftconvolve(activity, kernel, mode="same")`` in float64, the
  baseline, on the same arrays.

and prints each time (median of ``--repeat`` runs, timed without tracemalloc) as a ratio to
the baseline, with the peak traced memory (tracemalloc, numpy buffers, one more call), then
the issue's ratios measured in the same run: path-length / mass time (of the medians, and
the median over ``--repeat`` back-to-back pairs, which a drifting load affects less),
path-length minus mass peak memory, and path-length / FFT round trip; and the process peak
resident set size (getrusage).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from scipy import fft
from scipy.signal import fftconvolve

from opensirt.dosimetry import kernel_dose
from opensirt.dosimetry.kernels import _energy_kernel_cached, energy_kernel
from opensirt.dosimetry.path_length import path_length_dose
from opensirt.imaging.volume import Volume

SPACING_MM = 4.0


def _ellipsoid(
    shape: tuple[int, int, int],
    centre_mm: tuple[float, float, float],
    semi_mm: tuple[float, float, float],
) -> np.ndarray:
    """Boolean ellipsoid, centre and semi-axes (z, y, x) in mm from the grid centre."""
    z, y, x = (
        (np.arange(n) - (n - 1) / 2) * SPACING_MM - c for n, c in zip(shape, centre_mm, strict=True)
    )
    return (
        (z[:, None, None] / semi_mm[0]) ** 2
        + (y[None, :, None] / semi_mm[1]) ** 2
        + (x[None, None, :] / semi_mm[2]) ** 2
    ) < 1.0


def _phantom(n: int) -> tuple[Volume, Volume]:
    """A torso in air (axis 0 cranio-caudal): body 1.04 g/mL, two lungs 0.26, liver 1.06
    under the right lung (dome against it) with a 3 cm tumour of 4x uptake, spine 1.92, air
    0.0012; activity in liver and tumour, and a lung shunt of about 8 % spread in the lungs.
    Sizes scale with the grid (a 256^3 grid of 4 mm is a 102 cm field of view)."""
    shape = (n, n, n)
    s = n * SPACING_MM / 1024.0  # 1 at 256 voxels of 4 mm
    density = np.full(shape, 0.0012, dtype=np.float32)
    body = _ellipsoid(shape, (0, 0, 0), (430 * s, 110 * s, 170 * s))
    density[body] = 1.04
    lungs = _ellipsoid(shape, (-110 * s, 0, 80 * s), (120 * s, 80 * s, 60 * s))
    lungs |= _ellipsoid(shape, (-110 * s, 0, -80 * s), (120 * s, 80 * s, 60 * s))
    density[lungs] = 0.26
    liver = _ellipsoid(shape, (40 * s, 0, -60 * s), (80 * s, 80 * s, 100 * s)) & ~lungs & body
    density[liver] = 1.06
    spine = _ellipsoid(shape, (0, -85 * s, 0), (400 * s, 18 * s, 18 * s))
    density[spine] = 1.92
    tumour = _ellipsoid(shape, (0, 10 * s, -70 * s), (30 * s, 30 * s, 30 * s)) & liver
    activity = np.where(liver, 1.0, 0.0) + np.where(tumour, 3.0, 0.0)
    activity += np.where(lungs, 0.08 * activity.sum() / max(1, lungs.sum()), 0.0)
    act = Volume(activity.astype(np.float32), spacing_mm=(SPACING_MM,) * 3, units="MBq")
    return act, act.with_array(density, units="g/mL")


def _measure(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float]:
    """Median time (s) of ``repeat`` calls, and the peak traced memory (MiB) of one more.

    The timed calls run without tracemalloc: it charges every allocation, and the ray loop of
    the path-length method makes many small ones, so timing under it would favour ``mass``.
    """
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return float(np.median(times)), peak_mib


def _paired_ratio(first: Callable[[], Any], second: Callable[[], Any], repeat: int) -> float:
    """Median over ``repeat`` back-to-back pairs of time(second) / time(first): a drift in the
    machine's load hits both calls of a pair alike."""
    ratios = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        first()
        t1 = time.perf_counter()
        second()
        ratios.append((time.perf_counter() - t1) / (t1 - t0))
    return float(np.median(ratios))


def _fft_round_trip(shape: tuple[int, ...], kernel_shape: tuple[int, ...], workers: int) -> float:
    padded = [
        fft.next_fast_len(n + m - 1, real=True) for n, m in zip(shape, kernel_shape, strict=True)
    ]
    grid = np.zeros(padded, dtype=np.float32)
    t0 = time.perf_counter()
    fft.irfftn(fft.rfftn(grid, workers=workers), s=padded, workers=workers)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--workers", type=int, default=-1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ratios: list[str] = []
    console = Console()
    table = Table(title="Y-90 voxel dose, 4 mm voxels (ratio = time / scipy fftconvolve)")
    for col in ("grid", "step", "time (s)", "ratio", "peak traced (MiB)"):
        table.add_column(col, justify="right")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmark", total=5 * len(args.sizes))
        for n in args.sizes:
            act, rho = _phantom(n)
            spacing = act.spacing_zyx_mm
            _energy_kernel_cached.cache_clear()
            steps: dict[str, tuple[float, float]] = {}
            steps["kernel build"] = _measure(lambda s=spacing: energy_kernel("Y-90", s))
            progress.advance(task)
            kernel = energy_kernel("Y-90", spacing)
            steps["scipy fftconvolve"] = _measure(
                lambda a=act.array, k=kernel: fftconvolve(a.astype(np.float64), k, mode="same")
            )
            progress.advance(task)

            def kernel_method(m: str, a: Volume = act, r: Volume = rho) -> None:
                kernel_dose(a, "Y-90", density=r, correction=m, workers=args.workers)

            def path_length(a: Volume = act, r: Volume = rho) -> None:
                path_length_dose(a, "Y-90", density=r, workers=args.workers)

            for method in ("mass", "range"):
                steps[f"dose ({method})"] = _measure(lambda m=method: kernel_method(m), args.repeat)
                progress.advance(task)
            path_length_dose(act, "Y-90", density=rho, rays_per_voxel=8)  # builds its kernels
            steps["dose (path-length)"] = _measure(path_length, args.repeat)
            progress.advance(task)
            fft_s = min(_fft_round_trip(act.shape, kernel.shape, args.workers) for _ in range(3))
            steps["FFT round trip"] = (fft_s, 0.0)
            pl_s, pl_mib = steps["dose (path-length)"]
            mass_s, mass_mib = steps["dose (mass)"]
            paired = _paired_ratio(lambda: kernel_method("mass"), path_length, args.repeat)
            ratios.append(
                f"{n}^3: path-length / mass time {pl_s / mass_s:.2f} (medians; back-to-back "
                f"pairs: {paired:.2f}; goal <= 3); path-length "
                f"- mass peak memory {(pl_mib - mass_mib) / 1024:+.2f} GiB (goal <= 2); "
                f"path-length / FFT round trip {pl_s / fft_s:.1f}"
            )
            base = steps["scipy fftconvolve"][0]
            for name, (sec, mib) in steps.items():
                table.add_row(f"{n}^3", name, f"{sec:.3f}", f"{sec / base:.2f}", f"{mib:.0f}")
    console.print(table)
    for line in ratios:
        console.print(line)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    console.print(f"process peak resident memory: {rss_mib:.0f} MiB")


if __name__ == "__main__":
    main()
