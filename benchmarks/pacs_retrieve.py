"""Retrieval speed from a local PACS: a 300-slice CT by C-GET, C-MOVE and WADO-RS, against a
plain ``cp`` of the same files (the local ceiling), in the same run.

Run: ``.venv/bin/python benchmarks/pacs_retrieve.py [--slices 300] [--size 512]``

It writes a synthetic CT (``--slices`` slices of ``--size``² int16 voxels, about 0.5 MB each at
512²) into a temporary folder, starts Debian's Orthanc with its DICOMweb plugin on loopback
ports (the tests' helper, tests/orthanc_server.py) and loads the CT through its REST API (not
timed). Then it times ``cp -r`` of the files, and :func:`opensirt.pacs.retrieve.fetch_series`
into an empty cache by each method: the query (C-FIND), the transfer, the checks and the
SHA-256 checksums of the cache included. It prints MB/s, slices/s and the fraction of the
``cp`` rate. Bounded: it only talks to 127.0.0.1 and deletes everything at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from opensirt.imaging.dicom_common import DicomContext
from opensirt.imaging.dicom_write import ct_datasets, write_series
from opensirt.imaging.volume import Volume
from opensirt.pacs.nodes import NodesFile, RetrieveMethod
from opensirt.pacs.retrieve import fetch_series
from orthanc_server import HTTP_PASSWORD, PASSWORD_ENV, nodes_settings, orthanc_server


def _write_ct(folder: Path, slices: int, size: int) -> list[Path]:
    rng = np.random.default_rng(7)
    hu = rng.normal(40.0, 20.0, (slices, size, size)).astype(np.int16)
    volume = Volume(hu, spacing_mm=(0.8, 0.8, 1.0), frame_of_reference_uid=None, units="HU")
    context = DicomContext("BENCH-001", datetime(2026, 1, 1, tzinfo=UTC), uid_seed="pacs-bench")
    datasets = ct_datasets(volume, context, acquired=datetime(2026, 1, 1, tzinfo=UTC))
    return write_series(datasets, folder, "CT")


def _line(label: str, seconds: float, total_bytes: int, slices: int, ceiling_s: float) -> str:
    rate = total_bytes / 1e6 / seconds
    return (
        f"{label:<8} {seconds:7.2f} s  {rate:8.1f} MB/s  {slices / seconds:8.1f} slices/s  "
        f"{ceiling_s / seconds:6.1%} of cp"
    )


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="opensirt-pacs-bench-"))
    try:
        files = _write_ct(root / "ct", args.slices, args.size)
        total_bytes = sum(p.stat().st_size for p in files)
        start = time.perf_counter()
        subprocess.run(["cp", "-r", str(root / "ct"), str(root / "copy")], check=True)
        ceiling_s = time.perf_counter() - start
        os.environ[PASSWORD_ENV] = HTTP_PASSWORD
        with orthanc_server() as server:
            if server is None:
                raise SystemExit("Orthanc is not installed (Debian: apt-get install orthanc)")
            server.upload(files)
            import pydicom

            first = pydicom.dcmread(files[0], stop_before_pixels=True)
            study, series = str(first.StudyInstanceUID), str(first.SeriesInstanceUID)
            print(f"{len(files)} slices, {total_bytes / 1e6:.1f} MB, Orthanc on 127.0.0.1")
            print(_line("cp", ceiling_s, total_bytes, len(files), ceiling_s))
            for method in (RetrieveMethod.C_GET, RetrieveMethod.C_MOVE, RetrieveMethod.WADO_RS):
                cache = root / f"cache-{method}"
                settings = NodesFile.model_validate(nodes_settings(server, cache, timeout_s=120))
                start = time.perf_counter()
                got = fetch_series(settings, "orthanc", study, series, method=method)
                seconds = time.perf_counter() - start
                assert len(got.files) == len(files)
                print(_line(str(method), seconds, total_bytes, len(files), ceiling_s))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
