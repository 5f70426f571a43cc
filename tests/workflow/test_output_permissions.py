"""Output files and folders get the permissions the user's umask asks for (files
``0o666 & ~umask``, folders ``0o777 & ~umask``), not the owner-only modes of temporary files,
and are still written atomically."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.fileio import current_umask, write_atomically
from opensirt.workflow.staging import staged_output

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


@pytest.fixture(params=[0o022, 0o077, 0o002], ids=lambda m: f"umask{m:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The umask of the test, restored afterwards."""
    mask: int = request.param
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _check_tree(root: Path, mask: int) -> int:
    """Check the modes of ``root`` and everything below it; the number of files."""
    assert _mode(root) == 0o777 & ~mask, root
    files = 0
    for path in root.rglob("*"):
        if path.is_dir():
            assert _mode(path) == 0o777 & ~mask, path
        else:
            assert _mode(path) == 0o666 & ~mask, path
            files += 1
    return files


def test_current_umask_is_read_without_changing_it(umask: int) -> None:
    assert current_umask() == umask
    assert current_umask() == umask


def test_atomic_write_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "a.nii.gz"
    write_atomically(target, lambda tmp: tmp.write_bytes(b"x"))
    assert _mode(target) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["a.nii.gz"]  # no temporary file left


def test_staged_folder_gets_the_umask_mode(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "deep" / "out"
    with staged_output(out) as stage:
        (stage / "sub").mkdir()
        write_atomically(stage / "sub" / "b.txt", lambda tmp: tmp.write_text("b"))
    assert _check_tree(tmp_path / "deep", umask) == 1


def test_plan_outputs_are_readable_as_the_umask_allows(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, ["plan", str(EXAMPLES / "partition_resin.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "plan.pdf").is_file()
    assert _check_tree(out, umask) >= 2
