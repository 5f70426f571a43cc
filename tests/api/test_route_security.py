"""Every API route: 401 without a session, 403 for a viewer on every change, 403 without the
CSRF token; the routes are enumerated from the application, so a new one is tried too."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service_helpers import PATIENT

#: Routes open without a session: logging in, and the API's schema.
PUBLIC = {("POST", "/api/login"), ("GET", "/api/openapi.json")}
#: Changes every logged-in user may make (their own session).
ANY_USER_CHANGES = {("POST", "/api/logout")}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path with its parameters filled in) of every route of the OpenAPI schema."""
    values = {"pseudonym": PATIENT, "kind": "adverse-event"}
    found = []
    for template, operations in app.openapi()["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), template)
        found.extend((method.upper(), path) for method in sorted(operations))
    found.append(("GET", "/api/openapi.json"))
    return found


def test_routes_are_enumerated(make_app: Callable[..., FastAPI]) -> None:
    routes = _routes(make_app())
    assert ("POST", "/api/plans/1/sign") in routes
    assert ("GET", "/api/plans/1/volumes/dose.nii.gz") in routes
    for new in ("/api/assess", "/api/response", "/api/jobs/verify", "/api/jobs/plan"):
        assert ("POST", new) in routes
    assert len(routes) >= 15


def test_every_route_needs_a_session(client: TestClient) -> None:
    for method, path in _routes(client.app):  # type: ignore[arg-type]
        if (method, path) in PUBLIC:
            continue
        response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)


def test_a_viewer_reads_but_changes_nothing(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("viewer")
    for method, path in _routes(client.app):  # type: ignore[arg-type]
        if method == "GET" or (method, path) in PUBLIC | ANY_USER_CHANGES:
            continue
        response = client.request(method, path, json={})
        assert response.status_code == 403, (method, path, response.text)


@pytest.mark.parametrize("header", [None, "wrong-token"])
def test_changes_need_the_csrf_token(
    as_user: Callable[[str], TestClient], header: str | None
) -> None:
    client = as_user("nurse")
    del client.headers["X-CSRF-Token"]
    headers = {} if header is None else {"X-CSRF-Token": header}
    for method, path in _routes(client.app):  # type: ignore[arg-type]
        if method == "GET" or (method, path) in PUBLIC:
            continue
        response = client.request(method, path, json={}, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert "CSRF" in response.json()["detail"]
