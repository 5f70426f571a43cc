"""The web service's background jobs (planning and verification from uploaded images).

A job's row records who started it, its state and, when it ends, its result links or its
error; while it runs, its progress (the fraction done and the current step), written once per
step by the worker process running it, so that every worker of ``opensirt serve --workers N``
reads it; and the site of the user who started it (:mod:`opensirt.registry.sites`). The
progress is written without an audit entry (it records no clinical data); the job's other
changes are audited as every row is. A service that stops while a job runs leaves it
``running``: the next start marks it ``failed`` (:func:`opensirt.api.jobs.fail_interrupted`),
never running forever.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opensirt.registry.models import Base

#: The states of a job.
JOB_STATES = ("queued", "running", "done", "failed")
#: The kinds of job: planning from images, verification of a treatment from images.
JOB_KINDS = ("plan", "verify")


class Job(Base):
    """A background job of the web service: plan a case or verify a treatment from uploaded
    images."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16), index=True)
    created_by: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    folder: Mapped[str] = mapped_column(sa.Text)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    progress: Mapped[float] = mapped_column(default=0.0)
    step: Mapped[str | None] = mapped_column(sa.String(200))
    site: Mapped[str | None] = mapped_column(sa.String(32))

    __table_args__ = (
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        sa.CheckConstraint("kind IN ('plan', 'verify')", name="kind"),
    )
