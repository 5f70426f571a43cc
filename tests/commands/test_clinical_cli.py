"""``opensirt assess`` and ``opensirt response``: JSON, readable tables and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from opensirt.cli import app

DATA = Path(__file__).parents[1] / "clinical" / "data"
runner = CliRunner()


def test_assess_json_on_the_spec_case() -> None:
    result = runner.invoke(app, ["assess", str(DATA / "case.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["patient_id"] == "DEMO-001"
    assert out["albi"]["grade"] == 2
    assert out["albi"]["score"] == -2.40
    assert out["child_pugh"] is None
    assert out["meld"] is None
    assert out["bclc"] is None
    assert out["missing"]["child_pugh"] == ["clinical.ascites", "clinical.encephalopathy_grade"]
    assert out["eligibility"]["verdict"] in ("eligible", "caution", "not eligible")
    assert all(
        {"rule", "status", "message", "source"} <= set(r) for r in out["eligibility"]["reasons"]
    )


def test_assess_with_clinical_section(tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "case.yaml").read_text())
    data.pop("images")
    data["clinical"] = {"ecog": 1, "ascites": "mild", "encephalopathy_grade": 0,
                        "tumour_count": 2, "largest_tumour_diameter_mm": 25,
                        "macrovascular_invasion": True, "extrahepatic_spread": False}  # fmt: skip
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump(data))
    out = json.loads(runner.invoke(app, ["assess", str(case), "--json"]).stdout)
    # 1 + 1 + 1 + 2 (mild ascites) + 1 = 6 -> A
    assert out["child_pugh"]["points"] == 6
    assert out["child_pugh"]["class"] == "A"
    assert out["bclc"]["stage"] == "C"
    assert "macrovascular invasion makes stage C" in out["bclc"]["reasons"]
    readable = runner.invoke(app, ["assess", str(case)])
    assert readable.exit_code == 0
    assert "SIRT eligibility: caution" in readable.stdout
    assert "A6" in readable.stdout


def test_assess_bad_case_file_exits_2(tmp_path: Path) -> None:
    data = yaml.safe_load((DATA / "case.yaml").read_text())
    data["clinical"] = {"ecog": 9}
    case = tmp_path / "bad.yaml"
    case.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["assess", str(case)])
    assert result.exit_code == 2
    assert "clinical.ecog" in result.stderr


def test_response_json_on_the_spec_table() -> None:
    result = runner.invoke(app, ["response", str(DATA / "measurements.csv"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert isinstance(out, list)
    assert len(out) == 1
    patient = out[0]
    assert patient["patient_id"] == "DEMO-001"
    point = patient["timepoints"][0]
    assert (point["date"], point["recist"], point["mrecist"], point["easl"]) == (
        "2026-04-12", "SD", "PR", "PR")  # fmt: skip
    assert patient["best"] == {"recist": "SD", "mrecist": "PR", "easl": "PR"}
    confirmed = runner.invoke(app, ["response", str(DATA / "measurements.csv"), "--json",
                                    "--confirm"])  # fmt: skip
    assert json.loads(confirmed.stdout)[0]["best"]["mrecist"] == "SD"


def test_response_table_and_bad_input(tmp_path: Path) -> None:
    readable = runner.invoke(app, ["response", str(DATA / "measurements.csv")])
    assert readable.exit_code == 0
    assert "DEMO-001" in readable.stdout
    assert "PR (-72.6 %)" in readable.stdout
    bad = tmp_path / "bad.csv"
    text = (DATA / "measurements.csv").read_text().replace("2026-04-12", "2026-04-31", 1)
    bad.write_text(text)
    result = runner.invoke(app, ["response", str(bad)])
    assert result.exit_code == 2
    assert "row 5: date is '2026-04-31', expected an ISO 8601 date" in result.stderr
    missing = runner.invoke(app, ["response", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2


EXAMPLES = Path(__file__).parents[2] / "examples"


def test_the_response_examples_run_and_agree_on_the_semicolon_table() -> None:
    comma = runner.invoke(app, ["response", str(EXAMPLES / "response_measurements.csv"), "--json"])
    assert comma.exit_code == 0, comma.output
    assert json.loads(comma.stdout)[0]["best"] == {"recist": "SD", "mrecist": "PR", "easl": "PR"}
    semicolon = EXAMPLES / "response_measurements_semicolon.csv"
    assert ";61,5;" in semicolon.read_text()  # a European spreadsheet's table, decimal commas
    result = runner.invoke(app, ["response", str(semicolon), "--json"])
    assert result.exit_code == 0, result.output
    patient = json.loads(result.stdout)[0]
    # RECIST sums: baseline 61.5 + 34 = 95.5 mm, follow-up 47 + 27.5 = 74.5 mm: -22.0 %
    recist = patient["timepoints"][0]["details"]["recist"]
    assert recist["change_from_baseline_pct"] == pytest.approx(-22.0, abs=0.05)
    assert patient["best"] == {"recist": "SD", "mrecist": "PR", "easl": "PR"}
    readable = runner.invoke(app, ["response", str(semicolon)])
    assert "SD (-22.0 %)" in readable.stdout


def test_the_assess_example_has_every_score() -> None:
    result = runner.invoke(app, ["assess", str(EXAMPLES / "assess_partition_resin.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["missing"] == {}
    assert out["child_pugh"]["label"] == "A5"
    assert out["bclc"]["stage"] == "B"
    assert out["meld"]["meld_na"] is not None
    reasons = {r["rule"]: r["status"] for r in out["eligibility"]["reasons"]}
    assert "not checked" not in reasons.values()
    assert reasons["hepatic_reserve"] == "caution"
    assert out["eligibility"]["verdict"] == "caution"
