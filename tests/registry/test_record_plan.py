"""``opensirt plan CASE --record`` and ``opensirt registry sign``, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import open_registry
from opensirt.registry.models import Plan, PlanVersion

EXAMPLES = Path(__file__).parents[2] / "examples"
CASE = EXAMPLES / "partition_resin.yaml"  # patient EX-PART-RESIN-01, two lobes
REFUSED = EXAMPLES / "lung_limit_refused.yaml"  # patient EX-REFUSED-01
LABEL = "right lobe + left lobe"
runner = CliRunner()


@pytest.fixture
def db(empty_db_url: str, tmp_path: Path) -> str:
    """A registry on each backend holding the two example patients."""
    patients = tmp_path / "patients.csv"
    patients.write_text(
        "patient,sex,birth_year,diagnosis,diagnosis_date\n"
        "EX-PART-RESIN-01,female,1957,hcc,2025-01-15\n"
        "EX-REFUSED-01,male,1950,hcc,2025-01-15\n"
    )
    assert runner.invoke(app, ["registry", "init", "--db", empty_db_url]).exit_code == 0
    added = runner.invoke(app, ["registry", "add", "patient", str(patients), "--db", empty_db_url])
    assert added.exit_code == 0, added.output
    return empty_db_url


def _versions(db: str) -> list[tuple[str, int, str, float | None, str, str]]:
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            rows = session.execute(
                sa.select(
                    Plan.label,
                    PlanVersion.version,
                    PlanVersion.state,
                    PlanVersion.activity_gbq,
                    PlanVersion.created_by,
                    PlanVersion.result_json,
                )
                .join(Plan)
                .order_by(Plan.label, PlanVersion.version)
            ).all()
            return [(r[0], r[1], r[2].value, r[3], r[4], r[5]) for r in rows]
    finally:
        registry.dispose()


def _plan(db: str, *extra: str, case: Path = CASE) -> object:
    return runner.invoke(app, ["plan", str(case), "--record", "--db", db, *extra])


def _sign(db: str, role: str, user: str, *extra: str) -> object:
    return runner.invoke(
        app,
        [
            "registry",
            "sign",
            "EX-PART-RESIN-01",
            LABEL,
            "--role",
            role,
            "--user",
            user,
            "--db",
            db,
            *list(extra),
        ],
    )


def test_plan_twice_updates_the_same_draft(db: str) -> None:
    first = _plan(db, "--user", "mphys1")
    assert first.exit_code == 0, first.output
    assert f"Recorded: plan '{LABEL}' version 1 (draft)" in first.stdout
    assert _plan(db, "--user", "mphys2").exit_code == 0
    [(label, version, state, activity, user, result)] = _versions(db)
    assert (label, version, state, user) == (LABEL, 1, "draft", "mphys2")
    assert activity == pytest.approx(json.loads(result)["activity_gbq"])


def test_sign_flow_approves_and_a_new_plan_is_a_new_version(db: str) -> None:
    assert _plan(db, "--user", "mphys1").exit_code == 0
    first = _sign(db, "physicist", "mphys1")
    assert first.exit_code == 0, first.output
    assert "2.109 GBq" in first.stdout  # the summary is shown before signing
    assert "version 1 is draft" in first.stdout
    same = _sign(db, "physician", "mphys1")
    assert same.exit_code == 2
    assert "two different people" in " ".join(same.stderr.split())
    second = _sign(db, "physician", "dr-ir2")
    assert second.exit_code == 0, second.output
    assert "version 1 is approved" in second.stdout
    again = _sign(db, "physician", "dr-ir3", "--version", "1")
    assert again.exit_code == 2
    assert "only a draft can be signed" in again.stderr
    assert _plan(db, "--user", "mphys1").exit_code == 0  # a change after approval
    assert [(v[1], v[2]) for v in _versions(db)] == [(1, "approved"), (2, "draft")]


def test_sign_names_what_is_missing(db: str) -> None:
    missing = _sign(db, "physicist", "mphys1")
    assert missing.exit_code == 2
    assert "has no plan" in missing.stderr
    assert _plan(db).exit_code == 0
    bad_role = _sign(db, "surgeon", "x")
    assert bad_role.exit_code == 2
    assert "expected physicist or physician" in bad_role.stderr


def test_refused_plan_is_recorded_unsigned(db: str) -> None:
    result = _plan(db, "--plan-label", "attempt", case=REFUSED)
    assert result.exit_code == 3
    assert "cannot be signed" in result.stdout
    [(label, _version, state, activity, _user, _json)] = _versions(db)
    assert (label, state, activity) == ("attempt", "draft", None)
    sign = runner.invoke(
        app,
        [
            "registry",
            "sign",
            "EX-REFUSED-01",
            "attempt",
            "--role",
            "physicist",
            "--user",
            "a",
            "--db",
            db,
        ],
    )
    assert sign.exit_code == 2
    assert "refused for safety" in sign.stderr


def test_unknown_patient_records_nothing_and_writes_no_files(
    empty_db_url: str, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["registry", "init", "--db", empty_db_url]).exit_code == 0
    out = tmp_path / "out"
    result = _plan(empty_db_url, "--out", str(out))
    assert result.exit_code == 2
    assert "opensirt registry add patient" in " ".join(result.stderr.split())
    assert not out.exists()
    assert _versions(empty_db_url) == []


def test_plan_record_keeps_the_report_path(db: str, tmp_path: Path) -> None:
    out = tmp_path / "plan-v1"
    assert _plan(db, "--out", str(out)).exit_code == 0
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            version = session.scalars(sa.select(PlanVersion)).one()
            assert version.report_path == str((out / "plan.pdf").resolve())
            assert Path(version.report_path).is_file()
            assert version.case_yaml == CASE.read_text()
            saved = json.loads((out / "plan.json").read_text())
            assert version.input_fingerprint == saved["provenance"]["fingerprint"]
    finally:
        registry.dispose()


def test_plan_record_with_json_keeps_stdout_json(db: str) -> None:
    result = _plan(db, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["method"] == "partition"
    assert "Recorded: plan" in result.stderr
