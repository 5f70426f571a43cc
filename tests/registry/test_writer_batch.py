"""Patients added in the transaction: the writer's batch path keeps every rule, both backends."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from opensirt.errors import InputError
from opensirt.registry.database import Registry
from opensirt.registry.models import AdverseEventRecord, Monitoring, Patient, TreatmentSession
from opensirt.registry.records import (
    AdverseEventIn,
    LabsIn,
    MonitoringIn,
    OutcomeIn,
    PatientIn,
    SessionIn,
)
from opensirt.registry.writer import add_patient, add_patients, write_records

UTC = dt.UTC


def _patient(pseudonym: str = "B-1") -> PatientIn:
    return PatientIn(
        patient=pseudonym,
        sex="female",
        birth_year=1955,
        diagnosis="crc",
        diagnosis_date=dt.date(2025, 1, 10),
    )


def _sirt(day: dt.date) -> SessionIn:
    return SessionIn(
        patient="B-1",
        date=day,
        therapy="sirt",
        delivered_activity_gbq=1.2,
        details={"device": "sir-spheres"},
    )


def test_batch_links_sessions_without_flushing_each_record(registry: Registry) -> None:
    day = dt.date(2025, 3, 1)
    with registry.transaction() as session:
        [row] = add_patients(session, [_patient()])
        records = [
            _sirt(day),
            MonitoringIn(
                patient="B-1",
                date=day,
                start=dt.datetime(2025, 3, 1, 11, tzinfo=UTC),
                end=dt.datetime(2025, 3, 1, 16, tzinfo=UTC),
                discharged=True,
            ),
            AdverseEventIn(
                patient="B-1",
                date=dt.date(2025, 3, 4),
                term="Fatigue",
                grade=1,
                attribution="probable",
                session_date=day,
            ),
        ]
        assert write_records(session, records, patient=row) == 3
    with registry.transaction(readonly=True) as session:
        treated = session.scalar(sa.select(TreatmentSession.id))
        assert session.scalar(sa.select(Monitoring.session_id)) == treated
        assert session.scalar(sa.select(AdverseEventRecord.session_id)) == treated


@pytest.mark.parametrize(
    ("records", "message"),
    [
        # a monitoring record needs the session of its date, also within the batch
        (
            [
                MonitoringIn(
                    patient="B-1",
                    date=dt.date(2025, 3, 2),
                    start=dt.datetime(2025, 3, 2, 11, tzinfo=UTC),
                    end=dt.datetime(2025, 3, 2, 16, tzinfo=UTC),
                    discharged=True,
                )
            ],
            "no treatment session on that date",
        ),
        # nothing after the death written earlier in the same batch
        (
            [
                OutcomeIn(patient="B-1", date=dt.date(2025, 4, 1), kind="death"),
                LabsIn(patient="B-1", date=dt.date(2025, 4, 2)),
            ],
            "after the patient's death",
        ),
        # a death before records written earlier in the batch
        (
            [
                _sirt(dt.date(2025, 5, 1)),
                OutcomeIn(patient="B-1", date=dt.date(2025, 4, 1), kind="death"),
            ],
            "before recorded events",
        ),
        # a pathway record before the diagnosis
        ([_sirt(dt.date(2024, 12, 1))], "before the diagnosis"),
        # a plan label without an approved version
        ([_sirt(dt.date(2025, 3, 1)).model_copy(update={"plan": "first"})], "no approved"),
    ],
)
def test_batch_refuses_what_single_writes_refuse(
    registry: Registry, records: list[object], message: str
) -> None:
    def write() -> None:
        with registry.transaction() as session:
            row = add_patient(session, _patient())
            write_records(session, records, patient=row)  # type: ignore[arg-type]

    with pytest.raises(InputError, match=message):
        write()
    with registry.transaction(readonly=True) as session:
        assert session.scalar(sa.select(sa.func.count(Patient.id))) == 0


def test_add_patients_refuses_duplicates(registry: Registry) -> None:
    with registry.transaction() as session:
        add_patients(session, [_patient("B-1")])
    with pytest.raises(InputError, match="'B-1' is already"), registry.transaction() as session:
        add_patients(session, [_patient("B-2"), _patient("B-1")])
    with pytest.raises(InputError, match="'B-3' is already"), registry.transaction() as session:
        add_patients(session, [_patient("B-3"), _patient("B-3")])
    with registry.transaction(readonly=True) as session:
        assert session.scalars(sa.select(Patient.pseudonym)).all() == ["B-1"]
