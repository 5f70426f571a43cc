"""`opensirt registry add KIND FILE`: every kind from the examples; all or nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import open_registry
from opensirt.registry.files import Kind
from opensirt.registry.models import (
    AdverseEventRecord,
    LabPanel,
    MdtDecision,
    Monitoring,
    Patient,
    TreatmentSession,
    Verification,
)

EXAMPLES = Path(__file__).parents[2] / "examples" / "registry"
runner = CliRunner()

#: Every example file in the order a pathway records them (sessions before what links to them).
ORDER = (
    ("patient", "patients.csv", "patients", 2),
    ("labs", "labs.csv", "lab_panels", 3),
    ("findings", "findings.yaml", "clinical_findings", 1),
    ("qol", "qol.csv", "quality_of_life", 4),
    ("mdt", "mdt.yaml", "mdt_decisions", 2),
    ("imaging", "imaging.csv", "imaging_studies", 4),
    ("workup", "workup.yaml", "workups", 1),
    ("session", "sessions.yaml", "treatment_sessions", 2),
    ("monitoring", "monitoring.yaml", "monitoring", 1),
    ("adverse-event", "adverse-events.csv", "adverse_events", 2),
    ("verification", "verification.yaml", "verifications", 1),
    ("measurements", "measurements.csv", "lesion_measurements", 4),
    ("response", "responses.csv", "response_assessments", 1),
    ("outcome", "outcomes.csv", "outcome_events", 2),
)


@pytest.fixture
def db(empty_db_url: str) -> Iterator[str]:
    """An initialised registry's URL on each backend."""
    result = runner.invoke(app, ["registry", "init", "--db", empty_db_url])
    assert result.exit_code == 0, result.output
    return empty_db_url


def _add(db: str, kind: str, path: Path) -> object:
    return runner.invoke(app, ["registry", "add", kind, str(path), "--db", db, "--json"])


def _count(db: str, table: type) -> int:
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            return int(session.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
    finally:
        registry.dispose()


def test_every_kind_from_the_examples(db: str) -> None:
    assert {kind for kind, *_ in ORDER} == {k.value for k in Kind}
    for kind, name, table, count in ORDER:
        result = _add(db, kind, EXAMPLES / name)
        assert result.exit_code == 0, f"{kind}: {result.output}"
        assert json.loads(result.stdout)["added"] == {table: count}
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            sirt = session.scalars(
                sa.select(TreatmentSession).where(TreatmentSession.therapy == "sirt")
            ).one()
            assert sirt.details["vials"][0]["assayed_at"] == "2025-03-04T08:30:00+01:00"
            board = session.scalars(sa.select(MdtDecision).where(MdtDecision.chosen == "sirt"))
            assessment = board.one().assessment
            assert assessment is not None
            assert assessment["child_pugh"]["class"] == "A"  # from the file it names
            for table, count in ((Monitoring, 1), (AdverseEventRecord, 2), (Verification, 1)):
                linked = sa.select(sa.func.count()).where(table.session_id == sirt.id)
                assert session.scalar(linked) == count
    finally:
        registry.dispose()


def test_one_bad_record_stops_the_file_and_names_it(db: str, tmp_path: Path) -> None:
    assert _add(db, "patient", EXAMPLES / "patients.csv").exit_code == 0
    labs = tmp_path / "labs.csv"
    labs.write_text(
        "patient,date,bilirubin_umol_l,albumin_g_l\n"
        "SIRT-0042,2025-02-03,16,37\n"
        "SIRT-0042,2025-02-04,16,370\n"
    )
    result = _add(db, "labs", labs)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "line 3 (patient SIRT-0042)" in message
    assert "labs.albumin_g_l is 370.0" in message
    assert "nothing was added" in message
    assert _count(db, LabPanel) == 0


def test_a_record_the_store_refuses_rolls_back_the_file(db: str, tmp_path: Path) -> None:
    assert _add(db, "patient", EXAMPLES / "patients.csv").exit_code == 0
    mdt = tmp_path / "mdt.yaml"
    mdt.write_text(
        "- {patient: SIRT-0042, date: 2025-02-10, roles_present: [hepatologist],\n"
        "   options_considered: [sirt], chosen: sirt, intent: palliative}\n"
        "- {patient: SIRT-9999, date: 2025-02-10, roles_present: [hepatologist],\n"
        "   options_considered: [sirt], chosen: sirt, intent: palliative}\n"
    )
    result = _add(db, "mdt", mdt)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "record 2 (patient SIRT-9999)" in message
    assert "opensirt registry add patient" in message
    assert _count(db, MdtDecision) == 0


def test_unknown_field_and_missing_field(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "patients.yaml"
    bad.write_text(
        "- {patient: P-1, sex: female, birth_year: 1960, diagnosis: hcc, diagnosis_date: "
        "2025-01-01, name: Smith}\n- {patient: P-2, sex: male, diagnosis: hcc, "
        "diagnosis_date: 2025-01-01}\n"
    )
    result = _add(db, "patient", bad)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "record 1 (patient P-1): name: unknown field" in message
    assert "record 2 (patient P-2): birth_year: required field is missing" in message
    assert _count(db, Patient) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [1, 2]\nb: [*a, *a]\n", "alias"),
        ("x: " + "[" * 40 + "]" * 40 + "\n", "nested deeper"),
        ("[]\n", "empty list"),
        ("- 3\n", "expected a mapping"),
    ],
)
def test_hostile_yaml_is_refused(db: str, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mdt.yaml"
    path.write_text(text)
    result = _add(db, "mdt", path)
    assert result.exit_code == 2
    assert expected in " ".join(result.stderr.split())


def test_file_type_kind_and_size_checks(db: str, tmp_path: Path) -> None:
    csv = tmp_path / "mdt.csv"
    csv.write_text("patient,date\nP,2025-01-01\n")
    assert "come as YAML, not CSV" in " ".join(_add(db, "mdt", csv).stderr.split())
    result = _add(db, "surgery", csv)
    assert result.exit_code == 2
    assert "unknown kind 'surgery'" in result.stderr
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (5 * 2**20))
    result = _add(db, "mdt", big)
    assert result.exit_code == 2
    assert "larger than" in " ".join(result.stderr.split())


def test_readable_output_counts_what_was_added(db: str) -> None:
    result = runner.invoke(
        app, ["registry", "add", "patient", str(EXAMPLES / "patients.csv"), "--db", db]
    )
    assert result.exit_code == 0, result.output
    assert "patients" in result.stdout
    assert "2" in result.stdout


def test_mdt_assessment_file_of_another_patient_is_refused(db: str, tmp_path: Path) -> None:
    assert _add(db, "patient", EXAMPLES / "patients.csv").exit_code == 0
    (tmp_path / "a.json").write_text('{"patient_id": "SIRT-0043", "bclc": null}')
    mdt = tmp_path / "mdt.yaml"
    mdt.write_text(
        "- {patient: SIRT-0042, date: 2025-02-10, roles_present: [hepatologist],\n"
        "   options_considered: [sirt], chosen: sirt, intent: palliative, assessment: a.json}\n"
    )
    result = _add(db, "mdt", mdt)
    assert result.exit_code == 2
    assert "is of patient 'SIRT-0043'" in " ".join(result.stderr.split())
    (tmp_path / "a.json").write_text("[1, 2")
    assert "is not JSON" in " ".join(_add(db, "mdt", mdt).stderr.split())
    assert _count(db, MdtDecision) == 0


def test_sirt_details_problems_name_the_key_path(db: str, tmp_path: Path) -> None:
    assert _add(db, "patient", EXAMPLES / "patients.csv").exit_code == 0
    sessions = tmp_path / "sessions.yaml"
    sessions.write_text(
        "- patient: SIRT-0042\n  date: 2025-03-04\n  therapy: sirt\n  details:\n"
        "    device: sir-spheres\n"
        "    vials: [{activity_gbq: 1.75, assayed_at: 2025-03-04T08:30:00}]\n"
        "    residual_fraction: 4\n"
    )
    result = _add(db, "session", sessions)
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "details.vials[0]: assayed_at 2025-03-04T08:30:00 has no time zone" in message
    assert "details.residual_fraction is 4" in message
    assert _count(db, TreatmentSession) == 0
