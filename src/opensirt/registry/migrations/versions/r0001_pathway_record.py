"""The pathway record: patients and their dated records (the first schema).

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column(
            "sex",
            sa.Enum(
                "female",
                "male",
                "other",
                "unknown",
                name="sex",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column(
            "diagnosis",
            sa.Enum(
                "hcc",
                "icc",
                "crc",
                "net",
                "breast",
                "other",
                name="diagnosis",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("diagnosis_date", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint("birth_year BETWEEN 1890 AND 2200", name=op.f("ck_patients_birth_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_patients_pseudonym")),
    )
    op.create_table(
        "clinical_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_clinical_findings_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_findings")),
    )
    with op.batch_alter_table("clinical_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinical_findings_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "imaging_studies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("study_uid", sa.String(length=64), nullable=False),
        sa.Column("series_uid", sa.String(length=64), nullable=True),
        sa.Column("modality", sa.String(length=16), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "planning-ct",
                "maa-spect",
                "post-pet",
                "post-spect",
                "follow-up-ct",
                "follow-up-mr",
                "other",
                name="studyrole",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_imaging_studies_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imaging_studies")),
        sa.UniqueConstraint(
            "patient_id",
            "study_uid",
            "series_uid",
            "role",
            name=op.f("uq_imaging_studies_patient_id"),
        ),
    )
    with op.batch_alter_table("imaging_studies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_imaging_studies_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "lab_panels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("labs", sa.JSON(), nullable=False),
        sa.Column("afp_ng_ml", sa.Double(), nullable=True),
        sa.Column("cea_ng_ml", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_lab_panels_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_panels")),
    )
    with op.batch_alter_table("lab_panels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_panels_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "lesion_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("lesion_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organ", sa.String(length=64), nullable=False),
        sa.Column("is_node", sa.Boolean(), nullable=False),
        sa.Column("longest_diameter_mm", sa.Double(), nullable=True),
        sa.Column("short_axis_mm", sa.Double(), nullable=True),
        sa.Column("viable_diameter_mm", sa.Double(), nullable=True),
        sa.Column("enhancing_area_mm2", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_lesion_measurements_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesion_measurements")),
        sa.UniqueConstraint(
            "patient_id", "date", "lesion_id", name=op.f("uq_lesion_measurements_patient_id")
        ),
    )
    with op.batch_alter_table("lesion_measurements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesion_measurements_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "mdt_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("roles_present", sa.JSON(), nullable=False),
        sa.Column("options_considered", sa.JSON(), nullable=False),
        sa.Column(
            "chosen",
            sa.Enum(
                "sirt",
                "tace",
                "tae",
                "haic",
                "ablation",
                "resection",
                "transplant",
                "external-beam",
                "systemic",
                "best-supportive-care",
                name="therapy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "intent",
            sa.Enum(
                "palliative",
                "downstaging",
                "bridge-to-resection",
                "bridge-to-transplant",
                "curative",
                name="intent",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_mdt_decisions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mdt_decisions")),
    )
    with op.batch_alter_table("mdt_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mdt_decisions_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "outcome_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "progression",
                "death",
                "last-contact",
                name="outcomekind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "site",
            sa.Enum(
                "in-field",
                "out-of-field",
                "extrahepatic",
                name="progressionsite",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("cause", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_outcome_events_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_events")),
    )
    with op.batch_alter_table("outcome_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outcome_events_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_plans_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("patient_id", "label", name=op.f("uq_plans_patient_id")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "quality_of_life",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "instrument",
            sa.Enum(
                "eortc-qlq-c30",
                "eortc-qlq-hcc18",
                "fact-hep",
                name="qolinstrument",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("scale", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_quality_of_life_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_of_life")),
    )
    with op.batch_alter_table("quality_of_life", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_of_life_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "response_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "criteria",
            sa.Enum(
                "recist1.1",
                "mrecist",
                "easl",
                name="responsecriteria",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("criteria_version", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("non_target", sa.String(length=16), nullable=False),
        sa.Column("new_lesions", sa.Boolean(), nullable=False),
        sa.Column("overall", sa.String(length=16), nullable=False),
        sa.Column("target_change_pct", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_response_assessments_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_assessments")),
        sa.UniqueConstraint(
            "patient_id", "date", "criteria", name=op.f("uq_response_assessments_patient_id")
        ),
    )
    with op.batch_alter_table("response_assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_assessments_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "workups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("lung_shunt_fraction", sa.Double(), nullable=True),
        sa.Column("lung_shunt_source", sa.String(length=64), nullable=True),
        sa.Column("tumour_to_normal", sa.JSON(), nullable=False),
        sa.Column("extrahepatic_uptake", sa.Boolean(), nullable=True),
        sa.Column("perfused_territories", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "lung_shunt_fraction BETWEEN 0 AND 1", name=op.f("ck_workups_lung_shunt_fraction")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_workups_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workups")),
    )
    with op.batch_alter_table("workups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workups_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "approved",
                "superseded",
                name="planstate",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("case_yaml", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=False),
        sa.Column("activity_gbq", sa.Double(), nullable=True),
        sa.Column("tumour_dose_gy", sa.Double(), nullable=True),
        sa.Column("normal_liver_dose_gy", sa.Double(), nullable=True),
        sa.Column("lung_dose_gy", sa.Double(), nullable=True),
        sa.Column("limits", sa.JSON(), nullable=False),
        sa.Column("input_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=True),
        sa.Column("rtdose_path", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "activity_gbq IS NULL OR activity_gbq >= 0", name=op.f("ck_plan_versions_activity_gbq")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_plan_versions_version")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_versions_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("plan_id", "version", name=op.f("uq_plan_versions_plan_id")),
    )
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_versions_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_version_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "physicist",
                "physician",
                name="signaturerole",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_signatures_plan_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_signatures")),
        sa.UniqueConstraint(
            "plan_version_id", "role", name=op.f("uq_plan_signatures_plan_version_id")
        ),
    )
    with op.batch_alter_table("plan_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_signatures_plan_version_id"), ["plan_version_id"], unique=False
        )

    op.create_table(
        "treatment_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "therapy",
            sa.Enum(
                "sirt",
                "tace",
                "tae",
                "haic",
                "ablation",
                "resection",
                "transplant",
                "external-beam",
                "systemic",
                "best-supportive-care",
                name="therapy",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("plan_version_id", sa.Integer(), nullable=True),
        sa.Column("territory", sa.String(length=64), nullable=True),
        sa.Column("delivered_activity_gbq", sa.Double(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "delivered_activity_gbq IS NULL OR delivered_activity_gbq >= 0",
            name=op.f("ck_treatment_sessions_delivered_activity_gbq"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_treatment_sessions_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_treatment_sessions_plan_version_id_plan_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_sessions")),
    )
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_treatment_sessions_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_treatment_sessions_plan_version_id"), ["plan_version_id"], unique=False
        )

    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("term", sa.String(length=128), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Date(), nullable=True),
        sa.Column(
            "attribution",
            sa.Enum(
                "unrelated",
                "unlikely",
                "possible",
                "probable",
                "definite",
                name="attribution",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("grade BETWEEN 1 AND 5", name=op.f("ck_adverse_events_grade")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_adverse_events_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_adverse_events_session_id_treatment_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adverse_events")),
    )
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adverse_events_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_adverse_events_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "monitoring",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("observations", sa.JSON(), nullable=False),
        sa.Column("discharged", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_monitoring_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_monitoring_session_id_treatment_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring")),
    )
    with op.batch_alter_table("monitoring", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitoring_session_id"), ["session_id"], unique=False)

    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("delivered_activity_gbq", sa.Double(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_verifications_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_sessions.id"],
            name=op.f("fk_verifications_session_id_treatment_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verifications_patient_id"), ["patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_verifications_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "verified_structures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("structure", sa.String(length=64), nullable=False),
        sa.Column("predicted_gy", sa.Double(), nullable=True),
        sa.Column("predicted_scaled_gy", sa.Double(), nullable=True),
        sa.Column("delivered_gy", sa.Double(), nullable=True),
        sa.Column("difference_pct", sa.Double(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["verifications.id"],
            name=op.f("fk_verified_structures_verification_id_verifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verified_structures")),
    )
    with op.batch_alter_table("verified_structures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_verified_structures_verification_id"), ["verification_id"], unique=False
        )


def downgrade() -> None:
    """Undo this revision."""
    with op.batch_alter_table("verified_structures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verified_structures_verification_id"))

    op.drop_table("verified_structures")
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verifications_session_id"))
        batch_op.drop_index(batch_op.f("ix_verifications_patient_id"))

    op.drop_table("verifications")
    with op.batch_alter_table("monitoring", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_session_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_patient_id"))

    op.drop_table("monitoring")
    with op.batch_alter_table("adverse_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adverse_events_session_id"))
        batch_op.drop_index(batch_op.f("ix_adverse_events_patient_id"))

    op.drop_table("adverse_events")
    with op.batch_alter_table("treatment_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_sessions_plan_version_id"))
        batch_op.drop_index(batch_op.f("ix_treatment_sessions_patient_id"))

    op.drop_table("treatment_sessions")
    with op.batch_alter_table("plan_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_signatures_plan_version_id"))

    op.drop_table("plan_signatures")
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_versions_plan_id"))

    op.drop_table("plan_versions")
    with op.batch_alter_table("workups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workups_patient_id"))

    op.drop_table("workups")
    with op.batch_alter_table("response_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_assessments_patient_id"))

    op.drop_table("response_assessments")
    with op.batch_alter_table("quality_of_life", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_of_life_patient_id"))

    op.drop_table("quality_of_life")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_patient_id"))

    op.drop_table("plans")
    with op.batch_alter_table("outcome_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_events_patient_id"))

    op.drop_table("outcome_events")
    with op.batch_alter_table("mdt_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mdt_decisions_patient_id"))

    op.drop_table("mdt_decisions")
    with op.batch_alter_table("lesion_measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesion_measurements_patient_id"))

    op.drop_table("lesion_measurements")
    with op.batch_alter_table("lab_panels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_panels_patient_id"))

    op.drop_table("lab_panels")
    with op.batch_alter_table("imaging_studies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imaging_studies_patient_id"))

    op.drop_table("imaging_studies")
    with op.batch_alter_table("clinical_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinical_findings_patient_id"))

    op.drop_table("clinical_findings")
    op.drop_table("patients")
