"""Import a synthetic cohort into a fresh SQLite registry through the writer; patients/s.

Run: ``.venv/bin/python benchmarks/registry_import.py [--patients 10000] [--seed 1]``

Steps, each with its wall time and peak resident memory (the kernel's high-water mark of the
process):

* ``generate``: :func:`opensirt.demo.cohort.synthetic_cohort` draws the patients and
  their records (plans made by the planning code), held in memory;
* ``baseline``: the same number of rows (one per record) inserted into one three-column
  table of a fresh SQLite file by ``sqlite3``'s ``executemany`` in one transaction: what the
  disk and the driver cost without any rule or mapping;
* ``import``: every patient and record written by
  :func:`opensirt.demo.cohort_writer.write_cohort` (the writer's ``add_patients`` and
  ``write_records``, every date and link rule checked; 250 patients per flush) into a fresh
  registry (WAL, foreign keys) in one transaction, as ``opensirt registry synth`` does.

Goal (the registry issue): 10,000 patients (about 20 records each) imported in under 60 s.
The import's ratio to the baseline is printed so that runs on other machines compare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from opensirt.demo.cohort import synthetic_cohort
from opensirt.demo.cohort_writer import write_cohort
from opensirt.registry.database import open_registry

#: The end of follow-up of the benchmark cohort (fixed: every run draws the same patients).
UNTIL = dt.date(2026, 6, 30)


def _peak_mib() -> float:
    """The process's peak resident memory (MiB; ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main() -> None:
    """Generate, time the baseline and the import, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.patients

    start = time.perf_counter()
    people = list(synthetic_cohort(n, args.seed, until=UNTIL))
    generate_s = time.perf_counter() - start
    records = sum(len(p.records) for p in people)
    print(
        f"generate: {n} patients, {records} records ({records / n:.1f} per patient) in "
        f"{generate_s:.1f} s ({n / generate_s:.0f} patients/s), peak {_peak_mib():.0f} MiB"
    )

    with tempfile.TemporaryDirectory() as folder:
        raw = sqlite3.connect(Path(folder) / "baseline.sqlite3", isolation_level=None)
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, patient TEXT, date TEXT)")
        rows = [(p.patient.patient, r.date.isoformat()) for p in people for r in p.records]  # type: ignore[attr-defined]
        start = time.perf_counter()
        raw.execute("BEGIN")
        raw.executemany("INSERT INTO events (patient, date) VALUES (?, ?)", rows)
        raw.execute("COMMIT")
        baseline_s = time.perf_counter() - start
        raw.close()
        print(f"baseline: {len(rows)} rows by executemany in {baseline_s:.2f} s")

        registry = open_registry(Path(folder) / "registry.sqlite3", create=True)
        try:
            start, cpu = time.perf_counter(), time.process_time()
            with registry.transaction() as session:
                for _ in write_cohort(session, people):
                    pass
            import_s = time.perf_counter() - start
            import_cpu_s = time.process_time() - cpu
        finally:
            registry.dispose()
    print(
        f"import:   {n} patients, {records} records in {import_s:.1f} s: "
        f"{n / import_s:.0f} patients/s, {records / import_s:.0f} records/s; "
        f"{import_s / baseline_s:.0f} x the baseline; CPU {import_cpu_s:.1f} s; "
        f"peak {_peak_mib():.0f} MiB"
    )
    if n >= 10_000:
        print(f"goal (10,000 patients under 60 s): {'met' if import_s < 60.0 else 'NOT met'}")
    else:
        print(f"goal (10,000 patients under 60 s): {10_000 * import_s / n:.0f} s extrapolated")


if __name__ == "__main__":
    main()
