"""Load test of the web service: the patient list and timelines under 50 concurrent clients
(goal: p95 under 100 ms on a 2-core machine).

Run: ``.venv/bin/python benchmarks/api_load.py [N] [--clients 50] [--requests 3000]``

It fills a SQLite registry in a temporary folder with ``N`` patients (default 10,000; the bulk
fill of ``registry_timeline.py``, about 22 dated records each), adds an admin, starts
``opensirt serve`` on 127.0.0.1 (a free port) and logs in once. Then ``--clients`` concurrent
HTTP clients (httpx, asyncio) share ``--requests`` requests: half ``GET /api/patients`` (a page
of 50 at a random offset), half ``GET /api/patients/{p}/timeline`` of a random patient. It
prints the requests per second and p50/p95/p99 latency (ms) of each endpoint and of all.
Bounded: it only ever talks to 127.0.0.1 and stops after the given number of requests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from registry_timeline import fill

from opensirt.registry.database import DB_ENV, open_registry
from opensirt.registry.users import add_user

PASSWORD = "benchmark-password-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit(f"the service stopped (exit {process.returncode})")
        try:
            httpx.get(f"{base}/api/openapi.json", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the service did not start within 60 s")


def _percentiles(samples_s: list[float]) -> str:
    cuts = statistics.quantiles(samples_s, n=100)
    return (
        f"p50 {cuts[49] * 1e3:6.1f} ms  p95 {cuts[94] * 1e3:6.1f} ms  p99 {cuts[98] * 1e3:6.1f} ms"
    )


async def _load(
    base: str, cookies: httpx.Cookies, paths: list[tuple[str, str]], clients: int
) -> dict[str, list[float]]:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in paths:
        queue.put_nowait(item)
    times: dict[str, list[float]] = {"list": [], "timeline": []}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30.0) as http:
            while not queue.empty():
                kind, path = queue.get_nowait()
                start = time.perf_counter()
                response = await http.get(path)
                times[kind].append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code} {response.text[:200]}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return times


def main() -> None:
    """Fill, serve, load and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", nargs="?", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite3"
        registry = open_registry(db, create=True)
        begin = time.perf_counter()
        fill(registry, args.patients, args.seed)
        with registry.transaction(actor="benchmark") as session:
            add_user(session, "bench", "admin", PASSWORD)
        registry.dispose()
        print(f"Filled {args.patients} patients in {time.perf_counter() - begin:.1f} s")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "opensirt", "serve", "--port", str(port)]
        env = {**os.environ, DB_ENV: str(db)}
        with subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ) as process:
            try:
                _wait_until_up(base, process)
                login = httpx.post(
                    f"{base}/api/login", json={"user_name": "bench", "password": PASSWORD}
                )
                login.raise_for_status()
                rng = random.Random(args.seed)
                paths = [
                    ("list", f"/api/patients?offset={rng.randrange(args.patients - 50)}")
                    if i % 2 == 0
                    else (
                        "timeline",
                        f"/api/patients/BENCH-{rng.randrange(1, args.patients + 1):06d}/timeline",
                    )
                    for i in range(args.requests)
                ]
                start = time.perf_counter()
                times = asyncio.run(_load(base, login.cookies, paths, args.clients))
                elapsed = time.perf_counter() - start
            finally:
                process.terminate()
    every = times["list"] + times["timeline"]
    print(
        f"{args.requests} requests, {args.clients} clients: {len(every) / elapsed:.0f} requests/s"
    )
    print(f"  patient list  {_percentiles(times['list'])}")
    print(f"  timeline      {_percentiles(times['timeline'])}")
    print(f"  all           {_percentiles(every)}")


if __name__ == "__main__":
    main()
