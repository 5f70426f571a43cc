"""User management over HTTP: admins only; no password ever in an answer."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from service_helpers import PASSWORD, login


def test_admin_adds_lists_and_disables(as_user: Callable[[str], TestClient]) -> None:
    client = as_user("admin")
    secret = "a new long password"
    added = client.post(
        "/api/users", json={"user_name": "carol", "role": "nurse", "password": secret}
    )
    assert added.status_code == 201, added.text
    assert added.json()["role"] == "nurse"
    listed = client.get("/api/users")
    assert "carol" in [u["user_name"] for u in listed.json()["users"]]
    assert secret not in listed.text
    assert "hash" not in listed.text
    short = client.post(
        "/api/users", json={"user_name": "dave", "role": "viewer", "password": "Tiny-pw9"}
    )
    assert short.status_code == 422
    assert "12" in short.json()["detail"]
    assert "Tiny-pw9" not in short.text


def test_disabling_ends_the_users_sessions(make_app: Callable[..., object]) -> None:
    app = make_app()
    with TestClient(app) as admin, TestClient(app) as nurse:  # type: ignore[arg-type]
        login(admin, "admin")
        login(nurse, "nurse", PASSWORD)
        assert nurse.get("/api/me").status_code == 200
        off = admin.post("/api/users/nurse/active", json={"active": False})
        assert off.status_code == 200
        assert off.json()["active"] is False
        assert nurse.get("/api/me").status_code == 401
        assert admin.post("/api/users/nobody/active", json={"active": True}).status_code == 422
