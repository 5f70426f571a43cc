"""Hostile input at the command line: names with markup, unusable output folders, a full
disk, stale staging folders. Each ends with a message and exit 2 (or a correct result),
never a traceback, and never a half-written destination."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.workflow.staging import STALE_AFTER_S

EXAMPLE = Path(__file__).parents[2] / "examples" / "partition_resin.yaml"
runner = CliRunner()


def _case(tmp_path: Path, **names: str) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["patient"]["id"] = names.get("patient", data["patient"]["id"])
    data["territories"][0]["name"] = names.get("territory", "right lobe")
    data["territories"][0]["tumours"][0]["name"] = names.get("tumour", "T1")
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _no_traceback(output: str) -> None:
    assert "Traceback" not in output
    for name in ("ValidationError", "OSError", "PermissionError", "MarkupError", "Unicode"):
        assert name not in output


MARKUP = {"patient": "[bold]P1", "territory": "right [/bold] lobe", "tumour": "T[/]1"}


def test_markup_in_names_is_shown_as_written(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, ["plan", str(_case(tmp_path, **MARKUP)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "tumour T[/]1" in result.stdout
    assert "right [/bold] lobe" in result.stdout
    assert json.loads((out / "plan.json").read_text())["activity_gbq"] > 0
    assert (out / "plan.pdf").stat().st_size > 0


def test_markup_in_an_error_message_is_shown_as_written(tmp_path: Path) -> None:
    path = _case(tmp_path)
    path.write_text(path.read_text() + '"[/bold]": 1\n')
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 2
    assert "[/bold]: unknown key" in result.output
    _no_traceback(result.output)


def test_assess_shows_markup_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", str(_case(tmp_path, **MARKUP))])
    assert result.exit_code == 0, result.output


def test_response_shows_markup_ids(tmp_path: Path) -> None:
    table = Path(__file__).parents[1] / "clinical" / "data" / "measurements.csv"
    path = tmp_path / "m.csv"
    path.write_text(table.read_text().replace("DEMO-001", "[/]P1"))
    result = runner.invoke(app, ["response", str(path)])
    assert result.exit_code == 0, result.output
    assert "Patient [/]P1" in result.stdout


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("under_file", r"which is a file, not a folder"),
        ("long_name", r"bytes long; expected at most"),
        ("too_long_path", r"(File name too long|bytes long)"),
        ("sys", r"(Permission denied|Read-only file system|No such file|Operation not permitted)"),
    ],
)
def test_unusable_output_folder_is_a_clean_error(tmp_path: Path, where: str, reason: str) -> None:
    (tmp_path / "a_file").write_text("x")
    out = {
        "under_file": tmp_path / "a_file" / "plan",
        "long_name": tmp_path / ("n" * 300),
        "too_long_path": tmp_path.joinpath(*["d" * 200] * 30, "plan"),
        "sys": Path("/sys/opensirt_plan"),
    }[where]
    if where == "sys" and not Path("/sys").is_dir():
        pytest.skip("no /sys here")
    result = runner.invoke(app, ["plan", str(_case(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "output folder" in result.output
    assert re.search(reason, result.output), result.output
    _no_traceback(result.output)
    assert (tmp_path / "a_file").read_text() == "x"


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


@pytest.mark.slow
def test_full_disk_is_a_clean_error_and_leaves_the_destination(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    out.mkdir()
    (out / "plan.json").write_text("old")
    code = "from opensirt.cli import main; main()"
    args = ["plan", str(_case(tmp_path)), "--out", str(out), "--overwrite"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    done = subprocess.run(  # the PDF is larger than the limit: write() fails with EFBIG
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "File too large" in done.stderr
    assert "left as it was" in done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "plan.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml", "plan"]


def test_stale_staging_folders_of_this_destination_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale_pid = tmp_path / f".plan.staging-{dead.stdout.strip()}-abc123"
    stale_old = tmp_path / ".plan.staging-xyz"  # an older naming, judged by age
    alive = tmp_path / f".plan.staging-{os.getppid()}-def456"  # a live process: kept
    other = tmp_path / ".other.staging-1-abc"  # another destination: kept
    for folder in (stale_pid, stale_old, alive, other):
        folder.mkdir()
        (folder / "plan.json").write_text("{}")
    old = time.time() - STALE_AFTER_S - 60
    os.utime(stale_old, (old, old))
    result = runner.invoke(app, ["plan", str(_case(tmp_path)), "--out", str(tmp_path / "plan")])
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["case.yaml", "plan", alive.name, other.name])
