"""A service killed with SIGKILL during a job: no committed record lost, the audit chain
intact, and the job shown as failed after the restart (never running forever)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from opensirt.registry.database import DB_ENV, Registry
from service_helpers import PASSWORD

_SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _zip_of(folder: Path) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in folder.rglob("*"):
            if path.is_file():
                archive.write(path, f"dicom/{path.relative_to(folder).as_posix()}")
    return buffer.getvalue()


@pytest.mark.slow
def test_sigkill_during_a_job(filled: Registry, small_study: Path, tmp_path: Path) -> None:
    from opensirt.api.app import create_app
    from opensirt.api.jobs import INTERRUPTED
    from opensirt.api.settings import Settings
    from opensirt.registry import audit
    from opensirt.registry.records import PatientIn
    from opensirt.registry.writer import add_patient

    with filled.transaction(actor="test") as session:
        add_patient(
            session,
            PatientIn(patient="DEMO-001", sex="male", birth_year=1958, diagnosis="hcc",
                      diagnosis_date=dt.date(2025, 1, 1)),
        )  # fmt: skip
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        DB_ENV: filled.url.render_as_string(hide_password=False),
        "PYTHONPATH": os.pathsep.join([_SRC, os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "opensirt", "serve", "--port", str(port),
               "--data", str(tmp_path / "cache")]  # fmt: skip
    # its own process group, killed whole (as systemd or a container stop kills the service
    # with the planning process it started)
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    client.get("/api/openapi.json")
                    break
                except httpx.TransportError:
                    assert server.poll() is None, server.stderr.read() if server.stderr else ""
                    time.sleep(0.1)
            me = client.post("/api/login", json={"user_name": "physicist", "password": PASSWORD})
            headers = {"X-CSRF-Token": me.json()["csrf_token"]}
            files = {
                "case": ("case.yaml", (small_study / "case.yaml").read_bytes()),
                "dicom": ("dicom.zip", _zip_of(small_study / "dicom")),
            }
            job_id = client.post("/api/jobs/plan", files=files, headers=headers).json()["job_id"]
            for _ in range(300):
                if client.get(f"/api/jobs/{job_id}").json()["state"] == "running":
                    break
                time.sleep(0.05)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # the restart
    create_app(Settings(db=None, cache_dir=tmp_path / "cache2"), registry=filled)
    with filled.transaction(readonly=True) as session:
        from opensirt.registry.models_jobs import Job

        job = session.get_one(Job, job_id)
        assert job.state == "failed"
        assert job.error == INTERRUPTED
        assert audit.verify(session) == []
        actions = [e.action for e in audit.history(session, "users", "physicist")]
        assert actions == ["insert", "login"]
