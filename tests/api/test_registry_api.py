"""The registry endpoints on a real registry: list, timeline, records, plans and sign-off,
downloads, the bundle; hostile input stored as data and returned JSON-escaped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from opensirt.registry.database import Registry
from service_helpers import PATIENT, add_plan_version, login, write_plan_files

SCRIPT = '<script>alert("x")</script>'
INJECTION = "x'; DROP TABLE patients; --"


def _plan(registry: Registry, tmp_path: Path, files: bool = True) -> int:
    """A draft plan version of the test patient, with a report and RT Dose (and its DVH table
    and dose NIfTI beside it, as the plan writer names them)."""
    from opensirt.registry import store

    folder = tmp_path / "plan"
    folder.mkdir(exist_ok=True)
    paths = write_plan_files(folder) if files else {}
    with registry.transaction(actor="test") as session:
        patient = store.get_patient(session, PATIENT)
        version = add_plan_version(session, patient, "right lobe", "physicist", **paths)
        return int(version.id)


def test_patient_list_search_and_filters(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("viewer")
    page = client.get("/api/patients").json()
    assert page["total"] == 1
    assert page["patients"][0]["pseudonym"] == PATIENT
    assert client.get("/api/patients", params={"q": "pi-00"}).json()["total"] == 1
    assert client.get("/api/patients", params={"q": "%"}).json()["total"] == 0
    assert client.get("/api/patients", params={"q": INJECTION}).json()["total"] == 0
    assert client.get("/api/patients", params={"diagnosis": "crc"}).json()["total"] == 0
    assert client.get("/api/patients", params={"status": "alive"}).json()["total"] == 1
    assert client.get("/api/patients", params={"status": "dead"}).json()["total"] == 0
    assert client.get("/api/patients", params={"from": "2025-01-11"}).json()["total"] == 0
    assert client.get("/api/patients", params={"to": "2025-01-10"}).json()["total"] == 1
    bad = client.get("/api/patients", params={"diagnosis": "flu", "limit": 0})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["detail"]} == {"diagnosis", "limit"}
    # the injection string changed nothing
    assert client.get("/api/patients").json()["total"] == 1


def test_timeline_and_unknown_patient(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("viewer")
    body = client.get(f"/api/patients/{PATIENT}/timeline").json()
    assert body["format"] == 1
    assert body["patient"]["pseudonym"] == PATIENT
    missing = client.get("/api/patients/NOBODY/timeline")
    assert missing.status_code == 404
    assert "NOBODY" in missing.json()["detail"]


def test_record_with_script_is_stored_as_text_and_on_record(
    as_user: Callable[[str], TestClient],
) -> None:
    client = as_user("nurse")
    event = {"date": "2025-02-10", "term": SCRIPT, "grade": 2, "attribution": "possible"}
    answer = client.post(f"/api/patients/{PATIENT}/records/adverse-event", json=event)
    assert answer.status_code == 201, answer.text
    response = client.get(f"/api/patients/{PATIENT}/timeline")
    assert response.headers["content-type"] == "application/json"
    entry = next(e for e in response.json()["entries"] if e["kind"] == "adverse-event")
    assert SCRIPT in json.dumps(entry["details"]) or SCRIPT in entry["summary"]
    history = client.get(
        "/api/audit", params={"entity": "adverse_events", "key": str(answer.json()["id"])}
    ).json()["entries"]
    assert [e["actor"] for e in history] == ["nurse"]


def test_record_errors_name_the_fields(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("nurse")
    url = f"/api/patients/{PATIENT}/records/adverse-event"
    answer = client.post(url, json={"date": "2025-02-10", "grade": 9, "colour": "red"})
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.json()["detail"]}
    assert fields == {"term", "grade", "attribution", "colour"}
    other = client.post(url, json={"patient": "SOMEONE-ELSE", "date": "2025-02-10"})
    assert other.status_code == 422
    assert other.json()["detail"][0]["field"] == "patient"
    malformed = client.post(url, content="{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    # a date before the diagnosis: the registry's rule, as a message
    early = {"date": "2024-01-01", "term": "Fatigue", "grade": 1, "attribution": "unlikely"}
    refused = client.post(url, json=early)
    assert refused.status_code == 422
    assert "2024-01-01" in refused.json()["detail"]
    assert client.post(f"/api/patients/{PATIENT}/records/patient", json={}).status_code == 422


def test_sign_off_two_people_conflict_and_same_user(
    client: TestClient, filled: Registry, tmp_path: Path
) -> None:
    version_id = _plan(filled, tmp_path)
    login(client, "physicist")
    plan = client.get(f"/api/plans/{version_id}").json()
    assert plan["state"] == "draft"
    assert plan["signatures"] == []
    seen = plan["row_version"]
    signed = client.post(
        f"/api/plans/{version_id}/sign", json={"role": "physicist", "row_version": seen}
    )
    assert signed.status_code == 200, signed.text
    assert [s["user_name"] for s in signed.json()["signatures"]] == ["physicist"]
    now = signed.json()["row_version"]
    again = client.post(
        f"/api/plans/{version_id}/sign", json={"role": "physicist", "row_version": now}
    )
    assert again.status_code == 422
    assert "signed as physicist already" in again.json()["detail"]
    wrong_role = client.post(
        f"/api/plans/{version_id}/sign", json={"role": "physician", "row_version": now}
    )
    assert wrong_role.status_code == 403
    login(client, "physician")
    stale = client.post(
        f"/api/plans/{version_id}/sign", json={"role": "physician", "row_version": seen}
    )
    assert stale.status_code == 409
    assert "reload" in stale.json()["detail"]
    approved = client.post(
        f"/api/plans/{version_id}/sign", json={"role": "physician", "row_version": now}
    )
    assert approved.status_code == 200
    assert approved.json()["state"] == "approved"
    history = client.get("/api/audit", params={"entity": "users", "key": "physician"}).json()
    assert [e["action"] for e in history["entries"]][-1] == "login"


def test_downloads_only_recorded_files(
    as_user: Callable[[str], TestClient], filled: Registry, tmp_path: Path
) -> None:
    version_id = _plan(filled, tmp_path)
    client = as_user("viewer")
    plan = client.get(f"/api/plans/{version_id}").json()
    assert set(plan["downloads"]) == {"report.pdf", "rtdose.dcm", "dvh.csv"}
    pdf = client.get(f"/api/plans/{version_id}/report.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert client.get(f"/api/plans/{version_id}/dvh.csv").text.startswith("structure")
    assert client.get(f"/api/plans/{version_id}/volumes/dose.nii.gz").content == b"nifti"
    (tmp_path / "plan" / "plan.pdf").unlink()
    assert client.get(f"/api/plans/{version_id}/report.pdf").status_code == 404
    assert client.get("/api/plans/999999/report.pdf").status_code == 404
    # a path in the URL is no file name: never served
    assert client.get(f"/api/plans/{version_id}/..%2f..%2fetc%2fpasswd").status_code == 404


def test_bundle_export_is_on_record(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("viewer")
    answer = client.get(f"/api/patients/{PATIENT}/export")
    assert answer.status_code == 200
    assert answer.json()["patient"]["patient"] == PATIENT
    assert "attachment" in answer.headers["content-disposition"]
    history = client.get("/api/audit", params={"entity": "patients", "key": PATIENT}).json()
    assert "export" in [e["action"] for e in history["entries"]]


def test_oversized_request_is_413(make_app: Callable[..., object]) -> None:
    with TestClient(make_app(max_upload_bytes=1000)) as client:  # type: ignore[arg-type]
        login(client, "nurse")
        answer = client.post(f"/api/patients/{PATIENT}/records/adverse-event", content=b"x" * 5000)
        assert answer.status_code == 413
        assert "1000 bytes" in answer.json()["detail"]


@pytest.mark.parametrize("path", ["/api/verifications/12345", "/api/plans/12345"])
def test_unknown_ids_are_404(as_user: Callable[[str], TestClient], path: str) -> None:
    assert as_user("viewer").get(path).status_code == 404


def test_viewer_volumes_from_the_case_images(small_study: Path, tmp_path: Path) -> None:
    import nibabel as nib

    from opensirt.api.volumes import build_volumes

    text = (small_study / "case.yaml").read_text()
    build_volumes(text, small_study, tmp_path / "volumes")
    legend = json.loads((tmp_path / "volumes" / "labels.json").read_text())
    names = {entry["name"] for entry in legend.values()}
    assert {"Liver", "Lungs"} <= names
    ct = nib.load(tmp_path / "volumes" / "ct.nii.gz")
    labels = nib.load(tmp_path / "volumes" / "labels.nii.gz")
    assert ct.shape == labels.shape
    values = set(np.unique(np.asarray(labels.dataobj)).tolist())
    assert values <= {0, *map(int, legend)}
    # the smallest structures (the tumours) lie on top: each keeps its label
    smallest = max(map(int, legend))
    assert smallest in values
    assert legend[str(smallest)]["name"].startswith("T")


def test_viewer_volumes_without_images_are_404(
    as_user: Callable[[str], TestClient], filled: Registry, tmp_path: Path
) -> None:
    version_id = _plan(filled, tmp_path, files=False)
    answer = as_user("viewer").get(f"/api/plans/{version_id}/volumes/ct.nii.gz")
    assert answer.status_code == 404
    assert "not planned from images" in answer.json()["detail"]


def test_injection_strings_in_paths_and_queries_are_data(
    as_user: Callable[[str], TestClient],
) -> None:
    client = as_user("nurse")
    quoted = "x' OR '1'='1"
    assert client.get(f"/api/patients/{quoted}/timeline").status_code == 404
    assert client.get(f"/api/patients/{quoted}/export").status_code == 404
    answer = client.get("/api/audit", params={"entity": INJECTION, "key": quoted})
    assert answer.status_code == 200
    assert answer.json()["entries"] == []
    death = {"date": "2025-03-01", "kind": "death", "cause": SCRIPT}
    recorded = client.post(f"/api/patients/{PATIENT}/records/outcome", json=death)
    assert recorded.status_code == 201, recorded.text
    assert SCRIPT in client.get(f"/api/patients/{PATIENT}/timeline").text.replace("\\", "")
    assert client.get("/api/patients").json()["total"] == 1
