"""Sessions and failed logins in the registry: a restart keeps them, workers share them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from opensirt.api.security import LoginLimiter, SessionStore, csrf_token_of
from opensirt.registry.database import Registry, open_registry
from opensirt.registry.models_sessions import LoginFailure, WebSession
from opensirt.registry.vocabulary import UserRole
from service_helpers import login

START = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


def _rows(registry: Registry) -> list[tuple[str, dt.datetime, dt.datetime]]:
    query = sa.select(WebSession.user_name, WebSession.last_seen_at, WebSession.expires_at)
    with registry.transaction(readonly=True) as session:
        return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def test_a_session_survives_a_restart(
    make_app: Callable[..., FastAPI], filled: Registry, tmp_path: Path
) -> None:
    from opensirt.api.app import create_app
    from opensirt.api.settings import Settings

    with TestClient(make_app()) as first:
        csrf = login(first, "nurse")
        cookies = dict(first.cookies)
    filled.dispose()  # the old process's connections are gone
    reopened = open_registry(filled.engine.url.render_as_string(hide_password=False))
    try:
        app = create_app(Settings(db=None, cache_dir=tmp_path / "cache"), registry=reopened)
        with TestClient(app, cookies=cookies) as second:
            me = second.get("/api/me")
            assert me.status_code == 200, me.text
            assert me.json() == {"user_name": "nurse", "role": "nurse", "csrf_token": csrf}
            assert second.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
            assert second.get("/api/me").status_code == 401
    finally:
        reopened.dispose()


def test_only_hashes_are_stored_and_the_csrf_token_is_derived(filled: Registry) -> None:
    token, csrf = SessionStore(filled, idle_s=3600).open("nurse")
    assert csrf == csrf_token_of(token) != token
    with filled.transaction(readonly=True) as session:
        stored = session.scalars(sa.select(WebSession.token_sha256)).all()
    assert token not in stored
    assert csrf not in stored
    assert len(stored) == 1


def test_last_use_is_written_at_most_once_a_minute(filled: Registry) -> None:
    clock = Clock()
    store = SessionStore(filled, idle_s=3600, clock=clock)
    token, _ = store.open("physicist")
    clock.now = START + dt.timedelta(seconds=59)
    found = store.lookup(token)
    assert found is not None
    assert found.role == UserRole.PHYSICIST
    assert _rows(filled) == [("physicist", START, START + dt.timedelta(hours=1))]
    later = START + dt.timedelta(seconds=61)
    clock.now = later
    assert store.lookup(token) is not None
    assert _rows(filled) == [("physicist", later, later + dt.timedelta(hours=1))]
    # idle for the whole hour after the last written use: ended, and the row deleted
    clock.now = later + dt.timedelta(hours=1)
    assert store.lookup(token) is None
    assert _rows(filled) == []


def test_expired_sessions_are_purged(filled: Registry) -> None:
    clock = Clock()
    store = SessionStore(filled, idle_s=60, clock=clock)
    store.open("nurse")
    store.open("viewer")
    clock.now = START + dt.timedelta(minutes=5)
    store.purge()
    assert _rows(filled) == []
    store.open("nurse")
    clock.now = START + dt.timedelta(minutes=10)
    store.open("viewer")  # a login purges the expired ones too
    assert [row[0] for row in _rows(filled)] == ["viewer"]


def test_disabled_user_and_close_user(filled: Registry) -> None:
    from opensirt.registry.users import set_active

    store = SessionStore(filled, idle_s=3600)
    token, _ = store.open("nurse")
    other, _ = store.open("nurse")
    with filled.transaction(actor="admin") as session:
        set_active(session, "nurse", False)
    found = store.lookup(token)
    assert found is not None
    assert found.role is None  # the service then answers 401
    store.close_user("nurse")
    assert store.lookup(token) is None
    assert store.lookup(other) is None


def test_two_workers_share_the_login_limit(filled: Registry) -> None:
    clock = Clock()
    one, two = (LoginLimiter(filled, 3, 900, clock=clock) for _ in range(2))
    keys = ("user:nurse", "addr:10.0.0.1")
    one.failed(*keys)
    two.failed(*keys)
    assert one.retry_after_s(*keys) == two.retry_after_s(*keys) == 0
    one.failed("user:nurse")
    clock.now = START + dt.timedelta(seconds=100)
    assert two.retry_after_s(*keys) == 801
    assert two.retry_after_s("addr:10.0.0.1") == 0  # two failures only
    two.succeeded("user:nurse")
    assert one.retry_after_s(*keys) == 0
    # failures older than the window no longer count, and the next failure deletes them
    two.failed("addr:10.0.0.1")
    clock.now = START + dt.timedelta(seconds=1000)
    assert one.retry_after_s("addr:10.0.0.1") == 0
    one.failed("addr:10.0.0.2")
    with filled.transaction(readonly=True) as session:
        left = session.scalars(sa.select(LoginFailure.key)).all()
    assert left == ["addr:10.0.0.2"]
