"""Indexes on (patient, date) of the dated tables, for the patient list's latest dates.

The patient list shows, for every row, the latest date of any of the patient's records: one
``max(date)`` per dated table and patient. With an index on (patient_id, date) SQLite and
PostgreSQL read it with one index seek instead of visiting every row of the patient (measured
in ``benchmarks/api_load.py``, docs/performance.md). The plan versions get one on
(plan_id, date) for the same reason (their latest date and state).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: The tables indexed on (patient_id, date) (``models.DATE_INDEXED_TABLES``).
TABLES = (
    "clinical_findings",
    "lab_panels",
    "quality_of_life",
    "mdt_decisions",
    "imaging_studies",
    "workups",
    "treatment_sessions",
    "monitoring",
    "verifications",
    "adverse_events",
    "outcome_events",
)


def upgrade() -> None:
    """Create the indexes."""
    for table in TABLES:
        op.create_index(f"ix_{table}_patient_id_date", table, ["patient_id", "date"])
    op.create_index("ix_plan_versions_plan_id_date", "plan_versions", ["plan_id", "date"])


def downgrade() -> None:
    """Drop the indexes."""
    op.drop_index("ix_plan_versions_plan_id_date", table_name="plan_versions")
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_patient_id_date", table_name=table)
