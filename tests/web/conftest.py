"""The service and the browser of the end-to-end tests: ``opensirt serve`` on a registry
holding the demo patient (as ``serve --demo`` makes it, with known passwords) on a free
loopback port, and Debian's chromium through Playwright (no browser is ever downloaded).
Session-scoped: the demo is made once per test process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conftest import require_tool
from web_session import CHROMIUM_ARGS, PASSWORD, free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A registry as ``opensirt serve --demo`` makes it, with known passwords."""
    from opensirt.api.demo_setup import (
        add_cohort,
        add_demo_users,
        add_draft_copies,
        demo_folder_registry,
    )
    from opensirt.commands.pathway import demo
    from opensirt.registry.database import open_registry

    folder = tmp_path_factory.mktemp("web-demo")
    url = demo_folder_registry(folder)
    open_registry(url, create=True).dispose()
    demo(folder / "demo", db=url)
    registry = open_registry(url)
    try:
        add_cohort(registry, n=5)
        add_draft_copies(registry)
        add_demo_users(registry, token=lambda: PASSWORD)
    finally:
        registry.dispose()
    return url


@pytest.fixture(scope="session")
def server(demo_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``opensirt serve`` on a free loopback port; its base URL."""
    import opensirt

    port = free_port()
    source = str(Path(opensirt.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    log = tmp_path_factory.mktemp("web-server") / "serve.log"
    command = [sys.executable, "-m", "opensirt", "serve", "--db", demo_db, "--port", str(port)]
    command += ["--cache", str(log.parent / "cache")]
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # until it answers (a readiness wait, no timing is asserted)
            if process.poll() is not None:
                pytest.fail(f"opensirt serve exited {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        else:
            pytest.fail(f"opensirt serve did not answer:\n{log.read_text()}")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, through Playwright (no browser is ever downloaded)."""
    executable = require_tool("chromium", "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
