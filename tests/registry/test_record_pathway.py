"""The pathway recorded from the commands on the synthetic patient: plan, sign, verify, assess,
response, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import open_registry
from opensirt.registry.models import (
    ClinicalFindingsRecord,
    LabPanel,
    LesionMeasurement,
    PlanVersion,
    ResponseAssessment,
    TreatmentSession,
    Verification,
)
from opensirt.registry.vocabulary import PlanState

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()


@pytest.fixture
def db(empty_db_url: str, tmp_path: Path) -> str:
    """A registry on each backend holding the synthetic patient DEMO-001."""
    patients = tmp_path / "patients.csv"
    patients.write_text(
        "patient,sex,birth_year,diagnosis,diagnosis_date\nDEMO-001,other,1958,hcc,2025-12-01\n"
    )
    assert runner.invoke(app, ["registry", "init", "--db", empty_db_url]).exit_code == 0
    added = runner.invoke(app, ["registry", "add", "patient", str(patients), "--db", empty_db_url])
    assert added.exit_code == 0, added.output
    return empty_db_url


def _invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


@pytest.mark.slow
def test_verify_record_links_the_session_of_the_approved_plan(
    db: str, small_study: Path, tmp_path: Path
) -> None:
    case = str(small_study / "case.yaml")
    label = "right lobe + left lobe"
    _invoke("plan", case, "--record", "--db", db, "--user", "mphys1")
    for role, user in (("physicist", "mphys1"), ("physician", "dr-ir2")):
        _invoke("registry", "sign", "DEMO-001", label, "--role", role, "--user", user, "--db", db)
    out = _invoke(
        "verify", case, "--out", str(tmp_path / "v1"), "--record", "--db", db,
        "--plan-label", label,
    )  # fmt: skip
    assert "Recorded: verification of DEMO-001" in out
    _invoke("verify", case, "--out", str(tmp_path / "v2"), "--record", "--db", db)
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            treated = session.scalars(sa.select(TreatmentSession)).one()  # one session, reused
            version = session.get(PlanVersion, treated.plan_version_id)
            assert version is not None
            assert version.state is PlanState.APPROVED
            assert treated.details["device"] == "sir-spheres"
            assert len(treated.details["vials"]) == 1
            verifications = session.scalars(sa.select(Verification)).all()
            assert [v.session_id for v in verifications] == [treated.id, treated.id]
            names = {s.structure for s in verifications[0].structures}
            assert {"Liver", "Lungs"} <= names
            lungs = next(s for s in verifications[0].structures if s.structure == "Lungs")
            assert lungs.predicted_gy is not None
            assert lungs.delivered_gy is not None
    finally:
        registry.dispose()


def _count(db: str, table: type) -> int:
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
    finally:
        registry.dispose()


def test_verify_record_of_an_unknown_patient_writes_nothing(
    empty_db_url: str, small_study: Path, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["registry", "init", "--db", empty_db_url]).exit_code == 0
    out = tmp_path / "v"
    result = runner.invoke(
        app,
        [
            "verify",
            str(small_study / "case.yaml"),
            "--out",
            str(out),
            "--record",
            "--db",
            empty_db_url,
        ],
    )
    assert result.exit_code == 2
    assert "not in the registry" in result.stderr
    assert not out.exists()
    assert _count(empty_db_url, Verification) == 0


def test_assess_record_keeps_labs_and_findings_of_the_date(db: str, tmp_path: Path) -> None:
    patients = tmp_path / "more.csv"
    patients.write_text(
        "patient,sex,birth_year,diagnosis,diagnosis_date\n"
        "EX-ASSESS-RESIN-01,male,1951,hcc,2025-01-10\n"
    )
    _invoke("registry", "add", "patient", str(patients), "--db", db)
    case = str(EXAMPLES / "assess_partition_resin.yaml")
    out = _invoke("assess", case, "--record", "--db", db, "--date", "2025-02-03")
    assert "Recorded for EX-ASSESS-RESIN-01 on 2025-02-03: 1 clinical findings, 1 lab panels" in out
    assert _count(db, LabPanel) == 1
    assert _count(db, ClinicalFindingsRecord) == 1
    bad = runner.invoke(app, ["assess", case, "--record", "--db", db, "--date", "03/02/2025"])
    assert bad.exit_code == 2
    assert "expected a date such as" in bad.stderr
    future = runner.invoke(app, ["assess", case, "--record", "--db", db, "--date", "2999-01-01"])
    assert future.exit_code == 2
    assert "in the future" in future.stderr
    assert _count(db, LabPanel) == 1


def test_response_record_keeps_measurements_and_responses(db: str) -> None:
    table = EXAMPLES / "response_measurements.csv"
    result = runner.invoke(app, ["response", str(table), "--record", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    rows = len(table.read_text().splitlines()) - 1
    assert _count(db, LesionMeasurement) == rows
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            responses = session.scalars(sa.select(ResponseAssessment)).all()
            assert {r.criteria.value for r in responses} == {"recist1.1", "mrecist", "easl"}
            recist = next(r for r in responses if r.criteria.value == "recist1.1")
            assert recist.criteria_version == "RECIST 1.1 (Eisenhauer et al. 2009)"
    finally:
        registry.dispose()
    again = runner.invoke(app, ["response", str(table), "--record", "--db", "nowhere.sqlite3"])
    assert again.exit_code == 1
    assert "registry init" in again.stderr


def test_demo_refuses_a_registry_that_holds_the_demo_patient(db: str, small_study: Path) -> None:
    from typing import Any, cast

    from opensirt.demo.record import record_demo
    from opensirt.errors import InputError
    from opensirt.planning import load_case

    registry = open_registry(db)
    try:
        with (
            pytest.raises(InputError, match="holds DEMO-001 already"),
            registry.transaction() as session,
        ):
            record_demo(
                session,
                load_case(small_study / "case.yaml"),
                cast(Any, None),  # not reached: the registry is checked first
                case_yaml="",
                assessment={},
                input_fingerprint="0" * 64,
                report_path=None,
                rtdose_path=None,
            )
    finally:
        registry.dispose()
