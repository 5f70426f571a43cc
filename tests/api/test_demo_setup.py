"""``opensirt serve --demo``'s registry: users with one-time passwords, a draft to sign."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from opensirt.api.app import create_app
from opensirt.api.demo_setup import DEMO_USERS, add_cohort, add_demo_users, add_draft_copies
from opensirt.api.settings import Settings
from opensirt.registry.database import Registry
from service_helpers import login


def test_demo_users_cohort_and_draft(registry: Registry, tmp_path: Path) -> None:
    from opensirt.registry import store
    from opensirt.registry.records import PatientIn
    from opensirt.registry.writer import add_patient

    add_cohort(registry, n=3, seed=1)
    with registry.transaction(actor="test") as session:
        patient = add_patient(
            session,
            PatientIn(patient="DEMO-001", sex="male", birth_year=1958, diagnosis="hcc",
                      diagnosis_date=dt.date(2025, 1, 1)),
        )  # fmt: skip
        version = store.add_plan_version(
            session, patient, "whole liver", date=dt.date(2025, 2, 1), case_yaml="version: 1",
            result_json="{}", method="bsa", device="sir-spheres", limits=[],
            input_fingerprint="1" * 64, created_by="a",
        )  # fmt: skip
        store.sign_plan_version(session, version, "physicist", "a")
        store.sign_plan_version(session, version, "physician", "b")
    assert add_draft_copies(registry) == 1
    passwords = add_demo_users(registry)
    assert set(passwords) == set(DEMO_USERS)
    assert len(set(passwords.values())) == len(DEMO_USERS)
    app = create_app(Settings(db=None, cache_dir=tmp_path), registry=registry)
    with TestClient(app) as client:
        login(client, "physician", passwords["physician"])
        page = client.get("/api/patients", params={"q": "DEMO"}).json()
        assert page["patients"][0]["latest_plan_state"] == "draft"
        assert client.get("/api/patients").json()["total"] == 4
