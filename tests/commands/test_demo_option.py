"""``opensirt demo --resolution``: an unknown resolution is a bad input, nothing written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opensirt.cli import app


def test_unknown_resolution_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", str(out), "--resolution", "4k"])
    assert result.exit_code == 2
    assert "resolution is '4k', expected one of 'small', 'clinical'" in result.output
    assert not out.exists()
