"""``opensirt plan``: exit codes 0 / 2 / 3, the JSON object, the readable table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensirt.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"
REFUSED = {"lung_limit_refused.yaml"}
runner = CliRunner()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_json(path: Path, plan_json_keys: frozenset[str]) -> None:
    result = runner.invoke(app, ["plan", str(path), "--json"])
    expected_code = 3 if path.name in REFUSED else 0
    assert result.exit_code == expected_code, result.output
    out = json.loads(result.stdout)
    assert plan_json_keys <= set(out)
    assert {"lung", "normal_liver", "perfused", "tumours"} <= set(out["doses_gy"])
    assert out["constants"]["dose_constant_gy_kg_per_gbq"] in (49.67, 50.0, 15.87)
    if expected_code == 3:
        assert out["refused"]
        assert out["activity_gbq"] is None
    else:
        assert out["refused"] is None
        assert out["activity_gbq"] > 0
        total = sum(t["activity_gbq"] for t in out["territories"])
        assert total == pytest.approx(out["activity_gbq"], rel=1e-12)
        for name, limit in out["limits"].items():
            assert not limit["exceeded"] or not limit["enforced"], name


def test_partition_resin_json_values() -> None:
    out = json.loads(
        runner.invoke(app, ["plan", str(EXAMPLES / "partition_resin.yaml"), "--json"]).stdout
    )
    # left lobe: T3 (60 mL, T/N 3) at 120 Gy -> D_N = 40 Gy, exactly the limit
    left = out["territories"][1]
    assert left["doses_gy"]["tumours"]["T3"] == pytest.approx(120.0, rel=1e-9)
    assert left["doses_gy"]["normal_liver"] == pytest.approx(40.0, rel=1e-9)
    # right lobe lowered to 40 Gy normal liver: T2 (T/N 2.5) gets 100 Gy
    assert out["doses_gy"]["tumours"]["T2"] == pytest.approx(100.0, rel=1e-9)
    assert out["binding_limit"] == "normal_liver_max_gy"
    assert any("not reached" in w for w in out["warnings"])


def test_glass_json_orders_vial() -> None:
    out = json.loads(
        runner.invoke(app, ["plan", str(EXAMPLES / "mird_glass.yaml"), "--json"]).stdout
    )
    assert out["schedule"]["vial_activity_gbq"] in (3.0, 5.0, 7.0, 10.0, 15.0, 20.0)
    assert out["schedule"]["vial_activity_at_treatment_gbq"] >= out["activity_gbq"]


def test_table_output() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLES / "partition_resin.yaml")])
    assert result.exit_code == 0
    assert "Activity to inject" in result.stdout
    assert "GBq" in result.stdout
    assert "binds" in result.stdout
    assert "Warning" in result.stdout


def test_refused_table_exit_3() -> None:
    result = runner.invoke(app, ["plan", str(EXAMPLES / "lung_limit_refused.yaml")])
    assert result.exit_code == 3
    assert "Refused" in result.stdout


def test_bad_case_file_exit_2(tmp_path: Path) -> None:
    text = (EXAMPLES / "partition_resin.yaml").read_text("utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("shunt_fraction: 0.08", "shunt_fraction: 8"), "utf-8")
    result = runner.invoke(app, ["plan", str(path), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "lung.shunt_fraction" in result.stderr
    assert "0.08" in result.stderr


def test_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["plan", "--help"])
    assert result.exit_code == 0
    assert "opensirt plan examples/partition_resin.yaml" in result.stdout


@pytest.mark.parametrize(
    ("name", "code"), [("partition_glass.yaml", 0), ("lung_limit_refused.yaml", 3)]
)
def test_plan_out_writes_report_and_json(tmp_path: Path, name: str, code: int) -> None:
    out = tmp_path / "plan"
    result = runner.invoke(app, ["plan", str(EXAMPLES / name), "--out", str(out)])
    assert result.exit_code == code, result.output
    assert (out / "plan.pdf").read_bytes().startswith(b"%PDF")
    written = json.loads((out / "plan.json").read_text())
    assert written["provenance"]["fingerprint"]
    assert (written["refused"] is None) == (code == 0)
