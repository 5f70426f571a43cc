"""``opensirt serve --demo``: a fresh registry with the demo patient, a small synthetic cohort,
a draft plan to sign and one user per role with a random one-time password."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from opensirt.demo.cohort import synthetic_cohort
from opensirt.demo.cohort_writer import write_cohort
from opensirt.registry import store
from opensirt.registry.database import Registry
from opensirt.registry.models import Patient, Plan, PlanVersion
from opensirt.registry.users import add_user
from opensirt.registry.vocabulary import PlanState, UserRole

#: How many synthetic patients the demo registry holds besides the demo patient.
DEMO_COHORT_SIZE = 30
#: The demo's users, one per role; their passwords are drawn at start and printed once.
DEMO_USERS = {
    "physicist": UserRole.PHYSICIST,
    "physician": UserRole.PHYSICIAN,
    "nurse": UserRole.NURSE,
    "admin": UserRole.ADMIN,
    "viewer": UserRole.VIEWER,
}
#: The demo patient's pseudonym (the synthetic DICOM's PatientID).
DEMO_PATIENT = "DEMO-001"
#: Who records the demo's data (the audit log's actor).
DEMO_ACTOR = "demo-setup"

_COPIED = (
    "date", "case_yaml", "result_json", "method", "device", "activity_gbq", "tumour_dose_gy",
    "normal_liver_dose_gy", "lung_dose_gy", "limits", "input_fingerprint", "report_path",
    "rtdose_path",
)  # fmt: skip


def add_draft_copies(registry: Registry, pseudonym: str = DEMO_PATIENT) -> int:
    """Give a patient's approved plans a new draft version with the same content, to sign.

    Parameters
    ----------
    registry : Registry
        The demo registry (the demo patient's plan was signed by the demo's recorder).
    pseudonym : str, optional
        The patient (default: the demo patient).

    Returns
    -------
    int
        How many drafts were added.
    """
    with registry.transaction(actor=DEMO_ACTOR) as session:
        approved = session.scalars(
            sa.select(PlanVersion)
            .join(Plan, PlanVersion.plan_id == Plan.id)
            .join(Patient, Plan.patient_id == Patient.id)
            .where(PlanVersion.state == PlanState.APPROVED, Patient.pseudonym == pseudonym)
        ).all()
        for version in approved:
            plan = session.get_one(Plan, version.plan_id)
            patient = session.get_one(Patient, plan.patient_id)
            content = {name: getattr(version, name) for name in _COPIED}
            store.add_plan_version(session, patient, plan.label, created_by=DEMO_ACTOR, **content)
    return len(approved)


def add_cohort(registry: Registry, n: int = DEMO_COHORT_SIZE, seed: int = 0) -> None:
    """Add a reproducible synthetic cohort (as ``opensirt registry synth``).

    Parameters
    ----------
    registry : Registry
        The registry.
    n : int, optional
        How many patients (default :data:`DEMO_COHORT_SIZE`).
    seed : int, optional
        The cohort's seed.
    """
    with registry.transaction(actor=DEMO_ACTOR) as session:
        for _ in write_cohort(session, synthetic_cohort(n, seed)):
            pass


def add_demo_users(registry: Registry, token: Callable[[], str] | None = None) -> dict[str, str]:
    """Create one user per role with a random password.

    Parameters
    ----------
    registry : Registry
        The demo registry.
    token : callable, optional
        Draws a password (default: 16 random URL-safe characters from :mod:`secrets`).

    Returns
    -------
    dict of str to str
        User name -> password, to be shown once to whoever started the demo.
    """
    draw = token or (lambda: secrets.token_urlsafe(12))
    passwords = {}
    with registry.transaction(actor=DEMO_ACTOR) as session:
        for name, role in DEMO_USERS.items():
            passwords[name] = draw()
            add_user(session, name, role, passwords[name])
    return passwords


def demo_folder_registry(folder: Path) -> str:
    """The URL of the demo's SQLite registry in its folder.

    Parameters
    ----------
    folder : pathlib.Path
        The demo's temporary folder.

    Returns
    -------
    str
        ``sqlite:///FOLDER/registry.sqlite3``.
    """
    return f"sqlite:///{folder / 'registry.sqlite3'}"
