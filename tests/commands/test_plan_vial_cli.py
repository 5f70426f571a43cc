"""``opensirt plan`` on glass: the vial's activity at the treatment time beside the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensirt.cli import app

EXAMPLE = Path(__file__).parents[2] / "examples" / "mird_glass.yaml"
runner = CliRunner()


def _case(tmp_path: Path, tolerance: float | None) -> Path:
    # the example with its own vial: 3 GBq calibrated 48 h before the treatment
    # holds 3 * 2^(-48/64.1) = 1.78526 GBq at the treatment time (Y-90 T1/2 64.1 h)
    text = EXAMPLE.read_text(encoding="utf-8")
    extra = "  vial_activity_gbq: 3.0\n  vial_calibration: 2026-11-23T10:00:00+01:00\n" + (
        f"  vial_tolerance_fraction: {tolerance}\n" if tolerance is not None else ""
    )
    text = text.replace(
        "  treatment: 2026-11-25T10:00:00+01:00\n",
        "  treatment: 2026-11-25T10:00:00+01:00\n" + extra,
    )
    assert extra in text
    path = tmp_path / "glass_vial.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_json_schedule_vial_beside_plan(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(_case(tmp_path, None)), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    sched = out["schedule"]
    assert sched["vial_activity_at_treatment_gbq"] == pytest.approx(1.78526, rel=1e-5)
    assert sched["planned_activity_gbq"] == out["activity_gbq"]
    diff = 100.0 * (1.78526 / out["activity_gbq"] - 1.0)
    assert sched["vial_difference_percent"] == pytest.approx(diff, rel=1e-4)
    assert sched["vial_tolerance_fraction"] == 0.1
    assert sched["vial_within_tolerance"] is (abs(diff) <= 10.0)


def test_table_shows_vial_and_tolerance(tmp_path: Path) -> None:
    out = json.loads(runner.invoke(app, ["plan", str(_case(tmp_path, 0.5)), "--json"]).stdout)
    diff = out["schedule"]["vial_difference_percent"]
    result = runner.invoke(app, ["plan", str(_case(tmp_path, 0.5))])
    assert result.exit_code == 0, result.output
    assert (
        f"Vial at treatment 1.785 GBq vs planned {out['activity_gbq']:.3f} GBq: {diff:+.1f} %"
        in result.stdout
    )
    assert "(tolerance ±50 %, within)" in result.stdout
