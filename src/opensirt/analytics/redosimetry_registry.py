"""Re-dosimetry and the registry: the cases read on the client, the results written by it.

Only the client process touches the registry (so that a SQLite file works, and a worker needs
no database credentials): :func:`select_cases` reads the plan versions to recompute, with the
path of each saved plan state (:data:`opensirt.workflow.plan_state.PLAN_STATE_FILE` in the
folder of the version's recorded report or RT Dose); :func:`store_outcomes` writes a batch of
outcomes as new rows of :class:`~opensirt.registry.models_redose.RedoseResult` in one
transaction, the audit log naming the actor. The original plan versions are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import PurePath

import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.analytics.redosimetry import CaseDose, CaseFailure, RedoseCase, RedoseSettings
from opensirt.errors import InputError
from opensirt.registry.models import Patient, Plan, PlanVersion
from opensirt.registry.models_redose import RedoseResult
from opensirt.registry.vocabulary import PlanState
from opensirt.workflow.plan_state import PLAN_STATE_FILE

#: An outcome of one case.
Outcome = CaseDose | CaseFailure


def parse_path_map(items: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """``OLD=NEW`` folder prefixes, as ``--path-map`` gives them.

    Parameters
    ----------
    items : sequence of str
        Each ``OLD=NEW``: a recorded folder prefix and where the same files are now.

    Returns
    -------
    tuple of (str, str)
        The pairs, in the order given.

    Raises
    ------
    InputError
        If an item has no ``=`` or an empty side.

    Examples
    --------
    >>> parse_path_map(["/home/rad/plans=/shared/plans"])
    (('/home/rad/plans', '/shared/plans'),)
    """
    pairs = []
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(
                f"--path-map is {item!r}, expected OLD=NEW (a recorded folder and where its "
                "files are now, e.g. /home/rad/plans=/shared/plans)"
            )
        pairs.append((old.strip(), new.strip()))
    return tuple(pairs)


def state_path(version: PlanVersion, path_map: Sequence[tuple[str, str]] = ()) -> str | None:
    """Where a version's saved plan state is expected: beside its recorded report or RT Dose,
    with the first matching ``path_map`` prefix replaced.

    Parameters
    ----------
    version : PlanVersion
        The plan version.
    path_map : sequence of (str, str), optional
        Recorded folder prefixes and where the files are now (:func:`parse_path_map`).

    Returns
    -------
    str or None
        The path, or ``None`` when the version records neither file.
    """
    recorded = version.report_path or version.rtdose_path
    if recorded is None:
        return None
    folder = str(PurePath(recorded).parent)
    for old, new in path_map:
        if folder == old or folder.startswith(old.rstrip("/\\") + "/"):
            folder = new + folder[len(old) :]
            break
    return str(PurePath(folder) / PLAN_STATE_FILE)


def select_cases(
    session: Session,
    *,
    patients: Sequence[str] = (),
    states: Sequence[PlanState | str] = (),
    path_map: Sequence[tuple[str, str]] = (),
) -> list[RedoseCase]:
    """The plan versions to recompute: every version with an activity (plans refused for
    safety have none), optionally of some patients or states only.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        A (read-only) transaction.
    patients : sequence of str, optional
        Pseudonyms; default every patient.
    states : sequence of PlanState or str, optional
        Version states (``draft``, ``approved``, ``superseded``); default every state.
    path_map : sequence of (str, str), optional
        As for :func:`state_path`.

    Returns
    -------
    list of RedoseCase
        In the order patient, plan label, version.

    Raises
    ------
    InputError
        If a state is not one of the registry's, or a patient named is not in the registry.
    """
    try:
        wanted = [PlanState(str(s)) for s in states]
    except ValueError:
        allowed = ", ".join(s.value for s in PlanState)
        raise InputError(f"--state is one of {list(states)!r}, expected {allowed}") from None
    query = (
        sa.select(PlanVersion, Plan.label, Patient.pseudonym, Patient.id)
        .join(Plan, PlanVersion.plan_id == Plan.id)
        .join(Patient, Plan.patient_id == Patient.id)
        .where(PlanVersion.activity_gbq.is_not(None))
        .order_by(Patient.pseudonym, Plan.label, PlanVersion.version)
    )
    if patients:
        known = set(
            session.scalars(sa.select(Patient.pseudonym).where(Patient.pseudonym.in_(patients)))
        )
        missing = sorted(set(patients) - known)
        if missing:
            raise InputError(
                f"--patient {missing[0]!r} is not in the registry; check the pseudonym"
            )
        query = query.where(Patient.pseudonym.in_(patients))
    if wanted:
        query = query.where(PlanVersion.state.in_(wanted))
    return [
        RedoseCase(
            plan_version_id=version.id,
            patient_id=patient_id,
            pseudonym=pseudonym,
            label=label,
            version=version.version,
            case_yaml=version.case_yaml,
            activity_gbq=float(version.activity_gbq or 0.0),
            state_path=state_path(version, path_map),
        )
        for version, label, pseudonym, patient_id in session.execute(query)
    ]


def _row(outcome: Outcome, run_id: str, settings: RedoseSettings, created_by: str) -> RedoseResult:
    case = outcome.case
    common = {
        "run_id": run_id,
        "patient_id": case.patient_id,
        "plan_version_id": case.plan_version_id,
        "method": settings.label,
        "settings": settings.to_dict(),
        "activity_gbq": case.activity_gbq,
        "attempts": outcome.attempts,
        "created_by": created_by[:64],
    }
    if isinstance(outcome, CaseFailure):
        return RedoseResult(status="failed", error=outcome.error, **common)
    return RedoseResult(
        status="done",
        tumour_dose_gy=outcome.tumour_dose_gy,
        normal_liver_dose_gy=outcome.normal_liver_dose_gy,
        lung_dose_gy=outcome.lung_dose_gy,
        structures=outcome.structures,
        limits=[
            {
                "name": lim.name,
                "structure": lim.structure,
                "value": lim.limit_gy,
                "dose_gy": lim.dose_gy,
                "source": lim.source,
                "exceeded": lim.exceeded,
            }
            for lim in outcome.limits
        ],
        limits_exceeded=outcome.limits_exceeded,
        seconds=outcome.seconds,
        **common,
    )


def store_outcomes(
    session: Session,
    outcomes: Iterable[Outcome],
    *,
    run_id: str,
    settings: RedoseSettings,
    created_by: str,
) -> int:
    """Add one new result row per outcome, in the caller's transaction (the audit log
    records each row with the transaction's actor).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction (:meth:`opensirt.registry.database.Registry.transaction`).
    outcomes : iterable of CaseDose or CaseFailure
        The outcomes of a batch.
    run_id : str
        The run they belong to (32 hexadecimal digits).
    settings : RedoseSettings
        The settings of the run.
    created_by : str
        Who ran it.

    Returns
    -------
    int
        How many rows were added.
    """
    rows = [_row(o, run_id, settings, created_by) for o in outcomes]
    session.add_all(rows)
    session.flush()
    return len(rows)
