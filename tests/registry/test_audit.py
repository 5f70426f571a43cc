"""The audit log: the hash chain, the append-only triggers, tampering seen, concurrent writers,
and every write of the registry recorded with its actor."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.registry import audit, store
from opensirt.registry.database import Registry
from opensirt.registry.models import LabPanel, Patient
from opensirt.registry.models_access import AuditEntry
from opensirt.registry.records import LabsIn, PatientIn
from opensirt.registry.writer import add_patient, write_record

TRIGGERS = {
    "sqlite": "DROP TRIGGER audit_log_no_{verb}",
    "postgresql": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
}


def _three(registry: Registry) -> None:
    with registry.transaction(actor="ann") as session:
        for n in range(3):
            audit.append(session, action="export", entity="patients", key=f"P-{n}")


def _tamper(registry: Registry, statement: str) -> list[str]:
    """Run ``statement`` on audit_log with its triggers out of the way; then verify."""
    backend = registry.url.get_backend_name()
    with registry.engine.begin() as connection:
        for verb in ("update", "delete") if backend == "sqlite" else ("",):
            connection.execute(sa.text(TRIGGERS[backend].format(verb=verb)))
        connection.execute(sa.text(statement))
    with registry.transaction(readonly=True) as session:
        return audit.verify(session)


def test_chain_append_and_verify(registry: Registry) -> None:
    _three(registry)
    with registry.transaction(readonly=True) as session:
        assert audit.verify(session) == []
        log = audit.entries(session)
        assert [e.id for e in log] == [3, 2, 1]
        assert log[2].prev_hash == "0" * 64
        assert log[1].prev_hash == log[2].entry_hash
        assert log[0].prev_hash == log[1].entry_hash
        assert {e.actor for e in log} == {"ann"}
        assert [e.entity_key for e in audit.history(session, "patients", "P-1")] == ["P-1"]


def test_triggers_refuse_update_and_delete(registry: Registry) -> None:
    _three(registry)
    for statement in ("UPDATE audit_log SET actor = 'eve'", "DELETE FROM audit_log"):
        with (
            pytest.raises(sa.exc.DatabaseError, match="append-only"),
            registry.transaction() as session,
        ):
            session.execute(sa.text(statement))
    with registry.transaction(readonly=True) as session:
        assert audit.verify(session) == []


def test_an_edited_entry_is_seen(registry: Registry) -> None:
    _three(registry)
    assert _tamper(registry, "UPDATE audit_log SET actor = 'eve' WHERE id = 2") == [
        "entry 2 was edited: its content does not match its hash"
    ]


def test_an_entry_replaced_with_a_fresh_hash_breaks_the_link(registry: Registry) -> None:
    _three(registry)
    assert _tamper(registry, "UPDATE audit_log SET entry_hash = 'f' WHERE id = 2") == [
        "entry 2 was edited: its content does not match its hash",
        "entry 3: its link to entry 2 is broken (prev_hash differs from that entry's hash: "
        "one of them was replaced)",
    ]


def test_a_deleted_entry_is_seen(registry: Registry) -> None:
    _three(registry)
    assert _tamper(registry, "DELETE FROM audit_log WHERE id = 2") == [
        "entry 2 is missing before entry 3 (deleted)"
    ]


def test_a_deleted_last_entry_is_seen(registry: Registry) -> None:
    _three(registry)
    problems = _tamper(registry, "DELETE FROM audit_log WHERE id = 3")
    assert problems == [
        "the log ends at entry 2, but its head records 3 entries: the last entries were "
        "deleted (or the head was changed)"
    ]


_APPENDER = """
import sys
from opensirt.registry import audit
from opensirt.registry.database import open_registry
registry = open_registry(sys.argv[1])
for n in range(25):
    with registry.transaction(actor=sys.argv[2]) as session:
        audit.append(session, action="export", entity="patients", key=str(n))
registry.dispose()
"""


def test_concurrent_appenders_never_fork_the_chain(registry: Registry) -> None:
    url = registry.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen([sys.executable, "-c", _APPENDER, url, who], env=env)
        for who in ("one", "two")
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    with registry.transaction(readonly=True) as session:
        assert audit.verify(session) == []
        actors = session.scalars(sa.select(AuditEntry.actor)).all()
    assert sorted(actors) == ["one"] * 25 + ["two"] * 25


def _record(session: Session) -> tuple[Patient, LabPanel]:
    patient = add_patient(
        session,
        PatientIn(
            patient="A-1",
            sex="female",
            birth_year=1960,
            diagnosis="hcc",
            diagnosis_date=dt.date(2025, 1, 1),
        ),
    )
    labs = write_record(
        session,
        LabsIn(patient="A-1", date=dt.date(2025, 1, 5), labs={"bilirubin_umol_l": 12.0}),
        patient=patient,
    )
    assert isinstance(labs, LabPanel)
    return patient, labs


def test_writes_are_recorded_with_actor_and_hashes(registry: Registry) -> None:
    with registry.transaction(actor="dr.who") as session:
        patient, labs = _record(session)
    with registry.transaction(readonly=True) as session:
        (added,) = audit.history(session, "patients", "A-1")
        assert (added.actor, added.action, added.before_sha256) == ("dr.who", "insert", None)
        assert added.after_sha256 == audit.content_sha256(session.get(Patient, patient.id))
        (written,) = audit.history(session, "lab_panels", str(labs.id))
        assert written.after_sha256 == audit.content_sha256(session.get(LabPanel, labs.id))
        assert audit.verify(session) == []


def _plan(**changes: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "date": dt.date(2025, 2, 1), "case_yaml": "method: partition\n", "result_json": "{}",
        "method": "partition", "device": "sir-spheres", "activity_gbq": 1.5,
        "tumour_dose_gy": 150.0, "normal_liver_dose_gy": 30.0, "lung_dose_gy": 5.0,
        "limits": [], "input_fingerprint": "0" * 64, "report_path": None,
        "rtdose_path": None, "created_by": "ann",
    }  # fmt: skip
    content.update(changes)
    return content


def test_plan_versions_and_signatures_are_recorded(registry: Registry) -> None:
    with registry.transaction(actor="ann") as session:
        patient, _ = _record(session)
        version = store.add_plan_version(session, patient, "right lobe", **_plan())
        created = audit.content_sha256(version)
    with registry.transaction(actor="ann") as session:
        patient = store.get_patient(session, "A-1")
        version = store.add_plan_version(session, patient, "right lobe", **_plan(activity_gbq=1.7))
    with registry.transaction(actor="bob") as session:
        version = session.merge(version)
        store.sign_plan_version(session, version, "physicist", "bob")
    with registry.transaction(readonly=True) as session:
        log = audit.history(session, "plan_versions", str(version.id))
        assert [(e.action, e.actor) for e in log] == [
            ("insert", "ann"), ("update", "ann"), ("update", "bob"),
        ]  # fmt: skip
        assert log[0].after_sha256 == created
        assert log[1].before_sha256 == created
        assert "activity_gbq" in log[1].detail["changed"]
        assert log[2].before_sha256 == log[1].after_sha256
        signed = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.entity == "plan_signatures")
        ).all()
        assert [(e.action, e.actor) for e in signed] == [("insert", "bob")]
        assert audit.verify(session) == []


def test_the_default_actor_is_the_system_user(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENSIRT_USER", "cli-user")
    with registry.transaction() as session:
        audit.append(session, action="export", entity="patients", key="X")
    with registry.transaction(readonly=True) as session:
        assert [e.actor for e in audit.entries(session)] == ["cli-user"]


def test_bulk_writes_are_recorded_per_patient(registry: Registry) -> None:
    from opensirt.demo.cohort import synthetic_cohort
    from opensirt.demo.cohort_writer import write_cohort

    people = list(synthetic_cohort(3, 5, until=dt.date(2026, 6, 30)))
    with registry.transaction(actor="synth") as session:
        list(write_cohort(session, people))
    with registry.transaction(readonly=True) as session:
        assert audit.verify(session) == []
        for person in people:
            log = audit.history(session, "patients", person.patient.patient)
            assert [e.action for e in log] == ["insert", "bulk-insert"]
            assert sum(log[1].detail["rows"].values()) >= len(person.records)
        rows = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        assert rows == 6


def test_rolled_back_entries_leave_the_chain_intact(registry: Registry) -> None:
    with registry.transaction(actor="ann") as session:
        audit.append(session, action="export", entity="patients", key="A")
        with session.begin_nested() as savepoint:
            audit.append(session, action="export", entity="patients", key="B")
            savepoint.rollback()
        audit.append(session, action=audit.AuditAction.LOGIN_FAILED, entity="users", key="x" * 500)
    session = Session(registry.engine)
    with session.begin():
        audit.append(session, action="export", entity="patients", key="C")
        session.rollback()
    session.close()
    with registry.transaction(readonly=True) as session:
        assert audit.verify(session) == []
        assert [(e.id, e.entity_key[:3]) for e in audit.entries(session)] == [(2, "xxx"), (1, "A")]
