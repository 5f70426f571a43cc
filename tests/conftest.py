"""Shared test fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

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


@pytest.fixture
def dciodvfy() -> Callable[[Path], str]:
    """Run dciodvfy (Debian's dicom3tools) on a file; returns its report.

    Skips when the tool is missing, unless ``OPENSIRT_REQUIRE_DCIODVFY`` is set (CI sets it),
    in which case a missing tool fails the test.
    """
    exe = shutil.which("dciodvfy")
    if exe is None:
        if os.environ.get("OPENSIRT_REQUIRE_DCIODVFY"):
            pytest.fail("dciodvfy is required (OPENSIRT_REQUIRE_DCIODVFY is set) but missing")
        pytest.skip("dciodvfy (dicom3tools) not installed")

    def run(path: Path) -> str:
        result = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
        return result.stdout + result.stderr

    return run
