"""Re-dosimetry results: a plan version's voxel dose computed again, kept beside the original.

``opensirt analytics redose`` (:mod:`opensirt.analytics.redosimetry`) recomputes the voxel dose
of recorded plan versions with another dose method, kernel or set of limits. Each case of a
run is one new row here: the original version is never changed, and a second run adds new rows
(its own ``run_id``), so that every computation stays on the record with its settings, its
author (``created_by``, also the audit log's actor) and, for a case that failed, the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opensirt.registry.models import Base, recorded_now

#: The outcomes of a case of a run.
REDOSE_STATUSES = ("done", "failed")


class RedoseResult(Base):
    """One plan version's dose computed again (or the reason it could not be)."""

    __tablename__ = "redose_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(sa.String(32), index=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    plan_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    method: Mapped[str] = mapped_column(sa.String(32))
    settings: Mapped[dict[str, Any]]
    activity_gbq: Mapped[float | None]
    tumour_dose_gy: Mapped[float | None]
    normal_liver_dose_gy: Mapped[float | None]
    lung_dose_gy: Mapped[float | None]
    structures: Mapped[dict[str, Any] | None]
    limits: Mapped[list[Any] | None]
    limits_exceeded: Mapped[bool | None]
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int]
    seconds: Mapped[float | None]
    created_by: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[dt.datetime] = recorded_now()

    __table_args__ = (
        sa.CheckConstraint("status IN ('done', 'failed')", name="status"),
        sa.CheckConstraint("attempts >= 1", name="attempts"),
    )
