"""The write rules of the registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.registry import store
from opensirt.registry.database import ConflictError, Registry
from opensirt.registry.models import (
    LabPanel,
    MdtDecision,
    OutcomeEvent,
    Patient,
    PlanVersion,
)
from opensirt.registry.vocabulary import Diagnosis, Intent, OutcomeKind, PlanState, Sex, Therapy

DIAGNOSED = dt.date(2025, 1, 10)


def _patient(registry: Registry, pseudonym: str = "P-001") -> int:
    with registry.transaction() as session:
        patient = Patient(
            pseudonym=pseudonym,
            sex=Sex.FEMALE,
            birth_year=1958,
            diagnosis=Diagnosis.HCC,
            diagnosis_date=DIAGNOSED,
        )
        session.add(patient)
        session.flush()
        return patient.id


def _content(**changes: Any) -> dict[str, Any]:
    content: dict[str, Any] = {
        "date": dt.date(2025, 2, 1),
        "case_yaml": "method: partition\n",
        "result_json": "{}",
        "method": "partition",
        "device": "sir-spheres",
        "activity_gbq": 1.5,
        "tumour_dose_gy": 150.0,
        "normal_liver_dose_gy": 30.0,
        "lung_dose_gy": 5.0,
        "limits": [],
        "input_fingerprint": "0" * 64,
        "report_path": None,
        "rtdose_path": None,
        "created_by": "ann",
    }
    content.update(changes)
    return content


def _version(session: Session, number: int = 1) -> PlanVersion:
    version = session.scalar(sa.select(PlanVersion).where(PlanVersion.version == number))
    assert version is not None
    return version


def test_unknown_patient_is_named(registry: Registry) -> None:
    with (
        registry.transaction() as session,
        pytest.raises(store.PatientNotFoundError, match="patient 'NOPE' is not in the registry"),
    ):
        store.get_patient(session, "NOPE")


def test_dates_are_checked(registry: Registry) -> None:
    _patient(registry)
    with registry.transaction() as session:
        patient = store.get_patient(session, "P-001")
        # a lab panel may precede the diagnosis; an MDT decision may not
        store.add_rows(session, patient, [LabPanel(date=dt.date(2024, 12, 1), labs={})])
        decision = MdtDecision(
            date=dt.date(2024, 12, 1),
            roles_present=["hepatologist"],
            options_considered=["sirt"],
            chosen=Therapy.SIRT,
            intent=Intent.PALLIATIVE,
        )
        with pytest.raises(InputError, match="2024-12-01, before the diagnosis on 2025-01-10"):
            store.add_rows(session, patient, [decision])
        future = dt.date.today() + dt.timedelta(days=2)
        with pytest.raises(InputError, match="in the future"):
            store.add_rows(session, patient, [LabPanel(date=future, labs={})])
        store.add_rows(
            session, patient, [OutcomeEvent(date=dt.date(2025, 6, 1), kind=OutcomeKind.DEATH)]
        )
        with pytest.raises(InputError, match="after the patient's death on 2025-06-01"):
            store.add_rows(session, patient, [LabPanel(date=dt.date(2025, 7, 1), labs={})])


def test_plan_versions_and_two_person_approval(registry: Registry) -> None:
    _patient(registry)
    with registry.transaction() as session:
        patient = store.get_patient(session, "P-001")
        first = store.add_plan_version(session, patient, "right lobe", **_content())
        # a second recording of a draft replaces it in place
        again = store.add_plan_version(session, patient, "right lobe", **_content(activity_gbq=1.4))
        assert (again.id, again.version, again.activity_gbq) == (first.id, 1, 1.4)
    with registry.transaction() as session:
        version = _version(session)
        store.sign_plan_version(session, version, "physicist", "ann")
        with pytest.raises(InputError, match="two different people"):
            store.sign_plan_version(session, version, "physician", "ann")
        with pytest.raises(InputError, match="signed as physicist already"):
            store.sign_plan_version(session, version, "physicist", "bob")
        store.sign_plan_version(session, version, "physician", "bob")
        assert version.state is PlanState.APPROVED
    with registry.transaction() as session:
        patient = store.get_patient(session, "P-001")
        # an approved version is never changed: a new version is made
        second = store.add_plan_version(
            session, patient, "right lobe", **_content(activity_gbq=1.3)
        )
        assert second.version == 2
        assert _version(session, 1).activity_gbq == 1.4
        with pytest.raises(InputError, match="is approved; only a draft can be signed"):
            store.sign_plan_version(session, _version(session, 1), "physicist", "cat")
        store.sign_plan_version(session, second, "physicist", "cat")
        store.sign_plan_version(session, second, "physician", "dan")
    with registry.transaction(readonly=True) as session:
        assert _version(session, 1).state is PlanState.SUPERSEDED
        assert _version(session, 2).state is PlanState.APPROVED


def test_concurrent_signers_conflict(registry: Registry) -> None:
    _patient(registry)
    with registry.transaction() as session:
        store.add_plan_version(session, store.get_patient(session, "P-001"), "whole", **_content())
    with registry.transaction(readonly=True) as session:
        seen = _version(session).row_version
    with registry.transaction() as session:
        store.sign_plan_version(
            session, _version(session), "physicist", "ann", expected_row_version=seen
        )
    with (
        registry.transaction() as session,
        pytest.raises(ConflictError, match="changed by someone else"),
    ):
        store.sign_plan_version(
            session, _version(session), "physician", "bob", expected_row_version=seen
        )
    with registry.transaction(readonly=True) as session:
        assert [s.role.value for s in _version(session).signatures] == ["physicist"]


def test_lost_update_is_a_conflict(registry: Registry) -> None:
    """Two sessions edit the same draft: the slower one fails, nothing is overwritten."""
    _patient(registry)
    with registry.transaction() as session:
        store.add_plan_version(session, store.get_patient(session, "P-001"), "whole", **_content())
    first = Session(registry.engine, expire_on_commit=False)
    second = Session(registry.engine, expire_on_commit=False)
    try:
        a = first.scalar(sa.select(PlanVersion))
        first.commit()
        b = second.scalar(sa.select(PlanVersion))
        second.commit()
        assert a is not None
        assert b is not None
        a.activity_gbq = 1.1
        first.commit()
        b.activity_gbq = 1.2
        with pytest.raises(ConflictError, match="changed by someone else"):
            store.flush(second, "the draft")
        second.rollback()
    finally:
        first.close()
        second.close()
    with registry.transaction(readonly=True) as session:
        assert _version(session).activity_gbq == 1.1
