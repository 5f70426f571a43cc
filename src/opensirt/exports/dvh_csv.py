"""Dose-volume histograms as CSV: one row per dose bin (Gy), two columns per structure.

The header names the units: ``dose_gy``, then for each structure ``<name>_volume_percent``
(percent of the structure volume) and ``<name>_volume_ml`` (the same volume in mL: the
structure volume x that fraction).
"""

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

    Columns: ``dose_gy`` then two per structure: ``<name>_volume_percent``, the percent of the
    structure volume receiving at least ``dose_gy`` (``kind="cumulative"``) or with a dose in
    ``[dose_gy, dose_gy + bin_width_gy)`` (``kind="differential"``), and ``<name>_volume_ml``,
    that volume in mL (the structure's ``volume_ml`` x the fraction). Bins run from 0 to
    ``max_dose_gy`` (default: the highest maximum, rounded up to a bin).

    Parameters
    ----------
    histograms : Sequence[DoseVolumeHistogram]
        One histogram per structure, in column order; their names (``structure_<n>`` for an
        unnamed one) must be unique.
    path : str | os.PathLike[str]
        Output CSV file; its folder is created if missing.
    bin_width_gy : float, optional
        Width of a dose bin (Gy), default 1 Gy.
    max_dose_gy : float | None, optional
        Dose of the last bin (Gy), rounded up to a whole bin; ``None`` (default) uses the
        highest maximum dose of the histograms.
    kind : str, optional
        ``"cumulative"`` (default: volume receiving at least the bin's dose) or
        ``"differential"`` (volume with a dose inside the bin).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    InputError
        If ``histograms`` is empty, the structure names repeat, ``bin_width_gy`` is not
        > 0 or ``kind`` is not one of the two.
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
            header = ["dose_gy"]
            for name in names:
                header += [f"{name}_volume_percent", f"{name}_volume_ml"]
            writer.writerow(header)
            for b in range(n_bins):
                row = [f"{edges[b]:.6g}"]
                for h, c in zip(histograms, columns, strict=True):
                    row += [f"{100.0 * c[b]:.6f}", f"{h.volume_ml * c[b]:.6f}"]
                writer.writerow(row)

    return write_atomically(path, write)
