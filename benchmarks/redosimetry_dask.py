"""Cohort re-dosimetry on Dask: cases per minute on 1 and 2 local workers, the speed-up, and
the overhead against a plain loop in one process (goal: >= 1.8x on 2 workers).

Run: ``.venv/bin/python benchmarks/redosimetry_dask.py [N] [--grid 64] [--method kernel]``

It writes ``N`` synthetic voxel cases (default 200; :mod:`opensirt.analytics.redosimetry_synth`:
a torso phantom on a ``grid``^3 grid of 6 mm voxels with one to three tumours, saved as the
plan state of a plan from images) in a temporary folder, records them in a SQLite registry
there and reads them back as the command does. Then it recomputes every case three ways, each
timed from the first case to the last outcome: a plain loop in this process, and one Dask
graph on a local cluster of 1 and of 2 worker processes (one thread each, the math libraries
on one thread), with the CPU seconds each used (on a shared machine, the share of a core
they got tells contention from overhead). Cluster start-up (with the import of OpenSIRT on
each worker) is timed apart. Last, the 2-worker outcomes are stored in batches of 50, one
transaction each, as ``opensirt analytics redose`` stores them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import tempfile
import time
from pathlib import Path

from opensirt._threads import limited_threads
from opensirt.analytics import redosimetry
from opensirt.analytics.redosimetry import RedoseCase, RedoseSettings, redose_case
from opensirt.analytics.redosimetry_dask import Outcome, dask_client, run_cohort
from opensirt.analytics.redosimetry_registry import select_cases, store_outcomes
from opensirt.analytics.redosimetry_synth import record_synthetic_cases, write_synthetic_case
from opensirt.registry.database import open_registry

BATCH = 50


def _cases(folder: Path, n: int, grid: int) -> tuple[str, list[RedoseCase]]:
    start = time.perf_counter()
    written = [
        write_synthetic_case(folder / f"plan{i:04d}", f"BENCH-{i:04d}", seed=i, n=grid)
        for i in range(n)
    ]
    url = f"sqlite:///{folder / 'registry.sqlite3'}"
    registry = open_registry(url, create=True)
    try:
        with registry.transaction(actor="benchmark") as session:
            record_synthetic_cases(session, written)
        with registry.transaction(readonly=True) as session:
            cases = select_cases(session)
    finally:
        registry.dispose()
    seconds = time.perf_counter() - start
    print(f"{n} synthetic cases of {grid}^3 voxels written and recorded in {seconds:.1f} s")
    return url, cases


def _loop(cases: list[RedoseCase], settings: RedoseSettings) -> tuple[float, float]:
    """Wall and CPU seconds of a plain loop over the cases in this process."""
    start, cpu = time.perf_counter(), time.process_time()
    with limited_threads(1):
        for case in cases:
            redose_case(case, settings)
    return time.perf_counter() - start, time.process_time() - cpu


def _dask(
    cases: list[RedoseCase], settings: RedoseSettings, workers: int
) -> tuple[float, float, float, list[Outcome]]:
    """Cluster start-up, wall and the workers' CPU seconds of one run, and its outcomes."""
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    with dask_client(n_workers=workers) as client:
        client.wait_for_workers(workers)
        client.run(importlib.import_module, redosimetry.__name__)  # imports on every worker
        started = time.perf_counter() - start
        before = client.run(time.process_time)
        run = run_cohort(client, cases, settings, on_outcome=outcomes.append)
        cpu = sum(t - before[w] for w, t in client.run(time.process_time).items())
    if run.failed:
        raise SystemExit(f"{run.failed} case(s) failed")
    return started, run.seconds, cpu, outcomes


def _store(url: str, outcomes: list[Outcome], settings: RedoseSettings) -> float:
    registry = open_registry(url)
    start = time.perf_counter()
    try:
        for i in range(0, len(outcomes), BATCH):
            with registry.transaction(actor="benchmark") as session:
                store_outcomes(
                    session,
                    outcomes[i : i + BATCH],
                    run_id="b" * 32,
                    settings=settings,
                    created_by="benchmark",
                )
    finally:
        registry.dispose()
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=200, help="cases (default 200)")
    parser.add_argument("--grid", type=int, default=64, help="voxels per axis (default 64)")
    parser.add_argument("--method", default="kernel", help="kernel or ldm (default kernel)")
    args = parser.parse_args()
    settings = RedoseSettings(method=args.method)
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="redose-bench-") as tmp:
        url, cases = _cases(Path(tmp), args.n, args.grid)
        n = len(cases)
        loop_s, loop_cpu = _loop(cases, settings)
        print(
            f"plain loop, 1 process:   {loop_s:7.1f} s  {60 * n / loop_s:7.1f} cases/min"
            f"  CPU {loop_cpu / n:.3f} s/case, {100 * loop_cpu / loop_s:.0f} % of a core"
        )
        seconds = {}
        outcomes: list[Outcome] = []
        for workers in (1, 2):
            started, seconds[workers], cpu, outcomes = _dask(cases, settings, workers)
            wall = seconds[workers]
            print(
                f"Dask, {workers} worker(s):      {wall:7.1f} s  {60 * n / wall:7.1f} cases/min"
                f"  CPU {cpu / n:.3f} s/case, {100 * cpu / wall / workers:.0f} % of a core"
                f" per worker (cluster start {started:.1f} s)"
            )
        print(f"speed-up, 2 workers over 1: {seconds[1] / seconds[2]:.2f}x (goal >= 1.8x)")
        overhead = 100 * (seconds[1] / loop_s - 1)
        print(f"overhead of Dask (1 worker) over the plain loop: {overhead:+.1f} %")
        store_s = _store(url, outcomes, settings)
        print(f"storing {n} results in batches of {BATCH}: {store_s:.2f} s")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
