"""A whole pathway of one patient for the registry tests: every kind of record, linked.

Every date lies within the 30 days from the diagnosis (2025-01-05 to 2025-02-03), so a shift of
30 days or more moves every date out of that window (the de-identification tests rely on it).
Free text carries the marker ``IDENT`` so that a test can search for it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from opensirt.registry.bundle import Bundle
from opensirt.registry.database import Registry
from opensirt.registry.models import Base

UTC = dt.UTC
FINGERPRINT = "ab" * 32
STUDY_UID = "1.2.826.0.1.3680043.8.498.1001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.1002"
PET_UID = "1.2.826.0.1.3680043.8.498.2001"

#: Text that must not survive de-identification.
IDENTIFYING = (
    "IDENT-rationale Mrs Example",
    "IDENT-notes",
    "IDENT-catheter",
    "IDENT-cause",
    "IDENT-case",
    "IDENT-result",
    "IDENT-verify",
    "IDENT-report",
    "IDENT-rtdose",
    "IDENT-assess",
    "IDENT-observation",
    "dr-physicist-jones",
    "dr-physician-smith",
    "dr-author-brown",
    "IDENT-tace-comment",
)


def _plan(version: int, state: str, day: int, signatures: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "patient": "P-100",
        "date": f"2025-01-{day:02d}",
        "label": "right lobe",
        "version": version,
        "state": state,
        "case_yaml": "patient:\n  id: IDENT-case\n",
        "result_json": json.dumps({"note": "IDENT-result", "activity_gbq": 1.8}),
        "method": "partition",
        "device": "resin",
        "activity_gbq": 1.8 + version / 10,
        "tumour_dose_gy": 120.0,
        "normal_liver_dose_gy": 35.5,
        "lung_dose_gy": 4.25,
        "limits": [{"name": "lung", "limit_gy": 25.0, "value_gy": 4.25}],
        "input_fingerprint": FINGERPRINT,
        "report_path": "/home/IDENT-report/plan.pdf",
        "rtdose_path": "../../IDENT-rtdose/dose.dcm",
        "created_by": "dr-author-brown",
        "signatures": signatures,
    }


def _signed(day: int) -> list[dict[str, Any]]:
    return [
        {
            "role": "physicist",
            "user_name": "dr-physicist-jones",
            "signed_at": f"2025-01-{day:02d}T09:15:00+00:00",
        },
        {
            "role": "physician",
            "user_name": "dr-physician-smith",
            "signed_at": f"2025-01-{day:02d}T10:45:30+00:00",
        },
    ]


def pathway(pseudonym: str = "P-100") -> dict[str, Any]:
    """The bundle (as JSON data) of a patient with at least one record of every kind."""
    data: dict[str, Any] = {
        "format": "opensirt-registry-bundle",
        "version": 1,
        "exported_at": "2025-02-10T12:00:00+00:00",
        "software": "test",
        "patient": {
            "patient": "P-100",
            "sex": "female",
            "birth_year": 1957,
            "diagnosis": "hcc",
            "diagnosis_date": "2025-01-05",
        },
        "labs": [
            {
                "patient": "P-100",
                "date": "2025-01-06",
                "labs": {"bilirubin_umol_l": 17.5, "albumin_g_l": 38.0, "inr": 1.1},
                "afp_ng_ml": 412.0,
            }
        ],
        "findings": [
            {"patient": "P-100", "date": "2025-01-06", "findings": {"ecog": 1, "cirrhosis": True}}
        ],
        "quality_of_life": [
            {
                "patient": "P-100",
                "date": "2025-01-07",
                "instrument": "eortc-qlq-c30",
                "scale": "global health",
                "score": 66.7,
            }
        ],
        "imaging_studies": [
            {
                "patient": "P-100",
                "date": "2025-01-06",
                "study_uid": STUDY_UID,
                "series_uid": SERIES_UID,
                "modality": "CT",
                "role": "planning-ct",
            },
            {
                "patient": "P-100",
                "date": "2025-01-21",
                "study_uid": PET_UID,
                "modality": "PT",
                "role": "post-pet",
            },
        ],
        "mdt_decisions": [
            {
                "patient": "P-100",
                "date": "2025-01-08",
                "roles_present": ["hepatologist", "interventional radiologist"],
                "options_considered": ["sirt", "tace"],
                "chosen": "sirt",
                "intent": "palliative",
                "line": 1,
                "rationale": "IDENT-rationale Mrs Example",
                "assessment": {"bclc": "B", "child_pugh": 6, "who": "IDENT-assess"},
            }
        ],
        "workups": [
            {
                "patient": "P-100",
                "date": "2025-01-09",
                "lung_shunt_fraction": 0.06,
                "lung_shunt_source": "planar",
                "tumour_to_normal": {"segment 8": 3.2},
                "extrahepatic_uptake": False,
                "perfused_territories": ["right lobe"],
            }
        ],
        "plan_versions": [
            _plan(1, "superseded", 10, _signed(10)),
            _plan(2, "approved", 12, _signed(13)),
            {
                **_plan(1, "draft", 14, [_signed(14)[0]]),
                "label": "left lobe",
                "report_path": None,
                "rtdose_path": None,
            },
        ],
        "sessions": [
            {
                "patient": "P-100",
                "date": "2025-01-14",
                "therapy": "tace",
                "details": {
                    "drug": "doxorubicin",
                    "dose_mg": 50.0,
                    "comment": "IDENT-tace-comment",
                },
            },
            {
                "patient": "P-100",
                "date": "2025-01-20",
                "therapy": "sirt",
                "territory": "right lobe",
                "delivered_activity_gbq": 1.75,
                "plan": "right lobe",
                "plan_version": 2,
                "details": {
                    "device": "sir-spheres",
                    "vials": [{"activity_gbq": 2.1, "assayed_at": "2025-01-20T08:00:00+00:00"}],
                    "residual_fraction": 0.03,
                    "catheter_position": "IDENT-catheter",
                    "injected_at": "2025-01-20T11:05:00+00:00",
                },
            },
        ],
        "monitoring": [
            {
                "patient": "P-100",
                "date": "2025-01-20",
                "start": "2025-01-20T11:30:00+00:00",
                "end": "2025-01-20T16:30:00+00:00",
                "observations": [{"time": "IDENT-observation", "pain_nrs": 2, "nausea": False}],
                "discharged": True,
                "notes": "IDENT-notes",
            }
        ],
        "verifications": [
            {
                "patient": "P-100",
                "date": "2025-01-21",
                "modality": "PET",
                "delivered_activity_gbq": 1.7,
                "session_date": "2025-01-20",
                "result_json": json.dumps({"who": "IDENT-verify"}),
                "structures": [
                    {
                        "structure": "tumour",
                        "predicted_gy": 120.0,
                        "delivered_gy": 110.5,
                        "difference_pct": -7.9,
                    },
                    {"structure": "lung", "predicted_gy": 4.2, "flagged": True},
                ],
            }
        ],
        "adverse_events": [
            {
                "patient": "P-100",
                "date": "2025-01-22",
                "term": "Fatigue",
                "grade": 2,
                "resolved": "2025-01-28",
                "attribution": "probable",
                "session_date": "2025-01-20",
            }
        ],
        "lesion_measurements": [
            {
                "patient": "P-100",
                "date": "2025-01-06",
                "lesion_id": "L1",
                "role": "target",
                "longest_diameter_mm": 52.0,
                "viable_diameter_mm": 48.0,
            },
            {
                "patient": "P-100",
                "date": "2025-01-30",
                "lesion_id": "L1",
                "role": "target",
                "longest_diameter_mm": 41.0,
                "viable_diameter_mm": 20.0,
            },
        ],
        "responses": [
            {
                "patient": "P-100",
                "date": "2025-01-30",
                "criteria": "mrecist",
                "criteria_version": "Lencioni 2010",
                "target": "PR",
                "non_target": "NA",
                "new_lesions": False,
                "overall": "PR",
                "target_change_pct": -58.3,
            }
        ],
        "outcomes": [
            {"patient": "P-100", "date": "2025-02-03", "kind": "death", "cause": "IDENT-cause"},
            {"patient": "P-100", "date": "2025-02-01", "kind": "progression", "site": "in-field"},
        ],
    }
    text = json.dumps(data).replace('"P-100"', json.dumps(pseudonym))
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def pathway_bundle(pseudonym: str = "P-100") -> Bundle:
    """:func:`pathway` as a validated bundle."""
    return Bundle.model_validate(pathway(pseudonym))


def row_counts(registry: Registry) -> dict[str, int]:
    """Rows per table of the record and its audit log (the users, the service's jobs,
    sessions and failed logins, and the re-dosimetry results computed from the record aside):
    what a test compares before and after a refused write."""
    with registry.transaction(readonly=True) as session:
        return {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name
            not in ("users", "jobs", "web_sessions", "login_failures", "redose_results")
        }
