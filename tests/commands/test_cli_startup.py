"""The command line starts without the heavy libraries; they load inside the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("numpy", "scipy", "SimpleITK", "pydicom", "matplotlib", "highdicom", "reportlab")
SRC = Path(__file__).resolve().parents[2] / "src"


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules in sys.modules after running ``code`` in a fresh interpreter."""
    report = f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    probe = f"{code}\nimport json, sys\n{report}"
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _loaded_after("import opensirt.cli") == []


@pytest.mark.parametrize("argv", [["--help"], ["plan", "--help"], ["verify", "--help"]])
def test_help_loads_no_heavy_module(argv: list[str]) -> None:
    code = (
        "import sys\nfrom opensirt.cli import app\n"
        f"try:\n    app({argv!r})\nexcept SystemExit:\n    pass"
    )
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_module() -> None:
    """The check above can fail: importing the workflow does load numpy."""
    assert "numpy" in _loaded_after("import opensirt.workflow.voxel")


def test_a_bad_thread_count_is_a_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from opensirt.cli import app

    monkeypatch.setenv("OPENSIRT_THREADS", "many")
    examples = Path(__file__).resolve().parents[2] / "examples"
    result = CliRunner().invoke(app, ["plan", str(examples / "partition_resin.yaml")])
    assert result.exit_code == 2
    assert "OPENSIRT_THREADS is 'many'" in result.output
