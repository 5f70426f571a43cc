"""A whole pathway of one patient, written through the registry's writer: every kind of record.

Shared by the tests of the timeline, the patient list and the PDF summary.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from opensirt.registry import store
from opensirt.registry.database import Registry
from opensirt.registry.records import (
    AdverseEventIn,
    FindingsIn,
    ImagingStudyIn,
    LabsIn,
    LesionMeasurementIn,
    MdtDecisionIn,
    MonitoringIn,
    OutcomeIn,
    PatientIn,
    QualityOfLifeIn,
    ResponseIn,
    SessionIn,
    VerificationIn,
    WorkupIn,
)
from opensirt.registry.writer import add_patient, write_record

UTC = dt.UTC
D = dt.date

#: The days of the full pathway that tests check.
DIAGNOSIS = D(2025, 1, 10)
MDT_DAY = D(2025, 1, 20)
SIRT_DAY = D(2025, 2, 12)
DEATH_DAY = D(2025, 11, 3)


def plan_content(day: dt.date, activity_gbq: float, **changes: Any) -> dict[str, Any]:
    """The columns of a plan version (as ``opensirt plan --record`` writes them)."""
    content: dict[str, Any] = {
        "date": day,
        "case_yaml": "opensirt_case: 1\n",
        "result_json": "{}",
        "method": "partition",
        "device": "sir-spheres",
        "activity_gbq": activity_gbq,
        "tumour_dose_gy": 152.0,
        "normal_liver_dose_gy": 38.5,
        "lung_dose_gy": 7.9,
        "limits": [{"name": "lung_max_gy", "limit": 30.0}],
        "input_fingerprint": "ab" * 32,
        "created_by": "ann",
    }
    content.update(changes)
    return content


def add_bare_patient(registry: Registry, pseudonym: str, diagnosis: str = "hcc") -> None:
    """A patient with no records."""
    with registry.transaction() as session:
        add_patient(
            session,
            PatientIn(
                patient=pseudonym,
                sex="female",
                birth_year=1956,
                diagnosis=diagnosis,
                diagnosis_date=DIAGNOSIS,
            ),
        )


def record_full_pathway(registry: Registry, pseudonym: str = "SIRT-0042") -> None:
    """Diagnosis, MDT, work-up, two plan versions, SIRT with monitoring and verification,
    adverse events, lesions and response, a later TACE, progression and death."""
    add_bare_patient(registry, pseudonym)
    p = pseudonym
    with registry.transaction() as session:
        patient = store.get_patient(session, p)
        for record in (
            ImagingStudyIn(
                patient=p,
                date=D(2025, 1, 5),
                study_uid="1.2.826.0.1.3680043.8.498.1",
                modality="CT",
                role="other",
            ),
            OutcomeIn(patient=p, date=MDT_DAY, kind="last-contact"),
            MdtDecisionIn(
                patient=p,
                date=MDT_DAY,
                roles_present=("hepatologist", "radiologist"),
                options_considered=("sirt", "tace", "systemic"),
                chosen="sirt",
                intent="palliative",
                line=1,
                rationale="BCLC B, bilobar",
            ),
            QualityOfLifeIn(
                patient=p,
                date=MDT_DAY,
                instrument="eortc-qlq-c30",
                scale="global health",
                score=66.7,
            ),
            LabsIn(
                patient=p,
                date=MDT_DAY,
                labs={"bilirubin_umol_l": 18.0, "albumin_g_l": 38.0},
                afp_ng_ml=412.0,
            ),
            FindingsIn(patient=p, date=MDT_DAY, findings={"ecog": 1, "cirrhosis": True}),
            ImagingStudyIn(
                patient=p,
                date=D(2025, 2, 1),
                study_uid="1.2.826.0.1.3680043.8.498.2",
                series_uid="1.2.826.0.1.3680043.8.498.3",
                modality="NM",
                role="maa-spect",
            ),
            WorkupIn(
                patient=p,
                date=D(2025, 2, 1),
                lung_shunt_fraction=0.062,
                lung_shunt_source="planar",
                tumour_to_normal={"segment 8": 4.1},
                extrahepatic_uptake=False,
                perfused_territories=("right lobe",),
            ),
            LesionMeasurementIn(
                patient=p,
                date=D(2025, 2, 1),
                lesion_id="L1",
                role="target",
                longest_diameter_mm=52.0,
                viable_diameter_mm=48.0,
            ),
            LesionMeasurementIn(
                patient=p,
                date=D(2025, 2, 1),
                lesion_id="L2",
                role="non-target",
            ),
        ):
            write_record(session, record, patient=patient)
        v1 = store.add_plan_version(
            session, patient, "right lobe", **plan_content(D(2025, 2, 5), 1.9)
        )
        store.sign_plan_version(session, v1, "physicist", "ann")
        store.sign_plan_version(session, v1, "physician", "bob")
        v2 = store.add_plan_version(
            session, patient, "right lobe", **plan_content(D(2025, 2, 10), 1.8)
        )
        store.sign_plan_version(session, v2, "physicist", "ann")
        store.sign_plan_version(session, v2, "physician", "carl")
        for record in (
            SessionIn(
                patient=p,
                date=SIRT_DAY,
                therapy="sirt",
                territory="right lobe",
                delivered_activity_gbq=1.71,
                plan="right lobe",
                details={"device": "sir-spheres", "residual_fraction": 0.04},
            ),
            MonitoringIn(
                patient=p,
                date=SIRT_DAY,
                start=dt.datetime(2025, 2, 12, 11, 0, tzinfo=UTC),
                end=dt.datetime(2025, 2, 12, 16, 30, tzinfo=UTC),
                observations=({"time": "12:00", "pain_nrs": 2},),
                discharged=True,
            ),
            AdverseEventIn(
                patient=p,
                date=SIRT_DAY,
                term="Nausea",
                grade=1,
                attribution="probable",
                resolved=D(2025, 2, 13),
                session_date=SIRT_DAY,
            ),
            VerificationIn(
                patient=p,
                date=D(2025, 2, 13),
                modality="Y-90 PET",
                delivered_activity_gbq=1.69,
                session_date=SIRT_DAY,
                structures=(
                    {
                        "structure": "Tumour 1",
                        "predicted_gy": 152.0,
                        "delivered_gy": 141.0,
                        "difference_pct": -7.2,
                    },
                    {
                        "structure": "Normal liver",
                        "predicted_gy": 38.5,
                        "delivered_gy": 44.0,
                        "difference_pct": 14.3,
                        "flagged": True,
                    },
                ),
            ),
            AdverseEventIn(
                patient=p,
                date=D(2025, 2, 20),
                term="Fatigue",
                grade=2,
                attribution="possible",
                session_date=SIRT_DAY,
            ),
            LesionMeasurementIn(
                patient=p,
                date=D(2025, 5, 10),
                lesion_id="L1",
                role="target",
                longest_diameter_mm=40.0,
                viable_diameter_mm=30.0,
            ),
            LesionMeasurementIn(
                patient=p,
                date=D(2025, 5, 10),
                lesion_id="L2",
                role="non-target",
            ),
            ResponseIn(
                patient=p,
                date=D(2025, 5, 10),
                criteria="mrecist",
                criteria_version="Lencioni 2010",
                target="PR",
                non_target="non-CR/non-PD",
                new_lesions=False,
                overall="PR",
                target_change_pct=-37.5,
            ),
            AdverseEventIn(
                patient=p,
                date=D(2025, 6, 2),
                term="Ascites",
                grade=3,
                attribution="possible",
            ),
            SessionIn(
                patient=p,
                date=D(2025, 7, 1),
                therapy="tace",
                territory="segment 3",
                details={"drug": "doxorubicin", "dose_mg": 50},
            ),
            OutcomeIn(patient=p, date=D(2025, 8, 15), kind="progression", site="in-field"),
            OutcomeIn(patient=p, date=DEATH_DAY, kind="death", cause="liver failure"),
        ):
            write_record(session, record, patient=patient)
