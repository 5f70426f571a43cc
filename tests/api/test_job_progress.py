"""A job's progress lives in its row: written by the service instance that runs the job, read
by any other on the same registry (the workers of ``opensirt serve --workers N``), without an
audit entry; an interrupted job is failed at the next start, its last progress kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from opensirt.api.jobs import INTERRUPTED
from opensirt.registry.database import Registry, open_registry
from service_helpers import login

JOB = "c" * 32


def _running_job(registry: Registry, folder: Path) -> None:
    from opensirt.registry.models_jobs import Job

    with registry.transaction(actor="physicist") as session:
        session.add(
            Job(id=JOB, kind="plan", state="running", created_by="physicist",
                created_at=dt.datetime.now(dt.UTC), folder=str(folder))
        )  # fmt: skip


def _audit_entries(registry: Registry) -> int:
    from opensirt.registry.models_access import AuditEntry

    with registry.transaction(readonly=True) as session:
        return session.scalar(sa.select(sa.func.count(AuditEntry.id))) or 0


def test_progress_written_by_one_instance_is_read_by_another(
    filled: Registry, make_app: Callable[..., FastAPI], tmp_path: Path
) -> None:
    from opensirt.api.app import create_app
    from opensirt.api.settings import Settings

    running = make_app()  # the instance whose worker thread runs the job
    _running_job(filled, tmp_path)
    # another worker process: its own engine on the same database
    other_registry = open_registry(filled.url.render_as_string(hide_password=False))
    try:
        other = create_app(
            Settings(db=None, cache_dir=tmp_path / "cache"),
            registry=other_registry,
            fail_interrupted_jobs=False,
        )
        with TestClient(other) as client:
            login(client, "viewer")
            job = client.get(f"/api/jobs/{JOB}").json()
            assert (job["state"], job["progress"], job["step"]) == ("running", 0.0, "")
            entries = _audit_entries(filled)
            for done, step in ((0.25, "registration"), (0.5, "lung shunt fraction")):
                running.state.jobs.record_progress(JOB, done, step)
                job = client.get(f"/api/jobs/{JOB}").json()
                assert (job["state"], job["progress"], job["step"]) == ("running", done, step)
            assert _audit_entries(filled) == entries  # progress is no record
            running.state.jobs.record_progress(JOB, 0.75, "x" * 500)
            assert len(client.get(f"/api/jobs/{JOB}").json()["step"]) == 200
    finally:
        other_registry.dispose()
    # the service stopped while the job ran: the next start fails it, never running forever
    with TestClient(make_app()) as client:
        login(client, "viewer")
        job = client.get(f"/api/jobs/{JOB}").json()
        assert (job["state"], job["error"], job["progress"]) == ("failed", INTERRUPTED, 0.75)
