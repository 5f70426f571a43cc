"""DVH metrics of dicompyler-core's example RT data set: OpenSIRT next to dicompyler-core.

Run: ``python benchmarks/dvh_dicompyler.py [--subdivisions 8] [--markdown FILE]``

Reads the RTDOSE and RTSTRUCT of tests/data/dicompyler_example (decompressed into a
temporary folder), computes each structure's partial-voxel occupancy on the dose grid
(:func:`opensirt.imaging.contour_fractions.rtstruct_fractions`) and its DVH, and prints two
markdown tables against the values dicompyler-core 0.5.6 computes
(``dicompyler_core_values.json``) and the planning system's DVHs stored in the RTDOSE (DVH
Sequence, read here). docs/dvh.md shows the output; regenerate it with this script.
"""

from __future__ import annotations

import argparse
import json
import lzma
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom

from opensirt.dosimetry.dvh import MIN_MAX_OCCUPANCY, OCCUPANCY_EPSILON, dose_volume_histogram
from opensirt.imaging.contour_fractions import rtstruct_fractions
from opensirt.imaging.rtdose_io import read_rtdose

DATA = Path(__file__).parents[1] / "tests" / "data" / "dicompyler_example"


def planning_system_dvhs(rtdose: Path, rtss: Path) -> dict[str, tuple[float, float]]:
    """Volume (mL) and mean (Gy) of each cumulative DVH stored in the RTDOSE's DVH Sequence.

    DVH Data holds (bin width, cumulative volume) pairs; the mean is the sum over bins of the
    bin centre times the volume in the bin, over the volume at zero dose (as dicompyler-core's
    ``DVH.from_dicom_dvh`` and ``DVH.mean``).
    """
    names = {
        int(r.ROINumber): str(r.ROIName) for r in pydicom.dcmread(rtss).StructureSetROISequence
    }
    out = {}
    for item in pydicom.dcmread(rtdose).get("DVHSequence", []):
        data = np.asarray(item.DVHData, dtype=float)
        widths = data[0::2] * float(item.get("DVHDoseScaling", 1.0))
        cumulative = data[1::2]
        edges = np.concatenate([[0.0], np.cumsum(widths)])
        in_bin = cumulative - np.append(cumulative[1:], 0.0)
        mean = float(np.sum(0.5 * (edges[:-1] + edges[1:]) * in_bin) / cumulative[0])
        roi = int(item.DVHReferencedROISequence[0].ReferencedROINumber)
        out[names[roi]] = (float(cumulative[0]), mean)
    return out


def _pct(ours: float, theirs: float) -> str:
    return f"{100.0 * (ours - theirs) / theirs:+.2f}" if theirs else "n/a"


def tables(subdivisions: int) -> str:
    """The two markdown tables (volume and mean; extremes and near-extremes)."""
    reference: dict[str, Any] = json.loads((DATA / "dicompyler_core_values.json").read_text())
    calculated = reference["calculated"]
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name in ("rtdose", "rtss"):
            paths[name] = Path(folder) / f"{name}.dcm"
            paths[name].write_bytes(lzma.decompress((DATA / f"{name}.dcm.xz").read_bytes()))
        dose = read_rtdose(paths["rtdose"])
        tps = planning_system_dvhs(paths["rtdose"], paths["rtss"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Areola has no contour; BODY leaves the grid
            fractions = rtstruct_fractions(paths["rtss"], dose, subdivisions=subdivisions)
    voxel_ml = dose.voxel_volume_ml
    first = [
        "| structure | dicompyler-core volume (mL) | OpenSIRT volume (mL) | diff (%) "
        "| planning system volume (mL) | voxels touched / at least half inside "
        "| dicompyler-core mean (Gy) | OpenSIRT mean (Gy) | diff (%) | planning system mean (Gy) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    second = [
        "| structure | min (Gy) dcm / ours | max (Gy) dcm / ours | min, max over every voxel "
        "touched (Gy) | D2 (Gy) dcm / ours | D50 (Gy) dcm / ours | D95 (Gy) dcm / ours "
        "| D98 (Gy) dcm / ours |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in sorted(fractions, key=lambda n: -calculated[n]["volume_ml"]):
        h = dose_volume_histogram(dose, fractions[name], name=name)
        ref = calculated[name]
        w = fractions[name].array
        touched = int(np.count_nonzero(w >= OCCUPANCY_EPSILON))
        core = int(np.count_nonzero(w >= MIN_MAX_OCCUPANCY))
        tps_volume, tps_mean = tps.get(name, (float("nan"), float("nan")))
        first.append(
            f"| {name} | {ref['volume_ml']:.3f} | {h.volume_ml:.3f} "
            f"| {_pct(h.volume_ml, ref['volume_ml'])} | {tps_volume:.3f} "
            f"| {touched} / {core} ({core * voxel_ml:.3f} mL) "
            f"| {ref['mean_gy']:.4f} | {h.mean_gy:.4f} | {_pct(h.mean_gy, ref['mean_gy'])} "
            f"| {tps_mean:.4f} |"
        )
        touched_doses = dose.array[w >= OCCUPANCY_EPSILON]
        cells = [
            f"{ref['min_gy']:.2f} / {h.min_gy:.3f}",
            f"{ref['max_gy']:.2f} / {h.max_gy:.3f}",
            f"{touched_doses.min():.3f}, {touched_doses.max():.3f}",
        ]
        cells += [f"{ref[f'D{x}_gy']:.2f} / {h.d_percent_gy(x):.3f}" for x in (2, 50, 95, 98)]
        second.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(first) + "\n\n" + "\n".join(second) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subdivisions", type=int, default=8, help="sub-pixels per axis")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    start = time.perf_counter()
    text = tables(args.subdivisions)
    print(text)
    print(f"({time.perf_counter() - start:.1f} s, {args.subdivisions} sub-pixels per axis)")
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
