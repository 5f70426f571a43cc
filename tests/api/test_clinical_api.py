"""``POST /api/assess`` and ``POST /api/response``: the JSON of the commands, the roles, the
limits; bad input answered 422 (field by field where the case's keys are wrong), oversized
413, and ``record=true`` writing through the registry by the session's user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from opensirt.cli import app as cli_app
from opensirt.registry.database import Registry
from service_helpers import PATIENT, login

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASE = EXAMPLES / "assess_partition_resin.yaml"
TABLE = EXAMPLES / "response_measurements.csv"


def _cli_json(*args: str) -> object:
    import json

    result = CliRunner().invoke(cli_app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_assess_upload_and_json_body_answer_what_the_command_prints(
    as_user: Callable[[str], TestClient],
) -> None:
    client = as_user("physician")
    expected = _cli_json("assess", str(CASE))
    uploaded = client.post("/api/assess", files={"case": (CASE.name, CASE.read_bytes())})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == expected
    body = yaml.safe_load(CASE.read_text())
    as_json = client.post("/api/assess", json=body)
    assert as_json.status_code == 200, as_json.text
    assert as_json.json() == expected


def test_assess_bad_cases(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("physicist")
    body = yaml.safe_load(CASE.read_text())
    body["patient"]["weight_kg"] = "heavy"
    body["no_such_key"] = 1
    answer = client.post("/api/assess", json=body)
    assert answer.status_code == 422
    fields = {p["field"]: p["message"] for p in answer.json()["detail"]}
    assert "patient.weight_kg" in fields
    assert "no_such_key" in fields
    broken = client.post("/api/assess", files={"case": ("c.yaml", b"patient: [unclosed")})
    assert broken.status_code == 422
    assert "c.yaml: not valid YAML" in broken.json()["detail"]
    latin = client.post(
        "/api/assess", files={"case": ("c.yaml", "name: M\xfcller".encode("latin-1"))}
    )
    assert latin.status_code == 422
    assert "not valid UTF-8" in latin.json()["detail"]
    not_json = client.post(
        "/api/assess", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 422
    assert "not valid JSON" in not_json.json()["detail"]
    assert client.post("/api/assess", json=[1, 2]).status_code == 422
    missing = client.post("/api/assess", files={"other": ("c.yaml", b"x: 1")})
    assert missing.json()["detail"] == [
        {"field": "case", "message": "the case file is missing; upload it"}
    ]
    big = client.post("/api/assess", files={"case": ("c.yaml", b"#" * (2**20 + 1))})
    assert big.status_code == 413
    plain = client.post("/api/assess", content=b"x", headers={"content-type": "text/plain"})
    assert plain.status_code == 415


def test_assess_refuses_a_case_that_needs_its_images(
    as_user: Callable[[str], TestClient], small_study: Path
) -> None:
    client = as_user("physicist")
    answer = client.post(
        "/api/assess", files={"case": ("case.yaml", (small_study / "case.yaml").read_bytes())}
    )
    assert answer.status_code == 422, answer.text
    assert "/api/jobs/plan" in answer.json()["detail"]


@pytest.mark.parametrize(("user", "status"), [("nurse", 403), ("viewer", 403), ("admin", 403)])
def test_assess_roles(as_user: Callable[[str], TestClient], user: str, status: int) -> None:
    client = as_user(user)
    answer = client.post("/api/assess", files={"case": (CASE.name, CASE.read_bytes())})
    assert answer.status_code == status


def _table(patient: str = "DEMO-001") -> bytes:
    return TABLE.read_text().replace("DEMO-001", patient).encode()


def test_response_answers_what_the_command_prints(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("nurse")
    expected = _cli_json("response", str(TABLE), "--confirm")
    answer = client.post(
        "/api/response", files={"table": (TABLE.name, _table())}, data={"confirm": "true"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["patients"] == expected
    assert answer.json()["recorded"] is None


def test_response_bad_tables_and_options(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(max_upload_bytes=11 * 2**20)) as client:
        login(client, "physician")
        bad = _table().replace(b"2026-04-12", b"2026-13-12", 1)
        answer = client.post("/api/response", files={"table": ("m.csv", bad)})
        assert answer.status_code == 422
        assert "m.csv" in answer.json()["detail"]
        assert "2026-13-12" in answer.json()["detail"]
        option = client.post(
            "/api/response",
            files={"table": ("m.csv", _table())},
            data={"confirmation_days": "0"},
        )
        assert option.status_code == 422
        assert option.json()["detail"][0]["field"] == "confirmation_days"
        none = client.post("/api/response", data={"confirm": "true"})
        assert none.status_code == 422
        assert none.json()["detail"][0]["field"] == "table"
        big = client.post("/api/response", files={"table": ("m.csv", b"a" * (10 * 2**20 + 1))})
        assert big.status_code == 413
        huge = client.post("/api/response", files={"table": ("m.csv", b"a" * (12 * 2**20))})
        assert huge.status_code == 413


def test_response_record_writes_by_the_user(
    as_user: Callable[[str], TestClient], filled: Registry
) -> None:
    import sqlalchemy as sa

    from opensirt.registry.models_access import AuditEntry

    client = as_user("physician")
    answer = client.post(
        "/api/response", files={"table": ("m.csv", _table(PATIENT))}, data={"record": "true"}
    )
    assert answer.status_code == 200, answer.text
    recorded = answer.json()["recorded"]
    assert recorded["lesion_measurements"] > 0
    assert recorded["response_assessments"] > 0
    with filled.transaction(readonly=True) as session:
        entities = set(
            session.scalars(sa.select(AuditEntry.entity).where(AuditEntry.actor == "physician"))
        )
    assert "lesion_measurements" in entities
    unknown = client.post(
        "/api/response", files={"table": ("m.csv", _table("NOBODY-1"))}, data={"record": "true"}
    )
    assert unknown.status_code in (404, 422)
    assert "NOBODY-1" in unknown.text


def test_response_roles(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("viewer")
    answer = client.post("/api/response", files={"table": ("m.csv", _table())})
    assert answer.status_code == 403
