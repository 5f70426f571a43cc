"""Reading the registry: the timeline in date order with every kind, the patient list, indexes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from opensirt.registry.database import Registry
from opensirt.registry.models import TIMELINE_TABLES
from opensirt.registry.records import LabsIn, SessionIn
from opensirt.registry.store import PatientNotFoundError
from opensirt.registry.timeline import TimelineKind, list_patients, timeline
from opensirt.registry.vocabulary import Diagnosis
from opensirt.registry.writer import write_record
from registry_read_pathway import (
    DEATH_DAY,
    MDT_DAY,
    SIRT_DAY,
    add_bare_patient,
    record_full_pathway,
)

#: A part of the summary every kind must show (with units).
EXPECTED_SUMMARIES = {
    TimelineKind.FINDINGS: "ECOG 1, cirrhosis yes",
    TimelineKind.LABS: "bilirubin 18.0 µmol/L, albumin 38.0 g/L, AFP 412 ng/mL",
    TimelineKind.QUALITY_OF_LIFE: "EORTC QLQ-C30 global health: 66.7 of 100",
    TimelineKind.MDT: "SIRT (palliative, line 1); considered SIRT, TACE, systemic therapy",
    TimelineKind.IMAGING: "maa-spect (NM), study 1.2.826.0.1.3680043.8.498.2",
    TimelineKind.WORKUP: "lung shunt 6.20 % (planar); T/N segment 8 4.10",
    TimelineKind.PLAN: "'right lobe' v2 approved (signed physician carl, physicist ann)",
    TimelineKind.SESSION: "SIRT, right lobe: 1.71 GBq delivered",
    TimelineKind.MONITORING: "monitored 11:00-16:30 UTC (5.50 h)",
    TimelineKind.VERIFICATION: "Normal liver 38.5 -> 44.0 Gy (+14.3 %) FLAGGED",
    TimelineKind.ADVERSE_EVENT: "Fatigue, grade 2 (possible), ongoing",
    TimelineKind.LESIONS: "sum of target longest diameters 52.0 mm",
    TimelineKind.RESPONSE: "mRECIST PR: target PR (-37.5 %)",
    TimelineKind.OUTCOME: "death: liver failure",
}


def test_every_kind_appears_in_date_order_with_its_summary(registry: Registry) -> None:
    record_full_pathway(registry)
    with registry.transaction(readonly=True) as session:
        line = timeline(session, "SIRT-0042")
    dates = [e.date for e in line.entries]
    assert dates == sorted(dates)
    assert {e.kind for e in line.entries} == set(TimelineKind)
    for kind, text in EXPECTED_SUMMARIES.items():
        summaries = [e.summary for e in line.of_kind(kind)]
        assert any(text in s for s in summaries), (kind, summaries)
    # lesion measurements: one entry per date; plans: both versions with their states
    assert len(line.of_kind(TimelineKind.LESIONS)) == 2
    assert [e.details["state"] for e in line.of_kind(TimelineKind.PLAN)] == [
        "superseded",
        "approved",
    ]
    session_entry = line.of_kind(TimelineKind.SESSION)[0]
    assert session_entry.details["plan"] == {"label": "right lobe", "version": 2}
    verification = line.of_kind(TimelineKind.VERIFICATION)[0]
    assert verification.details["session_date"] == SIRT_DAY.isoformat()
    assert [s["flagged"] for s in verification.details["structures"]] == [False, True]
    assert line.entries[-1].date == DEATH_DAY


def test_same_day_entries_keep_the_table_order_then_the_record_order(registry: Registry) -> None:
    record_full_pathway(registry)
    with registry.transaction() as session:  # a second lab panel on the MDT day, recorded last
        write_record(session, LabsIn(patient="SIRT-0042", date=MDT_DAY, afp_ng_ml=400.0))
    with registry.transaction(readonly=True) as session:
        line = timeline(session, "SIRT-0042")
    mdt_day = [e.kind for e in line.entries if e.date == MDT_DAY]
    # recorded as: last contact, MDT, QoL, labs, findings, labs; shown in TIMELINE_TABLES order
    assert mdt_day == [
        TimelineKind.FINDINGS,
        TimelineKind.LABS,
        TimelineKind.LABS,
        TimelineKind.QUALITY_OF_LIFE,
        TimelineKind.MDT,
        TimelineKind.OUTCOME,
    ]
    labs = [e for e in line.entries if e.date == MDT_DAY and e.kind is TimelineKind.LABS]
    assert labs[0].record_id < labs[1].record_id
    sirt_day = [e.kind for e in line.entries if e.date == SIRT_DAY]
    assert sirt_day == [
        TimelineKind.SESSION,
        TimelineKind.MONITORING,
        TimelineKind.ADVERSE_EVENT,
    ]


def test_json_structure(registry: Registry) -> None:
    record_full_pathway(registry)
    with registry.transaction(readonly=True) as session:
        data = timeline(session, "SIRT-0042").to_dict()
    assert data["format"] == 1
    assert data["patient"] == {
        "pseudonym": "SIRT-0042",
        "sex": "female",
        "birth_year": 1956,
        "diagnosis": "hcc",
        "diagnosis_date": "2025-01-10",
    }
    for entry in data["entries"]:
        assert set(entry) == {"date", "kind", "summary", "id", "details"}
        dt.date.fromisoformat(entry["date"])
    plan = next(e for e in data["entries"] if e["kind"] == "plan")
    assert [s["role"] for s in plan["details"]["signatures"]] == ["physician", "physicist"]


def test_an_unknown_patient_names_the_fix(registry: Registry) -> None:
    with (
        registry.transaction(readonly=True) as session,
        pytest.raises(PatientNotFoundError, match="'NOBODY' is not in the registry"),
    ):
        timeline(session, "NOBODY")


def test_a_patient_without_records_has_an_empty_timeline(registry: Registry) -> None:
    add_bare_patient(registry, "P-EMPTY")
    with registry.transaction(readonly=True) as session:
        line = timeline(session, "P-EMPTY")
        page = list_patients(session)
    assert line.entries == ()
    (row,) = page.rows
    assert (row.first_sirt, row.sessions, row.latest_plan_state, row.vital_status) == (
        None,
        0,
        None,
        "alive",
    )
    assert row.last_record == row.diagnosis_date


def test_list_pages_and_filters(registry: Registry) -> None:
    record_full_pathway(registry, "A-1")
    for name, diagnosis in (("B-2", "crc"), ("C-3", "hcc"), ("D-4", "net")):
        add_bare_patient(registry, name, diagnosis)
    with registry.transaction() as session:
        write_record(
            session,
            SessionIn(patient="C-3", date=dt.date(2025, 3, 1), therapy="tace", details={}),
        )
    with registry.transaction(readonly=True) as session:
        everyone = list_patients(session)
        page = list_patients(session, limit=2, offset=1)
        hcc = list_patients(session, diagnosis=Diagnosis.HCC)
        tace = list_patients(session, therapy="tace")
        sirt = list_patients(session, therapy="sirt")
    assert [r.pseudonym for r in everyone.rows] == ["A-1", "B-2", "C-3", "D-4"]
    assert ([r.pseudonym for r in page.rows], page.total, page.offset) == (["B-2", "C-3"], 4, 1)
    assert [r.pseudonym for r in hcc.rows] == ["A-1", "C-3"]
    assert [r.pseudonym for r in tace.rows] == ["A-1", "C-3"]
    assert [r.pseudonym for r in sirt.rows] == ["A-1"]
    first = everyone.rows[0].to_dict()
    assert first == {
        "pseudonym": "A-1",
        "diagnosis": "hcc",
        "diagnosis_date": "2025-01-10",
        "first_sirt": SIRT_DAY.isoformat(),
        "sessions": 2,
        "latest_plan_state": "approved",
        "last_record": DEATH_DAY.isoformat(),
        "vital_status": "dead",
        "died": DEATH_DAY.isoformat(),
    }


def test_reading_uses_the_indexes_and_a_fixed_number_of_queries(
    registry: Registry,
) -> None:
    """No query per row, and on SQLite no table is scanned: every lookup is by an index."""
    record_full_pathway(registry)
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, sql: str, params: object, *_: object) -> None:
        statements.append((sql, params))

    sa.event.listen(registry.engine, "before_cursor_execute", capture)
    try:
        with registry.transaction(readonly=True) as session:
            timeline(session, "SIRT-0042")
    finally:
        sa.event.remove(registry.engine, "before_cursor_execute", capture)
    selects = [(sql, p) for sql, p in statements if sql.lstrip().upper().startswith("SELECT")]
    # the patient, the tables, signatures and verified structures loaded in one query each
    assert len(selects) == 1 + len(TIMELINE_TABLES) + 2
    if registry.url.get_backend_name() != "sqlite":
        return
    with registry.engine.connect() as connection:
        for sql, params in selects:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params).all()  # type: ignore[arg-type]
            details = [str(row[-1]) for row in plan]
            scans = [d for d in details if re.match(r"SCAN \w+$", d)]
            assert not scans, (sql, details)
            assert any("USING" in d for d in details), (sql, details)
