"""Sites (``opensirt serve --sites``): a user of site A gets 404 on every patient route of a
site-B patient, answered as for an unknown one; lists hold only the user's site; an admin
and an all-sites user see every site; without sites nothing is scoped. The routes are
enumerated from the application, so a new route with a path parameter is tried too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from opensirt.registry.database import Registry
from service_helpers import PASSWORD, PATIENT, add_plan_version, login, write_plan_files

#: The routes whose path parameter names no patient's data: users (admins manage them all).
NOT_PATIENT_DATA = {"user_name"}
#: A valid body of the routes that change something (so the answer is not a 422).
BODIES = {
    "/api/plans/{version_id}/sign": {"role": "physicist", "row_version": 1},
    "/api/patients/{pseudonym}/records/{kind}": {
        "date": "2025-02-10", "term": "fatigue", "grade": 1, "attribution": "possible"
    },
}  # fmt: skip


@dataclass(frozen=True)
class SiteB:
    """The ids of site B's patient and its records."""

    pseudonym: str
    version_id: int
    verification_id: int
    job_id: str

    def values(self) -> dict[str, str]:
        """Path parameter values naming site B's records."""
        return {
            "pseudonym": self.pseudonym,
            "version_id": str(self.version_id),
            "verification_id": str(self.verification_id),
            "job_id": self.job_id,
            "kind": "adverse-event",
        }


#: Path parameter values naming nothing in the registry.
UNKNOWN = {
    "pseudonym": "NOBODY-9",
    "version_id": "999999",
    "verification_id": "999999",
    "job_id": "f" * 32,
    "kind": "adverse-event",
}


def _patient(session: object, pseudonym: str, site: str | None) -> object:
    from opensirt.registry.records import PatientIn
    from opensirt.registry.writer import add_patient

    record = PatientIn(patient=pseudonym, sex="male", birth_year=1955, diagnosis="hcc",
                       diagnosis_date=dt.date(2025, 1, 5), site=site)  # fmt: skip
    return add_patient(session, record)  # type: ignore[arg-type]


def _records_of_b(session: object, tmp_path: Path) -> SiteB:
    """Site B's patient with a plan version (and its report), a verification and a job."""
    from opensirt.registry.models import Verification
    from opensirt.registry.models_jobs import Job

    patient = _patient(session, "SITE-B-01", "B")
    paths = write_plan_files(tmp_path)
    version = add_plan_version(session, patient, "whole liver", "physicist-b", **paths)
    verification = Verification(patient_id=patient.id, date=dt.date(2025, 3, 1),  # type: ignore[attr-defined]
                                modality="y90-pet", result_json="{}")  # fmt: skip
    job = Job(id="b" * 32, kind="plan", state="done", created_by="physicist-b",
              created_at=dt.datetime.now(dt.UTC), folder=str(tmp_path), site="B")  # fmt: skip
    session.add_all([verification, job])  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return SiteB("SITE-B-01", version.id, verification.id, job.id)


@pytest.fixture
def site_b(filled: Registry, tmp_path: Path) -> SiteB:
    """Patients of sites A and B (B's with records), and users of A, B and every site."""
    from opensirt.registry.users import add_user

    with filled.transaction(actor="test") as session:
        for name, role, site in (
            ("physicist-a", "physicist", "A"),
            ("nurse-a", "nurse", "A"),
            ("physicist-b", "physicist", "B"),
            ("roaming", "physicist", "*"),
        ):
            add_user(session, name, role, PASSWORD, site)
        _patient(session, "SITE-A-01", "A")
        _patient(session, "SITE-A-02", "A")
        return _records_of_b(session, tmp_path)


@pytest.fixture
def sites_client(make_app: Callable[..., FastAPI], site_b: SiteB) -> Iterator[TestClient]:
    """A client of the service with sites on, logged in as nobody."""
    with TestClient(make_app(sites=True)) as client:
        yield client


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every route with a path parameter naming patient data."""
    found = []
    for template, operations in app.openapi()["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", template))
        if names and not names & NOT_PATIENT_DATA:
            found.extend((method.upper(), template) for method in sorted(operations))
    return found


def _call(client: TestClient, method: str, template: str, values: dict[str, str]) -> object:
    path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
    return client.request(method, path, json=BODIES.get(template, {}))


def _detail(response: object, values: dict[str, str]) -> str:
    """The 404 message with the ids named in it blanked, to compare two answers."""
    text = str(response.json()["detail"])  # type: ignore[attr-defined]
    for name, value in values.items():
        if name != "kind":
            text = text.replace(value, "ID")
    return text


def test_another_sites_patient_is_unknown_on_every_route(
    sites_client: TestClient, site_b: SiteB
) -> None:
    routes = _routes(sites_client.app)  # type: ignore[arg-type]
    assert len(routes) >= 10
    assert ("POST", "/api/plans/{version_id}/sign") in routes
    assert ("GET", "/api/jobs/{job_id}") in routes
    login(sites_client, "physicist-a")
    for method, template in routes:
        answer = _call(sites_client, method, template, site_b.values())
        assert answer.status_code == 404, (method, template, answer.text)  # type: ignore[attr-defined]
        unknown = _call(sites_client, method, template, UNKNOWN)
        assert unknown.status_code == 404, (method, template, unknown.text)  # type: ignore[attr-defined]
        assert _detail(answer, site_b.values()) == _detail(unknown, UNKNOWN), template


@pytest.mark.parametrize("user", ["physicist-b", "roaming", "admin"])
def test_the_sites_own_users_and_admins_read_it(
    sites_client: TestClient, site_b: SiteB, user: str
) -> None:
    """The same routes answer (the 404s above are the scoping, not missing records)."""
    login(sites_client, user)
    for method, template in _routes(sites_client.app):  # type: ignore[arg-type]
        if method != "GET" or "/volumes/" in template:  # volumes: no images in this test
            continue
        answer = _call(sites_client, method, template, site_b.values())
        assert answer.status_code == 200, (user, template, answer.text)  # type: ignore[attr-defined]


def _listed(client: TestClient, **params: str) -> set[str]:
    page = client.get("/api/patients", params={"limit": "500", **params}).json()
    pseudonyms = {row["pseudonym"] for row in page["patients"]}
    assert page["total"] == len(pseudonyms)
    return pseudonyms


def test_lists_hold_only_the_users_site(sites_client: TestClient, site_b: SiteB) -> None:
    every = {PATIENT, "SITE-A-01", "SITE-A-02", site_b.pseudonym}
    login(sites_client, "nurse-a")
    assert _listed(sites_client) == {"SITE-A-01", "SITE-A-02"}
    assert _listed(sites_client, q="SITE") == {"SITE-A-01", "SITE-A-02"}
    assert _listed(sites_client, q="B-01") == set()
    login(sites_client, "physicist-b")
    assert _listed(sites_client) == {site_b.pseudonym}
    login(sites_client, "nurse")  # a user without a site sees no patient
    assert _listed(sites_client) == set()
    for user in ("admin", "roaming"):
        login(sites_client, user)
        assert _listed(sites_client) == every


def test_audit_history_and_records_stay_within_the_site(
    sites_client: TestClient, site_b: SiteB
) -> None:
    login(sites_client, "nurse-a")
    for entity, key in (("patients", site_b.pseudonym), ("plan_versions", str(site_b.version_id))):
        shown = sites_client.get("/api/audit", params={"entity": entity, "key": key})
        assert shown.json()["entries"] == [], entity
    assert (
        sites_client.get("/api/audit", params={"entity": "users", "key": "admin"}).json()["entries"]
        == []
    )
    event = BODIES["/api/patients/{pseudonym}/records/{kind}"]
    added = sites_client.post("/api/patients/SITE-A-01/records/adverse-event", json=event)
    assert added.status_code == 201, added.text
    history = sites_client.get("/api/audit", params={"entity": "patients", "key": "SITE-A-01"})
    assert history.json()["entries"]
    login(sites_client, "admin")
    shown = sites_client.get("/api/audit", params={"entity": "patients", "key": site_b.pseudonym})
    assert shown.json()["entries"]


def test_a_job_of_a_verified_plan_of_another_site_is_refused(
    sites_client: TestClient, site_b: SiteB
) -> None:
    login(sites_client, "physicist-a")
    files = {"dicom": ("dicom.zip", b"PK")}
    answer = sites_client.post(
        "/api/jobs/verify", files=files, data={"plan_version": str(site_b.version_id)}
    )
    assert answer.status_code == 404, answer.text


def test_without_sites_nothing_is_scoped(client: TestClient, site_b: SiteB) -> None:
    login(client, "nurse-a")
    assert {PATIENT, site_b.pseudonym} <= _listed(client)
    assert client.get(f"/api/patients/{site_b.pseudonym}/timeline").status_code == 200


def test_admins_add_users_with_a_site(sites_client: TestClient) -> None:
    login(sites_client, "admin")
    body = {"user_name": "dora", "role": "nurse", "password": PASSWORD, "site": "A"}
    added = sites_client.post("/api/users", json=body)
    assert added.status_code == 201, added.text
    assert added.json()["site"] == "A"
    bad = sites_client.post("/api/users", json={**body, "user_name": "ed", "site": "A B"})
    assert bad.status_code == 422
    assert "site 'A B' is not allowed" in bad.text
    login(sites_client, "dora")
    assert _listed(sites_client) == {"SITE-A-01", "SITE-A-02"}


def test_a_job_on_another_sites_patient_fails_as_for_an_unknown_one(
    filled: Registry, tmp_path: Path
) -> None:
    import shutil
    import time

    from opensirt.api.jobs import JobRunner
    from opensirt.api.settings import Settings
    from opensirt.registry.models_jobs import Job

    example = Path(__file__).parents[2] / "examples" / "bsa_resin.yaml"  # patient EX-BSA-01
    runner = JobRunner(filled, Settings(db=None, cache_dir=tmp_path / "cache", sites=True))
    with filled.transaction(actor="test") as session:
        _patient(session, "EX-BSA-01", "B")
        for job_id in ("1" * 32, "2" * 32):
            session.add(Job(id=job_id, kind="plan", state="queued", created_by="physicist-a",
                            created_at=dt.datetime.now(dt.UTC), folder="", site="A"))  # fmt: skip
            (runner.folder / job_id).mkdir(parents=True)
            shutil.copy(example, runner.folder / job_id / "case.yaml")
    (runner.folder / ("2" * 32) / "case.yaml").write_text(
        example.read_text().replace("EX-BSA-01", "EX-NONE-01")
    )
    for job_id in ("1" * 32, "2" * 32):
        runner.submit(job_id, "physicist-a", "plan", (), "A")
    errors = {}
    for _ in range(300):
        with filled.transaction(readonly=True) as session:
            jobs = {job_id: session.get(Job, job_id) for job_id in ("1" * 32, "2" * 32)}
        if all(job is not None and job.state == "failed" for job in jobs.values()):
            errors = {k: str(v.error) for k, v in jobs.items() if v is not None}
            break
        time.sleep(0.1)
    assert errors, "the jobs did not fail"
    assert "is not in the registry" in errors["1" * 32]
    assert errors["1" * 32].replace("EX-BSA-01", "X") == errors["2" * 32].replace("EX-NONE-01", "X")
