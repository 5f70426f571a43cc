"""``opensirt serve --workers 2``: every worker sees every session, and a restart keeps them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from opensirt.api.settings import SETTINGS_ENV, Settings
from opensirt.cli import app
from opensirt.registry.database import DB_ENV, open_registry
from opensirt.registry.users import add_user
from service_helpers import PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(db: Path, port: int, workers: int, data: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "opensirt", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--data", str(data)]
    env = {**os.environ, DB_ENV: str(db)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode() if process.stderr else "")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=1.0)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the service did not start within 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)


@pytest.mark.slow
def test_two_workers_share_sessions_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "registry.sqlite3"
    registry = open_registry(db, create=True)
    with registry.transaction(actor="test") as session:
        add_user(session, "admin", "admin", PASSWORD)
    registry.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _serve(db, port, 2, tmp_path / "data")
    try:
        login = httpx.post(f"{base}/api/login", json={"user_name": "admin", "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookies = login.cookies
        # new connections land on either worker: each must know the session
        answers = {httpx.get(f"{base}/api/me", cookies=cookies).status_code for _ in range(20)}
        assert answers == {200}
    finally:
        _stop(process)
    process = _serve(db, port, 1, tmp_path / "data")
    try:
        me = httpx.get(f"{base}/api/me", cookies=cookies)
        assert me.status_code == 200, me.text
        assert me.json()["user_name"] == "admin"
    finally:
        _stop(process)


@pytest.mark.slow
def test_two_workers_read_the_progress_of_a_job(tmp_path: Path) -> None:
    """The progress written by the worker running a job (here: a runner of this process) is
    what every worker answers."""
    import datetime as dt

    from opensirt.api.jobs import JobRunner
    from opensirt.registry.models_jobs import Job

    db = tmp_path / "registry.sqlite3"
    registry = open_registry(db, create=True)
    with registry.transaction(actor="test") as session:
        add_user(session, "viewer", "viewer", PASSWORD)
        add_user(session, "admin", "admin", PASSWORD)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = _serve(db, port, 2, tmp_path / "data")
    try:
        with registry.transaction(actor="physicist") as session:
            session.add(
                Job(id="d" * 32, kind="plan", state="running", created_by="physicist",
                    created_at=dt.datetime.now(dt.UTC), folder=str(tmp_path))
            )  # fmt: skip
        runner = JobRunner(registry, Settings(db=str(db), cache_dir=tmp_path / "data"))
        runner.record_progress("d" * 32, 0.375, "dose")
        login = httpx.post(f"{base}/api/login", json={"user_name": "viewer", "password": PASSWORD})
        jobs = [
            httpx.get(f"{base}/api/jobs/{'d' * 32}", cookies=login.cookies).json()
            for _ in range(10)
        ]
        assert {(j["state"], j["progress"], j["step"]) for j in jobs} == {
            ("running", 0.375, "dose")
        }
    finally:
        _stop(process)
        registry.dispose()


def test_settings_travel_to_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    settings = Settings(
        db="x.sqlite3", cache_dir=tmp_path, secure_cookie=True, login_window_s=60, sites=True
    )
    settings.to_environment()
    assert Settings.from_environment() == settings


def test_demo_serves_with_one_worker() -> None:
    result = CliRunner().invoke(app, ["serve", "--demo", "--workers", "2"])
    assert result.exit_code == 2
    assert "leave out --workers" in result.output
