"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from opensirt.registry.database import Registry

#: Keys of the ``opensirt plan --json`` object that the case-file contract promises.
PLAN_JSON_KEYS = frozenset(
    {
        "method",
        "device",
        "activity_gbq",
        "lung_shunt_fraction",
        "doses_gy",
        "territories",
        "constants",
        "limits",
        "warnings",
        "refused",
    }
)


@pytest.fixture
def plan_json_keys() -> frozenset[str]:
    """The keys every ``opensirt plan --json`` object must have."""
    return PLAN_JSON_KEYS


def require_tool(name: str, package: str) -> str:
    """The path of an external program that a test needs.

    Skips when the program is missing, unless ``OPENSIRT_REQUIRE_TOOLS`` is set (CI sets it
    after installing them), in which case a missing program fails the test: in CI a test
    that needs a tool never skips silently.
    """
    exe = shutil.which(name)
    if exe is None:
        if os.environ.get("OPENSIRT_REQUIRE_TOOLS"):
            pytest.fail(f"{name} ({package}) is required (OPENSIRT_REQUIRE_TOOLS set) but missing")
        pytest.skip(f"{name} ({package}) not installed")
    return exe


@pytest.fixture
def dciodvfy() -> Callable[[Path], str]:
    """Run dciodvfy (Debian's dicom3tools) on a file; returns its report."""
    exe = require_tool("dciodvfy", "dicom3tools")

    def run(path: Path) -> str:
        result = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
        return result.stdout + result.stderr

    return run


@pytest.fixture
def pdftoppm() -> str:
    """The path of poppler's ``pdftoppm``, which renders PDF pages to PNG."""
    return require_tool("pdftoppm", "poppler-utils")


@pytest.fixture
def pdftotext() -> Callable[[Path], str]:
    """Poppler's ``pdftotext`` on a file: its text, whitespace collapsed to single spaces."""
    exe = require_tool("pdftotext", "poppler-utils")

    def run(path: Path) -> str:
        result = subprocess.run([exe, str(path), "-"], capture_output=True, text=True, check=True)
        return " ".join(result.stdout.split())

    return run


@pytest.fixture(scope="session")
def small_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic patient (seed 7, size 0.4): its DICOM under ``dicom/`` and its
    demo case file ``case.yaml``. Read only: tests copy what they change."""
    from opensirt.demo.case import write_demo_case
    from opensirt.demo.dicom import write_phantom_dicom
    from opensirt.demo.phantom import make_phantom

    root = tmp_path_factory.mktemp("small_study")
    patient = make_phantom(seed=7, size=0.4)
    paths = write_phantom_dicom(patient, root / "dicom")
    write_demo_case(patient, paths, root / "case.yaml")
    return root


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    """The maintenance URL of a throwaway PostgreSQL server (one per test process), or None."""
    from postgres_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server_url: str | None
) -> Iterator[str]:
    """The URL of a new, empty database on each backend: a SQLite file, a PostgreSQL database.

    The PostgreSQL case skips where the server is not installed, and fails instead in CI
    (``OPENSIRT_REQUIRE_TOOLS``): there every registry test runs on both backends.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite3'}"
        return
    if postgres_server_url is None:
        if os.environ.get("OPENSIRT_REQUIRE_TOOLS"):
            pytest.fail("PostgreSQL (Debian's postgresql) is required but not installed")
        pytest.skip("PostgreSQL not installed")
    from postgres_server import create_database, drop_database

    url = create_database(postgres_server_url)
    try:
        yield url
    finally:
        drop_database(postgres_server_url, url)


@pytest.fixture
def registry(empty_db_url: str) -> Iterator[Registry]:
    """An open registry at the current schema, on each backend."""
    from opensirt.registry.database import open_registry

    opened = open_registry(empty_db_url, create=True)
    try:
        yield opened
    finally:
        opened.dispose()
