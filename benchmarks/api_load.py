"""Load test of the web service: the patient list and timelines under 50 concurrent clients
(goal: p95 under 100 ms on a 2-core machine), against the service's own floor.

Run: ``cd benchmarks && ../.venv/bin/python api_load.py [N] [--clients 50] [--duration 10]
[--workers 1] [--client auto|wrk|python] [--db FILE]``

It fills a SQLite registry with ``N`` patients (default 10,000; the bulk fill of
``registry_timeline.py``, about 22 dated records each; ``--db FILE`` keeps it in FILE and
reuses it on the next run), adds an admin, starts ``opensirt serve [--workers W]`` on
127.0.0.1 (a free port) and logs in once. Then, after a short warm-up, ``--clients``
connections that never pause load the service for ``--duration`` seconds per phase, one phase
after another against the same server:

* ``me (floor)``: ``GET /api/me``, the cheapest authenticated request (session and role looked
  up, JSON written): the baseline of the ratios;
* ``list``: ``GET /api/patients`` (a page of 50 at a random offset);
* ``timeline``: ``GET /api/patients/{p}/timeline`` of a random patient;
* ``list + timeline``: half of each, the load of the goal.

For each it prints requests/s, p50/p95/p99 latency (ms), p50 and p95 as ratios to the
floor's, and the service's CPU time per request (its processes' user + system time, from
``/proc``; less sensitive to other work on the machine than the latencies). The load
average before and after shows how busy the machine was.

The load comes from Debian's ``wrk`` (C, one thread; the paths drawn at random by
``api_load.lua``) when it is installed, so that the clients do not take the service's CPU;
otherwise (or with ``--client python``) from asyncio clients (httpx) in this process, which on
a 2-core machine take about a core themselves. The first line says which one ran. Bounded: it
only ever talks to 127.0.0.1 and stops after the given time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from registry_timeline import fill

from opensirt.registry.database import DB_ENV, open_registry
from opensirt.registry.users import add_user

PASSWORD = "benchmark-password-1"
GOAL_P95_MS = 100.0
LUA_SCRIPT = Path(__file__).with_name("api_load.lua")
#: The phases: label and the kind of request (as ``api_load.lua`` names them).
PHASES = (
    ("me (floor)", "me"),
    ("list", "list"),
    ("timeline", "timeline"),
    ("list + timeline", "mixed"),
)


@dataclass(frozen=True)
class Phase:
    """What one phase measured: requests, wall time, latency percentiles (s), service CPU."""

    requests: int
    seconds: float
    p50_s: float
    p95_s: float
    p99_s: float
    cpu_s: float | None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _path(kind: str, patients: int, rng: random.Random) -> str:
    if kind == "mixed":
        kind = rng.choice(("list", "timeline"))
    if kind == "list":
        return f"/api/patients?offset={rng.randrange(max(1, patients - 50))}"
    if kind == "timeline":
        return f"/api/patients/BENCH-{rng.randrange(1, patients + 1):06d}/timeline"
    return "/api/me"


def _cpu_s(pid: int) -> float | None:
    """User + system CPU time (s) of a process and its descendants (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if _descends(int(stat.parent.name), pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
            found = True
    return total / ticks if found else None


def _descends(candidate: int, ancestor: int) -> bool:
    while candidate > 1:
        if candidate == ancestor:
            return True
        try:
            stat = Path(f"/proc/{candidate}/stat").read_text()
        except OSError:
            return False
        candidate = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid
    return False


def _wrk_phase(base: str, cookie: str, kind: str, clients: int, seconds: float, n: int) -> Phase:
    wrk = shutil.which("wrk")
    assert wrk is not None
    env = {**os.environ, "BENCH_COOKIE": cookie, "BENCH_KIND": kind, "BENCH_PATIENTS": str(n)}
    command = [wrk, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s"]
    done = subprocess.run(
        [*command, "-s", str(LUA_SCRIPT), base], env=env, capture_output=True, text=True
    )
    found = re.search(r"^RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    values = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    if values["bad_status"] or values["socket_errors"]:
        raise SystemExit(f"wrk saw failed requests ({kind}): {found.group(1)}")
    return Phase(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50_s=values["p50_us"] / 1e6,
        p95_s=values["p95_us"] / 1e6,
        p99_s=values["p99_us"] / 1e6,
        cpu_s=None,
    )


async def _python_load(
    base: str, cookie: str, kind: str, clients: int, seconds: float, n: int
) -> list[float]:
    times: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        headers = {"Cookie": cookie}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0) as http:
            while time.perf_counter() < deadline:
                path = _path(kind, n, rng)
                start = time.perf_counter()
                response = await http.get(path)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(client(seed) for seed in range(clients)))
    return times


def _python_phase(base: str, cookie: str, kind: str, clients: int, seconds: float, n: int) -> Phase:
    start = time.perf_counter()
    times = asyncio.run(_python_load(base, cookie, kind, clients, seconds, n))
    cuts = statistics.quantiles(times, n=100)
    return Phase(len(times), time.perf_counter() - start, cuts[49], cuts[94], cuts[98], None)


def _registry(db: Path, patients: int, seed: int) -> None:
    """Fill ``db`` with the patients and the admin, unless a previous run did."""
    marker = db.with_name(db.name + f".filled-{patients}-{seed}")
    if db.exists() and marker.exists():
        print(f"Reusing the registry {db} ({patients} patients)")
        return
    db.unlink(missing_ok=True)
    registry = open_registry(db, create=True)
    begin = time.perf_counter()
    fill(registry, patients, seed)
    with registry.transaction(actor="benchmark") as session:
        add_user(session, "bench", "admin", PASSWORD)
    registry.dispose()
    marker.touch()
    print(f"Filled {patients} patients in {time.perf_counter() - begin:.1f} s")


@contextmanager
def _service(db: Path, workers: int, extra: list[str]) -> Iterator[tuple[str, str, int]]:
    """A running ``opensirt serve`` on the registry: its URL, a session cookie, its pid."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "opensirt", "serve", "--port", str(port)]
    command += (["--workers", str(workers)] if workers > 1 else []) + extra
    env = {**os.environ, DB_ENV: str(db)}
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as process:
        try:
            for _ in range(600):
                if process.poll() is not None:
                    raise SystemExit(f"the service stopped (exit {process.returncode})")
                try:
                    login = httpx.post(
                        f"{base}/api/login", json={"user_name": "bench", "password": PASSWORD}
                    )
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the service did not start within 60 s")
            login.raise_for_status()
            cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
            yield base, cookie, process.pid
        finally:
            process.terminate()


def _row(label: str, phase: Phase, floor: Phase) -> str:
    if not phase.requests or not floor.requests:
        return f"{label:<16} no request completed in the phase (the service got no CPU?)"
    cpu = "" if phase.cpu_s is None else f"{1e3 * phase.cpu_s / phase.requests:8.2f}"
    return (
        f"{label:<16} {phase.requests / phase.seconds:7.0f} {1e3 * phase.p50_s:8.1f} "
        f"{1e3 * phase.p95_s:8.1f} {1e3 * phase.p99_s:8.1f} {phase.p50_s / floor.p50_s:7.1f} "
        f"{phase.p95_s / floor.p95_s:7.1f} {cpu}"
    )


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", nargs="?", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--workers", type=int, default=1, help="opensirt serve --workers")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--db", type=Path, help="keep the registry in this SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--serve-option", action="append", default=[], help="more for opensirt serve (repeat)"
    )
    args = parser.parse_args()
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    if args.client == "wrk" and not shutil.which("wrk"):
        parser.error("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    return args


def main() -> None:
    """Fill, serve, load phase by phase and print the table."""
    args = _arguments()
    run_phase = _wrk_phase if args.client == "wrk" else _python_phase
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "bench.sqlite3"
        _registry(db, args.patients, args.seed)
        load_before = os.getloadavg()[0]
        results: dict[str, Phase] = {}
        with _service(db, args.workers, args.serve_option) as (base, cookie, pid):
            run_phase(base, cookie, "mixed", args.clients, 2.0, args.patients)  # warm-up
            for label, kind in PHASES:
                cpu_before = _cpu_s(pid)
                phase = run_phase(base, cookie, kind, args.clients, args.duration, args.patients)
                cpu_after = _cpu_s(pid)
                cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
                results[label] = Phase(**{**phase.__dict__, "cpu_s": cpu})
    print(
        f"client: {'wrk (one thread)' if args.client == 'wrk' else 'python (httpx, asyncio)'}; "
        f"service: {args.workers} worker(s); {args.clients} connections, "
        f"{args.duration:.0f} s per phase; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores"
    )
    columns = ("req/s", "p50 ms", "p95 ms", "p99 ms", "p50/fl", "p95/fl", "CPU ms/req")
    print(f"{'':<16} " + " ".join(f"{c:>8}" if "ms" in c else f"{c:>7}" for c in columns))
    floor = results["me (floor)"]
    for label, phase in results.items():
        print(_row(label, phase, floor))
    if not results["list + timeline"].requests:
        return
    p95_ms = 1e3 * results["list + timeline"].p95_s
    verdict = "meets" if p95_ms < GOAL_P95_MS else "MISSES"
    print(f"list + timeline p95 {p95_ms:.1f} ms {verdict} the goal of {GOAL_P95_MS:.0f} ms")


if __name__ == "__main__":
    main()
