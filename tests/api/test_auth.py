"""Sessions: login, logout, /api/me, CSRF, the login limit, expiry, disabled users."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service_helpers import PASSWORD, login


def _history(client: TestClient, user: str) -> list[str]:
    answer = client.get("/api/audit", params={"entity": "users", "key": user})
    assert answer.status_code == 200, answer.text
    return [entry["action"] for entry in answer.json()["entries"]]


def test_login_me_logout_on_record(client: TestClient) -> None:
    assert client.get("/api/me").status_code == 401
    response = client.post("/api/login", json={"user_name": "nurse", "password": PASSWORD})
    assert response.status_code == 200
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("opensirt_session="))
    assert "HttpOnly" in session
    assert "SameSite=strict" in session
    assert "Secure" not in session
    token = response.json()["csrf_token"]
    me = client.get("/api/me").json()
    assert me == {"user_name": "nurse", "role": "nurse", "csrf_token": token}
    # logout is a change: without the CSRF header it is refused
    assert client.post("/api/logout").status_code == 403
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/me").status_code == 401
    login(client, "viewer")
    assert _history(client, "nurse") == ["insert", "login", "logout"]


def test_wrong_password_is_401_on_record_and_never_echoed(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "not-the-password-1234"
    response = client.post("/api/login", json={"user_name": "nurse", "password": secret})
    assert response.status_code == 401
    assert secret not in response.text
    assert (
        client.post("/api/login", data={"user_name": "ghost", "password": secret}).status_code
        == 401
    )
    login(client, "admin")
    assert _history(client, "nurse") == ["insert", "login-failed"]
    assert _history(client, "ghost") == ["login-failed"]
    assert secret not in caplog.text
    assert PASSWORD not in caplog.text
    for entry in client.get("/api/audit", params={"entity": "users", "key": "nurse"}).json()[
        "entries"
    ]:
        assert secret not in str(entry)


def test_secure_cookie_setting(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(secure_cookie=True), base_url="https://testserver") as client:
        response = client.post("/api/login", json={"user_name": "nurse", "password": PASSWORD})
        assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_login_rate_limit_per_user_and_per_address(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(login_max_failures=3)) as client:
        for _ in range(3):
            wrong = {"user_name": "physician", "password": "wrong password!"}
            assert client.post("/api/login", json=wrong).status_code == 401
        # the right password does not help now
        right = client.post("/api/login", json={"user_name": "physician", "password": PASSWORD})
        assert right.status_code == 429
        assert int(right.headers["Retry-After"]) > 0
        # the same address for another user: also refused (the address's own count)
        other = client.post("/api/login", json={"user_name": "nurse", "password": PASSWORD})
        assert other.status_code == 429


def test_session_expires_when_idle(make_app: Callable[..., FastAPI]) -> None:
    with TestClient(make_app(session_idle_s=-1.0)) as client:
        login(client, "nurse")
        assert client.get("/api/me").status_code == 401


def test_disabled_user_loses_the_session(client: TestClient, filled: object) -> None:
    from opensirt.registry.users import set_active

    login(client, "nurse")
    with filled.transaction(actor="admin") as session:  # type: ignore[attr-defined]
        set_active(session, "nurse", False)
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize(
    "body",
    ['{"user_name": "nurse", "password": ', '{"user_name": "nurse"}', "[1, 2]"],
)
def test_malformed_login_is_422(client: TestClient, body: str) -> None:
    response = client.post("/api/login", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/api/me"), client.get("/api/openapi.json"), client.get("/")):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert (
            "unsafe-inline"
            not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
        )
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
