"""Background plan jobs: unsafe or non-DICOM uploads refused, nothing written outside the
job's folder; a job left running by a stopped service is failed at the next start; a real
plan from the small synthetic patient's DICOM, recorded by the user who started it."""

from __future__ import annotations

import datetime as dt
import io
import stat
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from opensirt.api.jobs import INTERRUPTED
from opensirt.registry.database import Registry
from service_helpers import login

DICOM_BYTES = b"\0" * 128 + b"DICM" + b"\0" * 64


def _zip(entries: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _upload(client: TestClient, case: bytes, dicom: bytes) -> object:
    files = {"case": ("case.yaml", case), "dicom": ("dicom.zip", dicom)}
    return client.post("/api/jobs/plan", files=files)


@pytest.mark.parametrize(
    ("entries", "link", "message"),
    [
        ({"../evil.dcm": DICOM_BYTES}, None, "absolute path or '..'"),
        ({"ct/../../evil.dcm": DICOM_BYTES}, None, "absolute path or '..'"),
        ({"/tmp/evil.dcm": DICOM_BYTES}, None, "absolute path or '..'"),
        ({"ct\\..\\..\\evil.dcm": DICOM_BYTES}, None, "absolute path or '..'"),
        ({"ct/1.dcm": DICOM_BYTES}, "ct/link.dcm", "symbolic link"),
        ({"ct/1.dcm": DICOM_BYTES, "ct/notes.txt": b"<script>x</script>"}, None, "not a DICOM"),
        ({"bomb.dcm": b"\0" * (24 * 1024 * 1024)}, None, "zip bomb"),
    ],
)
def test_unsafe_or_foreign_zips_are_refused(
    as_user: Callable[[str], TestClient],
    tmp_path: Path,
    entries: dict[str, bytes],
    link: str | None,
    message: str,
) -> None:
    client = as_user("physicist")
    answer = _upload(client, b"opensirt_case: 1\n", _zip(entries, link=link))
    assert answer.status_code == 422, answer.text  # type: ignore[attr-defined]
    assert message in answer.json()["detail"]  # type: ignore[attr-defined]
    jobs = tmp_path / "cache" / "jobs"
    assert not list(tmp_path.rglob("evil.dcm"))
    assert not jobs.exists() or not any(p.is_file() for p in jobs.rglob("*"))


def test_not_a_zip_and_oversized(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_upload_bytes=10_000)) as client:
        login(client, "physicist")
        answer = _upload(client, b"opensirt_case: 1\n", b"PK not really")
        assert answer.status_code == 422  # type: ignore[attr-defined]
        assert "not a zip" in answer.json()["detail"]  # type: ignore[attr-defined]
        big = _upload(client, b"opensirt_case: 1\n", b"\0" * 20_000)
        assert big.status_code == 413  # type: ignore[attr-defined]


def test_a_job_left_running_fails_at_the_next_start(
    filled: Registry, make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    from opensirt.registry.models_jobs import Job

    with filled.transaction(actor="test") as session:
        session.add(
            Job(id="a" * 32, kind="plan", state="running", created_by="physicist",
                created_at=dt.datetime.now(dt.UTC), folder=str(tmp_path))
        )  # fmt: skip
    with TestClient(make_app()) as client:
        login(client, "viewer")
        job = client.get(f"/api/jobs/{'a' * 32}").json()
        assert job["state"] == "failed"
        assert job["error"] == INTERRUPTED
        assert client.get("/api/jobs/unknown").status_code == 404


@pytest.mark.slow
def test_plan_job_from_uploaded_dicom(
    filled: Registry, as_user: Callable[[str], TestClient], small_study: Path
) -> None:
    from opensirt.registry.records import PatientIn
    from opensirt.registry.writer import add_patient

    with filled.transaction(actor="test") as session:
        add_patient(
            session,
            PatientIn(patient="DEMO-001", sex="male", birth_year=1958, diagnosis="hcc",
                      diagnosis_date=dt.date(2025, 1, 1)),
        )  # fmt: skip
    files = {
        f"dicom/{p.relative_to(small_study / 'dicom').as_posix()}": p.read_bytes()
        for p in (small_study / "dicom").rglob("*")
        if p.is_file()
    }
    client = as_user("physicist")
    answer = _upload(client, (small_study / "case.yaml").read_bytes(), _zip(files))
    assert answer.status_code == 202, answer.text  # type: ignore[attr-defined]
    job_id = answer.json()["job_id"]  # type: ignore[attr-defined]
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] in ("queued", "running", "done")
    for _ in range(600):
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["state"] == "done", job["error"]
    plan = client.get(f"/api/plans/{job['result']['plan_version']}").json()
    assert plan["state"] == "draft"
    assert plan["created_by"] == "physicist"
    assert client.get(f"/api/plans/{plan['id']}/report.pdf").status_code == 200


def _verify(client: TestClient, dicom: bytes, **fields: object) -> object:
    files: dict[str, tuple[str, bytes]] = {"dicom": ("dicom.zip", dicom)}
    case = fields.pop("case", None)
    if isinstance(case, bytes):
        files["case"] = ("case.yaml", case)
    return client.post("/api/jobs/verify", files=files, data=fields)


def test_verify_job_input_checks(make_app: Callable[..., FastAPI], tmp_path: Path) -> None:
    with TestClient(make_app(max_upload_bytes=10_000)) as client:
        login(client, "physicist")
        dicom = _zip({"ct/1.dcm": DICOM_BYTES})
        neither = _verify(client, dicom)
        assert neither.status_code == 422  # type: ignore[attr-defined]
        assert neither.json()["detail"][0]["field"] == "case"  # type: ignore[attr-defined]
        both = _verify(client, dicom, case=b"opensirt_case: 1\n", plan_version="1")
        assert both.status_code == 422  # type: ignore[attr-defined]
        unknown = _verify(client, dicom, plan_version="999")
        assert unknown.status_code == 404  # type: ignore[attr-defined]
        bad = _verify(client, dicom, case=b"x", tolerance="2")
        assert bad.status_code == 422  # type: ignore[attr-defined]
        assert bad.json()["detail"][0]["field"] == "tolerance"  # type: ignore[attr-defined]
        unsafe = _verify(client, _zip({"../evil.dcm": DICOM_BYTES}), case=b"opensirt_case: 1\n")
        assert unsafe.status_code == 422  # type: ignore[attr-defined]
        assert "absolute path or '..'" in unsafe.json()["detail"]  # type: ignore[attr-defined]
        big = _verify(client, b"\0" * 20_000, case=b"opensirt_case: 1\n")
        assert big.status_code == 413  # type: ignore[attr-defined]
        login(client, "physician")
        assert _verify(client, dicom, case=b"x").status_code == 403  # type: ignore[attr-defined]
    assert not list(tmp_path.rglob("evil.dcm"))


def _demo_patient_and_zip(registry: Registry, small_study: Path) -> bytes:
    """The small study's patient in the registry; the zip of its DICOM (work-up and PET)."""
    from opensirt.registry.records import PatientIn
    from opensirt.registry.writer import add_patient

    with registry.transaction(actor="test") as session:
        add_patient(
            session,
            PatientIn(patient="DEMO-001", sex="male", birth_year=1958, diagnosis="hcc",
                      diagnosis_date=dt.date(2025, 1, 1)),
        )  # fmt: skip
    return _zip(
        {
            f"dicom/{p.relative_to(small_study / 'dicom').as_posix()}": p.read_bytes()
            for p in (small_study / "dicom").rglob("*")
            if p.is_file()
        }
    )


def _finished(client: TestClient, answer: object) -> dict[str, object]:
    assert answer.status_code == 202, answer.text  # type: ignore[attr-defined]
    job_id = answer.json()["job_id"]  # type: ignore[attr-defined]
    for _ in range(900):
        job: dict[str, object] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["state"] == "done", job["error"]
    return job


@pytest.mark.slow
def test_verify_job_from_uploaded_dicom(
    filled: Registry, as_user: Callable[[str], TestClient], small_study: Path
) -> None:
    dicom = _demo_patient_and_zip(filled, small_study)
    client = as_user("physicist")
    job = _finished(client, _verify(client, dicom, case=(small_study / "case.yaml").read_bytes()))
    assert job["kind"] == "verify"
    assert job["progress"] == 1.0
    result = job["result"]
    assert isinstance(result, dict)
    found = client.get(f"/api/verifications/{result['verification']}").json()
    assert found["patient"] == "DEMO-001"
    assert found["session_id"] is not None  # linked to the session delivering that plan
    assert found["structures"]
    history = client.get(
        "/api/audit", params={"entity": "verifications", "key": str(found["id"])}
    ).json()
    assert {e["actor"] for e in history["entries"]} == {"physicist"}


@pytest.mark.slow
def test_verify_job_of_a_recorded_plan_version(
    filled: Registry, as_user: Callable[[str], TestClient], small_study: Path
) -> None:
    from opensirt.registry import store

    dicom = _demo_patient_and_zip(filled, small_study)
    with filled.transaction(actor="test") as session:
        version = store.add_plan_version(
            session,
            store.get_patient(session, "DEMO-001"),
            "whole liver",
            date=dt.date(2025, 2, 1),
            case_yaml=(small_study / "case.yaml").read_text(),
            result_json="{}",
            method="voxel",
            device="sir-spheres",
            activity_gbq=1.2,
            tumour_dose_gy=120.0,
            normal_liver_dose_gy=30.0,
            lung_dose_gy=5.0,
            limits=[],
            input_fingerprint="0" * 64,
            created_by="physicist",
        )
        store.sign_plan_version(session, version, "physicist", "physicist")
        store.sign_plan_version(session, version, "physician", "physician")
        version_id = version.id
    client = as_user("physicist")
    job = _finished(client, _verify(client, dicom, plan_version=str(version_id)))
    result = job["result"]
    assert isinstance(result, dict)
    found = client.get(f"/api/verifications/{result['verification']}").json()
    assert found["patient"] == "DEMO-001"
    assert found["session_id"] is not None  # linked to the session delivering that plan
