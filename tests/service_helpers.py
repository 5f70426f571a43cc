"""Helpers of the web service's tests (tests/api): the test users and logging in."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
