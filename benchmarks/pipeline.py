"""Time each step of planning and verification from images, idle and next to a busy core.

Run: ``.venv/bin/python benchmarks/pipeline.py [--resolutions small clinical] [--all-threads]``

For each resolution of the synthetic patient (``small``; ``clinical``: CT 512 x 512 x 250,
SPECT 128^3, PET 200 x 200 x 110) it writes the patient's DICOM once, then, in a fresh
process per run, idle and with one core kept busy by a busy-loop process that this script
starts (bounded in time) and stops:

* ``read DICOM``: the CT and SPECT series, pixel data decoded: the baseline;
* ``rasterise RTSTRUCT``: the structures' contours onto the CT grid;
* then ``plan_from_images`` step by step (its progress steps: reading everything again,
  structures and density on the SPECT grid, measurements, the compartment plans, the voxel
  dose, the prescription and DVHs), the plan's report, JSON and dose files, the RTDOSE alone,
  and ``verify_case`` (the post-treatment PET) step by step.

Each step shows its wall time, its CPU time, its wall time as a ratio to ``read DICOM`` in
the same run, and its peak resident memory (the kernel's high-water mark, reset before each
step). ``--all-threads`` adds a loaded run with ``OPENSIRT_THREADS=all`` (the libraries' own
thread pools), to show what the thread policy avoids. Goals: plan from images at clinical
resolution under 10 s and 4 GiB, verification under 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

GOAL_S = 10.0
GOAL_MIB = 4096.0
BUSY_LIMIT_S = 900  # the busy loop stops by itself after this, whatever happens here
_HWM = Path("/proc/self/clear_refs")


def _peak_mib() -> float:
    """Peak resident memory since the last reset (VmHWM), else of the whole process."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        _HWM.write_text("5")  # Linux: reset the resident-memory high-water mark


class _Clock:
    """Records (step, wall s, cpu s, peak MiB); ``step(name)`` ends the previous step."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []
        self._name: str | None = None
        self._t = self._c = 0.0

    def step(self, name: str) -> None:
        self.stop()
        _reset_peak()
        self._name, self._t, self._c = name, time.perf_counter(), time.process_time()

    def stop(self) -> None:
        if self._name is not None:
            wall, cpu = time.perf_counter() - self._t, time.process_time() - self._c
            self.rows.append((self._name, wall, cpu, _peak_mib()))
        self._name = None

    def timed(self, name: str, fn: Callable[[], Any]) -> Any:
        self.step(name)
        out = fn()
        self.stop()
        return out


def _worker(case_path: Path, out: Path) -> None:
    """One run (in its own process): every step, as JSON on stdout."""
    from opensirt.commands.outputs import write_plan_outputs
    from opensirt.exports import write_rtdose
    from opensirt.imaging import read_image
    from opensirt.planning import load_case
    from opensirt.workflow.inputs import read_segmentation
    from opensirt.workflow.posttreatment import verify_case
    from opensirt.workflow.pretreatment import plan_from_images

    clock = _Clock()
    case = load_case(case_path)
    assert case.images is not None
    images = case.images
    ct = clock.timed(
        "read DICOM", lambda: (read_image(images.ct, modality="CT"), read_image(images.spect))
    )[0]
    clock.timed("rasterise RTSTRUCT", lambda: read_segmentation(images.segmentation, ct))
    start = (time.perf_counter(), time.process_time())
    pre = plan_from_images(case, lambda s: clock.step(f"plan: {s}"))
    clock.stop()
    plan_peak = max(r[3] for r in clock.rows[2:])
    plan_total = (time.perf_counter() - start[0], time.process_time() - start[1], plan_peak)
    when = datetime.now(UTC)
    (out / "plan").mkdir(parents=True, exist_ok=True)
    clock.timed(
        "plan report, JSON, dose files",
        lambda: write_plan_outputs(
            out / "plan", case, case_path, pre.prescribed, created=when, pre=pre
        ),
    )
    positive = pre.dose.with_array(pre.dose.array.clip(min=0.0))  # as the plan outputs do
    clock.timed("RTDOSE alone", lambda: write_rtdose(positive, out / "rtdose.dcm"))
    start = (time.perf_counter(), time.process_time())
    verify_case(case, pre=pre, progress=lambda s: clock.step(f"verify: {s}"))
    clock.stop()
    verify_peak = max(r[3] for r in clock.rows if r[0].startswith("verify"))
    verify_total = (time.perf_counter() - start[0], time.process_time() - start[1], verify_peak)
    rows = [*clock.rows]
    rows.append(("plan from images (total)", *plan_total))
    rows.append(("verify (total)", *verify_total))
    print(json.dumps(rows))


def _busy_loop() -> subprocess.Popen[bytes]:
    code = f"import time\nend = time.time() + {BUSY_LIMIT_S}\nwhile time.time() < end:\n    pass"
    return subprocess.Popen([sys.executable, "-c", code])


def _run(case_path: Path, out: Path, *, loaded: bool, all_threads: bool) -> list[list[Any]]:
    env = dict(os.environ)
    if all_threads:
        env["OPENSIRT_THREADS"] = "all"
    busy = _busy_loop() if loaded else None
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", str(case_path), str(out)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            check=True,
        )
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait()
    rows: list[list[Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def _write_patient(resolution: str, folder: Path) -> tuple[Path, list[list[Any]]]:
    from opensirt.demo.case import write_demo_case
    from opensirt.demo.dicom import write_phantom_dicom
    from opensirt.demo.phantom import make_phantom

    clock = _Clock()
    patient = clock.timed("make_phantom", lambda: make_phantom(seed=1, resolution=resolution))
    paths = clock.timed("write its DICOM", lambda: write_phantom_dicom(patient, folder / "dicom"))
    case = write_demo_case(patient, paths, folder / "case.yaml")
    return case, [list(r) for r in clock.rows]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolutions", nargs="+", default=["small", "clinical"])
    parser.add_argument("--all-threads", action="store_true")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title="Planning and verification from images (ratio = wall / read DICOM)")
    for col in ("resolution", "run", "step", "wall (s)", "cpu (s)", "ratio", "peak (MiB)"):
        table.add_column(col, justify="left" if col in ("step", "run") else "right")
    verdicts = []
    runs = [("idle", False, False), ("1 core busy", True, False)]
    runs += [("1 core busy, all threads", True, True)] if args.all_threads else []
    with tempfile.TemporaryDirectory() as tmp:
        for resolution in args.resolutions:
            folder = Path(tmp) / resolution
            case_path, setup = _write_patient(resolution, folder)
            for name, wall, cpu, mib in setup:
                table.add_row(
                    resolution, "setup", name, f"{wall:.2f}", f"{cpu:.2f}", "", f"{mib:.0f}"
                )
            for label, loaded, all_threads in runs:
                rows = _run(
                    case_path,
                    folder / label.replace(" ", "_"),
                    loaded=loaded,
                    all_threads=all_threads,
                )
                base = rows[0][1]
                for name, wall, cpu, mib in rows:
                    style = "bold" if "total" in name else ""
                    table.add_row(
                        resolution, label, name, f"{wall:.2f}", f"{cpu:.2f}",
                        f"{wall / base:.1f}", f"{mib:.0f}", style=style,
                    )  # fmt: skip
                if resolution == "clinical":
                    totals = {r[0]: r for r in rows}
                    plan, verify = totals["plan from images (total)"], totals["verify (total)"]
                    verdicts.append(
                        f"clinical, {label}: plan {plan[1]:.1f} s (goal {GOAL_S:.0f} s: "
                        f"{'met' if plan[1] < GOAL_S else 'missed'}), peak {plan[3]:.0f} MiB "
                        f"(goal {GOAL_MIB:.0f}: {'met' if plan[3] < GOAL_MIB else 'missed'}); "
                        f"verify {verify[1]:.1f} s ({'met' if verify[1] < GOAL_S else 'missed'})"
                    )
    console.print(table)
    for line in verdicts:
        console.print(line)
    console.print(f"CPU cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
