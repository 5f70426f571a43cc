"""Verification jobs of the web service: the job kind ``verify`` beside ``plan``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def _jobs(kinds: str) -> sa.Table:
    """The ``jobs`` table of revision 0003 with the kind constraint ``kind IN (kinds)``."""
    return sa.Table(
        "jobs",
        sa.MetaData(),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("folder", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_jobs_kind")),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_jobs_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.Index(op.f("ix_jobs_state"), "state"),
    )


def _kinds(kinds: str) -> None:
    """Replace the check constraint of ``jobs.kind`` (SQLite: by copying the table)."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("jobs", copy_from=_jobs(kinds), recreate="always"):
            pass
        return
    op.drop_constraint(op.f("ck_jobs_kind"), "jobs", type_="check")
    op.create_check_constraint(op.f("ck_jobs_kind"), "jobs", f"kind IN ({kinds})")


def upgrade() -> None:
    """Apply this revision."""
    _kinds("'plan', 'verify'")


def downgrade() -> None:
    """Revert this revision (fails while verification jobs are recorded)."""
    _kinds("'plan'")
