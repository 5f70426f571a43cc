"""Re-dosimetry results: plan versions' doses computed again, beside the originals.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "redose_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("activity_gbq", sa.Double(), nullable=True),
        sa.Column("tumour_dose_gy", sa.Double(), nullable=True),
        sa.Column("normal_liver_dose_gy", sa.Double(), nullable=True),
        sa.Column("lung_dose_gy", sa.Double(), nullable=True),
        sa.Column("structures", sa.JSON(), nullable=True),
        sa.Column("limits", sa.JSON(), nullable=True),
        sa.Column("limits_exceeded", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('done', 'failed')", name=op.f("ck_redose_results_status")),
        sa.CheckConstraint("attempts >= 1", name=op.f("ck_redose_results_attempts")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_redose_results_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_redose_results_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redose_results")),
    )
    with op.batch_alter_table("redose_results", schema=None) as batch_op:
        for column in ("run_id", "patient_id", "plan_version_id"):
            batch_op.create_index(batch_op.f(f"ix_redose_results_{column}"), [column], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("redose_results", schema=None) as batch_op:
        for column in ("plan_version_id", "patient_id", "run_id"):
            batch_op.drop_index(batch_op.f(f"ix_redose_results_{column}"))
    op.drop_table("redose_results")
