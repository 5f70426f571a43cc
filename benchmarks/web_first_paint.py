"""First paint of the plan-review page with its images (goal: under 2 s).

Run: ``.venv/bin/python benchmarks/web_first_paint.py [--loads 5]``

It starts ``opensirt serve --demo`` on 127.0.0.1 (a free port; the demo registry is built
first, which takes a minute), reads the demo users' one-time passwords from its output, and
signs in as the physicist in Debian's chromium (headless, driven by Playwright; no browser is
downloaded). Then it loads, ``--loads`` times each in a new tab of the same browser (so the
HTTP cache is warm after the first), the patient list (the baseline: a page of plain text)
and the review page of the demo patient's plan, and prints for each the median time from the
navigation's start to the first contentful paint and, for the plan, to the viewer's images
being drawn (the performance mark ``opensirt-viewer-drawn`` that ``viewer.js`` sets the frame
after Niivue has loaded the CT, the dose and the structure outlines), with the first (cold)
load apart. Nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

#: Chromium's options: headless, no GPU (WebGL by software, as on a server), no network
#: beyond the page.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: The goal of issue 11: the plan-review page's first paint with its images.
GOAL_MS = 2000.0
#: The JavaScript that reads a paint entry and the viewer's mark (ms from navigation start).
_TIMINGS = """() => {
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const drawn = performance.getEntriesByName("opensirt-viewer-drawn")[0];
  return [fcp ? fcp.startTime : null, drawn ? drawn.startTime : null];
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _demo_service() -> Iterator[tuple[str, dict[str, str]]]:
    """``opensirt serve --demo`` on a free port: its base URL and the users' passwords."""
    port = _free_port()
    command = [sys.executable, "-m", "opensirt", "serve", "--demo", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    passwords: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.match(r"^\s+(admin|physicist|physician|nurse|viewer)\s+(\S+)\s*$", line)
            if found:
                passwords[found[1]] = found[2]
            if "log in" in line:
                break
        else:
            raise SystemExit(f"opensirt serve --demo stopped (exit {process.wait()})")
        for _ in range(600):
            try:
                httpx.get(f"{base}/login", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, passwords
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load(context: object, url: str, ready: str) -> tuple[float, float | None]:
    """One load of ``url`` in a new tab: (first contentful paint, images drawn) in ms."""
    page = context.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(url)
        page.wait_for_selector(ready, timeout=120_000)
        # polled from here: the page's CSP forbids the eval of Playwright's wait_for_function
        for _ in range(1000):
            fcp, drawn = page.evaluate(_TIMINGS)
            if fcp is not None and (drawn is not None or "viewer" not in ready):
                break
            time.sleep(0.01)
        return float(fcp), None if drawn is None else float(drawn)
    finally:
        page.close()


def _report(name: str, samples: list[float]) -> float:
    median = statistics.median(samples[1:]) if len(samples) > 1 else samples[0]
    print(f"  {name:<34} cold {samples[0]:7.0f} ms   warm median {median:7.0f} ms")
    return median


def main() -> None:
    """Measure and print the first paints (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5, help="loads of each page (>= 2)")
    loads = max(2, parser.parse_args().loads)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    print("starting opensirt serve --demo (building the demo registry) ...", flush=True)
    with _demo_service() as (base, passwords), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("#user_name", "physicist")
        page.fill("#password", passwords["physicist"])
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#patient-rows tr")
        timeline = context.request.get(f"{base}/api/patients/DEMO-001/timeline").json()
        plan_id = next(e["id"] for e in timeline["entries"] if e["kind"] == "plan")
        page.close()
        lists = [_load(context, f"{base}/", "#patient-rows tr") for _ in range(loads)]
        plans = [_load(context, f"{base}/plans/{plan_id}", "#viewer[data-ready=true]")
                 for _ in range(loads)]  # fmt: skip
        browser.close()
    print(f"first paint, {loads} loads each (1280 x 800, headless chromium, software WebGL):")
    baseline = _report("patient list: first paint", [f for f, _ in lists])
    plan_fcp = _report("plan review: first paint", [f for f, _ in plans])
    drawn = _report("plan review: images drawn", [d or float("nan") for _, d in plans])
    print(f"  plan review first paint / patient list: {plan_fcp / baseline:.2f}")
    print(f"  images drawn / patient list first paint: {drawn / baseline:.2f}")
    verdict = "met" if drawn < GOAL_MS else "NOT met"
    print(f"  goal: images drawn under {GOAL_MS:.0f} ms (warm median): {verdict}")


if __name__ == "__main__":
    main()
