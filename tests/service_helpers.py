"""Helpers of the web service's tests (tests/api): the test users, logging in, plan versions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

#: Every test user's password (>= 12 characters, the users module's policy).
PASSWORD = "correct horse battery"
#: The test users, one per role, named as their role (and a second physicist).
ROLES = ("admin", "physicist", "physician", "nurse", "viewer")
#: A patient that every service test finds in the registry.
PATIENT = "API-0001"


def login(client: TestClient, user_name: str, password: str = PASSWORD) -> str:
    """Log a client in; the CSRF token is then sent with every request.

    Returns
    -------
    str
        The session's CSRF token.
    """
    response = client.post("/api/login", json={"user_name": user_name, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


def write_plan_files(folder: Path) -> dict[str, str]:
    """Stand-ins of a plan's report, RT Dose, DVH table and dose NIfTI (as the plan writer
    names them) in ``folder``; returns the ``report_path`` and ``rtdose_path`` to record."""
    for name, text in (
        ("plan.pdf", "%PDF-1.4 test"),
        ("plan_rtdose.dcm", "DICM"),
        ("plan_dvh.csv", "structure,dose_gy\n"),
        ("plan_dose.nii.gz", "nifti"),
    ):
        (folder / name).write_text(text)
    return {
        "report_path": str(folder / "plan.pdf"),
        "rtdose_path": str(folder / "plan_rtdose.dcm"),
    }


def add_plan_version(session: Any, patient: Any, label: str, created_by: str, **paths: str) -> Any:
    """A draft partition plan version (1.2 GBq SIR-Spheres) of ``patient``."""
    from opensirt.registry import store

    return store.add_plan_version(
        session,
        patient,
        label,
        date=dt.date(2025, 2, 1),
        case_yaml="version: 1\n",
        result_json=json.dumps({"method": "partition", "warnings": []}),
        method="partition",
        device="sir-spheres",
        activity_gbq=1.2,
        tumour_dose_gy=120.0,
        normal_liver_dose_gy=30.0,
        lung_dose_gy=5.0,
        limits=[],
        input_fingerprint="0" * 64,
        created_by=created_by,
        **paths,
    )
