"""Kaplan-Meier, log-rank and Cox on a 100,000-patient cohort table (goal: under 10 s in all).

Run: ``.venv/bin/python benchmarks/analytics_survival.py [N]``

It draws a seeded synthetic cohort table of ``N`` patients (default 100,000): three groups,
exponential survival and progression with group-dependent medians, uniform censoring over
three years, times in whole days (as the registry export writes them), ages and tumour doses.
It writes the table as CSV in a temporary folder, then times, each once:

- the baseline: reading and checking the CSV (:func:`opensirt.analytics.read_cohort`);
- Kaplan-Meier of OS for the cohort and each group, medians with intervals, landmarks, and
  the log-rank test (:func:`opensirt.analytics.survival.survival_summary`);
- the same for PFS;
- a Cox model of OS on age, tumour dose and group, with the proportional-hazards test
  (:func:`opensirt.analytics.cox.cox_model`).

It prints seconds and the ratio to the baseline of each step, and the total of the analyses
against the 10 s goal.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from opensirt.analytics.cohort import DAYS_PER_MONTH, read_cohort
from opensirt.analytics.cox import cox_model
from opensirt.analytics.survival import survival_summary

GOAL_S = 10.0


def synthetic_table(n: int, seed: int = 0) -> pd.DataFrame:
    """A cohort table of ``n`` patients (see the module notes)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    median_os = np.array([10.0, 14.0, 18.0])[group]
    os_months = rng.exponential(median_os / np.log(2))
    pfs_months = np.minimum(os_months, rng.exponential(median_os / 2 / np.log(2)))
    follow = rng.uniform(1.0, 36.0, n)

    def days(months: np.ndarray) -> np.ndarray:
        return np.round(months * DAYS_PER_MONTH) / DAYS_PER_MONTH

    return pd.DataFrame({
        "patient_id": [f"B{i:07d}" for i in range(n)],
        "group": np.array(["sir-spheres", "therasphere", "quirem"])[group],
        "diagnosis": "hcc",
        "os_months": days(np.minimum(os_months, follow)).round(4),
        "death": (os_months <= follow).astype(int),
        "pfs_months": days(np.minimum(pfs_months, follow)).round(4),
        "progression": (pfs_months <= follow).astype(int),
        "tumour_dose_gy": rng.uniform(40.0, 400.0, n).round(1),
        "age_years": rng.integers(35, 90, n),
    })  # fmt: skip


def timed(label: str, step: object) -> float:
    """Run ``step()`` once and return its wall time (s)."""
    start = time.perf_counter()
    step()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"  {label:<58} {seconds:7.2f} s", flush=True)
    return seconds


def main() -> None:
    """Draw the table, time the steps, print the ratios."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cohort.csv"
        synthetic_table(n).to_csv(path, index=False)
        print(f"Cohort table: {n} patients, {path.stat().st_size / 2**20:.1f} MiB")
        holder: dict[str, object] = {}
        base = timed("baseline: read and check the CSV", lambda: holder.update(c=read_cohort(path)))
        cohort = holder["c"]
        steps = {
            "KM OS (all + 3 groups), medians, landmarks, log-rank": lambda: survival_summary(
                cohort, "os"
            ),
            "KM PFS (all + 3 groups), medians, landmarks, log-rank": lambda: survival_summary(
                cohort, "pfs"
            ),
            "Cox OS: age, dose, group (4 terms) + PH test": lambda: cox_model(
                cohort, ["age_years", "tumour_dose_gy", "group"]
            ),
        }  # type: ignore[arg-type]
        total = 0.0
        results = []
        for label, step in steps.items():
            seconds = timed(label, step)
            results.append((label, seconds))
            total += seconds
    print()
    print(f"{'step':<60} {'s':>7} {'x CSV read':>11}")
    for label, seconds in results:
        print(f"{label:<60} {seconds:7.2f} {seconds / base:11.2f}")
    verdict = "meets" if total < GOAL_S else "misses"
    print(
        f"{'all analyses':<60} {total:7.2f} {total / base:11.2f}  "
        f"({verdict} the {GOAL_S:.0f} s goal)"
    )


if __name__ == "__main__":
    main()
