"""Records into rows: links by date and label, the patient's history checked, both backends."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from opensirt.errors import InputError
from opensirt.registry.database import Registry
from opensirt.registry.models import AdverseEventRecord, Monitoring, TreatmentSession
from opensirt.registry.records import (
    AdverseEventIn,
    LabsIn,
    MonitoringIn,
    OutcomeIn,
    PatientIn,
    PlanVersionIn,
    SessionIn,
)
from opensirt.registry.writer import add_patient, write_record

UTC = dt.UTC


def _add_patient(registry: Registry) -> None:
    with registry.transaction() as session:
        add_patient(
            session,
            PatientIn(
                patient="P-7",
                sex="male",
                birth_year=1950,
                diagnosis="hcc",
                diagnosis_date=dt.date(2025, 1, 5),
            ),
        )


def _sirt(**changes: object) -> SessionIn:
    fields: dict[str, object] = {
        "patient": "P-7",
        "date": dt.date(2025, 3, 1),
        "therapy": "sirt",
        "territory": "right lobe",
        "delivered_activity_gbq": 1.7,
        "details": {"device": "sir-spheres", "residual_fraction": 0.03},
    }
    fields.update(changes)
    return SessionIn.model_validate(fields)


def test_sessions_link_monitoring_and_adverse_events(registry: Registry) -> None:
    _add_patient(registry)
    with registry.transaction() as session:
        write_record(session, _sirt())
        write_record(
            session,
            MonitoringIn(
                patient="P-7",
                date=dt.date(2025, 3, 1),
                start=dt.datetime(2025, 3, 1, 11, tzinfo=UTC),
                end=dt.datetime(2025, 3, 1, 16, tzinfo=UTC),
                observations=({"time": "12:00", "pain_nrs": 2},),
                discharged=True,
            ),
        )
        write_record(
            session,
            AdverseEventIn(
                patient="P-7",
                date=dt.date(2025, 3, 3),
                term="Fatigue",
                grade=1,
                attribution="probable",
                session_date=dt.date(2025, 3, 1),
            ),
        )
    with registry.transaction(readonly=True) as session:
        treated = session.scalars(sa.select(TreatmentSession)).one()
        assert session.scalars(sa.select(Monitoring)).one().session_id == treated.id
        assert session.scalars(sa.select(AdverseEventRecord)).one().session_id == treated.id


def test_bad_links_and_duplicates_are_refused(registry: Registry) -> None:
    _add_patient(registry)
    with (
        registry.transaction() as session,
        pytest.raises(InputError, match="already in the registry"),
    ):
        add_patient(
            session,
            PatientIn(
                patient="P-7",
                sex="male",
                birth_year=1950,
                diagnosis="hcc",
                diagnosis_date=dt.date(2025, 1, 5),
            ),
        )
    with (
        registry.transaction() as session,
        pytest.raises(InputError, match="no treatment session on that date"),
    ):
        write_record(
            session,
            AdverseEventIn(
                patient="P-7",
                date=dt.date(2025, 3, 3),
                term="Nausea",
                grade=2,
                attribution="possible",
                session_date=dt.date(2025, 2, 2),
            ),
        )
    with registry.transaction() as session, pytest.raises(InputError, match="no approved version"):
        write_record(session, _sirt(plan="right lobe"))
    with registry.transaction() as session:
        write_record(
            session,
            OutcomeIn(patient="P-7", date=dt.date(2025, 6, 1), kind="death", cause="liver failure"),
        )
        with pytest.raises(InputError, match="a death is recorded already"):
            write_record(session, OutcomeIn(patient="P-7", date=dt.date(2025, 6, 2), kind="death"))
        with pytest.raises(InputError, match="after the patient's death"):
            write_record(session, LabsIn(patient="P-7", date=dt.date(2025, 7, 1)))


def test_record_models_name_the_field_and_the_fix() -> None:
    with pytest.raises(ValidationError, match="activity_mbq"):
        SessionIn.model_validate(
            {
                "patient": "P-7",
                "date": "2025-03-01",
                "therapy": "sirt",
                "activity_mbq": 1700,
                "details": {"device": "sir-spheres"},
            }
        )
    with pytest.raises(ValidationError, match="belongs to SIRT sessions only"):
        _sirt(therapy="tace", details={"drug": "doxorubicin", "dose_mg": 50})
    with pytest.raises(ValidationError, match="needs its site"):
        OutcomeIn(patient="P-7", date=dt.date(2025, 6, 1), kind="progression")
    with pytest.raises(ValidationError, match="must be by different users"):
        PlanVersionIn.model_validate(
            {
                "patient": "P-7",
                "date": "2025-02-01",
                "label": "x",
                "version": 1,
                "state": "approved",
                "case_yaml": "",
                "result_json": "{}",
                "method": "bsa",
                "device": "sir-spheres",
                "input_fingerprint": "a" * 64,
                "created_by": "ann",
                "signatures": [
                    {"role": "physicist", "user_name": "ann", "signed_at": "2025-02-01T10:00:00Z"},
                    {"role": "physician", "user_name": "ann", "signed_at": "2025-02-01T11:00:00Z"},
                ],
            }
        )
