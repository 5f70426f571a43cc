"""Sites and shared job progress: ``patients.site``, ``users.site``; ``jobs.progress``,
``jobs.step`` and ``jobs.site``.

A patient's site and a user's site scope what the service shows when it runs with sites
(``opensirt serve --sites``); the job's progress moves from one worker's memory into its row,
so every worker of ``opensirt serve --workers N`` reads it. Existing rows get no site (a
single-centre registry is unchanged) and a progress of 0.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_patients_site"), ["site"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site", sa.String(length=32), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("progress", sa.Double(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(sa.Column("step", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("site", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Revert this revision (the sites and the progress are dropped)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("site")
        batch_op.drop_column("step")
        batch_op.drop_column("progress")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("site")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patients_site"))
        batch_op.drop_column("site")
