"""Dose-volume histograms as CSV: one row per dose bin (Gy), one column per structure."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from opensirt.dosimetry.dvh import DoseVolumeHistogram
from opensirt.errors import InputError
from opensirt.fileio import write_atomically


def write_dvh_csv(
    histograms: Sequence[DoseVolumeHistogram],
    path: str | os.PathLike[str],
    *,
    bin_width_gy: float = 1.0,
    max_dose_gy: float | None = None,
    kind: str = "cumulative",
) -> Path:
    """Write DVHs as CSV, atomically.

    Columns: ``dose_gy`` then one column per structure (its name), holding the percent of the
    structure volume receiving at least ``dose_gy`` (``kind="cumulative"``) or with a dose in
    ``[dose_gy, dose_gy + bin_width_gy)`` (``kind="differential"``). Bins run from 0 to
    ``max_dose_gy`` (default: the highest maximum, rounded up to a bin).
    """
    if not histograms:
        raise InputError("histograms is empty, expected at least one DoseVolumeHistogram")
    names = [h.name or f"structure_{i + 1}" for i, h in enumerate(histograms)]
    if len(set(names)) != len(names):
        raise InputError(f"structure names {names} are not unique; name each histogram")
    if not bin_width_gy > 0:
        raise InputError(f"bin_width_gy is {bin_width_gy!r}, expected a width > 0 Gy")
    if kind not in ("cumulative", "differential"):
        raise InputError(f"kind is {kind!r}, expected 'cumulative' or 'differential'")
    top = max_dose_gy if max_dose_gy is not None else max(h.max_gy for h in histograms)
    n_bins = int(np.ceil(top / bin_width_gy)) + 1
    edges = np.arange(n_bins + 1, dtype=np.float64) * bin_width_gy
    columns = []
    for h in histograms:
        values = h.cumulative(edges)
        columns.append(values[:-1] if kind == "cumulative" else values[:-1] - values[1:])

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["dose_gy", *names])
            for b in range(n_bins):
                row = [f"{edges[b]:.6g}"] + [f"{100.0 * c[b]:.6f}" for c in columns]
                writer.writerow(row)

    return write_atomically(path, write)
