"""Recording the results of the pathway commands into the registry ``--db`` names.

What ``opensirt plan | verify | assess | response --record`` call: each opens the registry
(``--db``, else ``OPENSIRT_DB``, else the user's registry), writes in one transaction through
:mod:`opensirt.registry.recording` and returns the sentence the command prints. A failure
raises before anything is committed.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

from opensirt.clinical.measurements import read_measurements
from opensirt.clinical.response import PatientResponse
from opensirt.errors import InputError
from opensirt.fileio import read_text_file
from opensirt.planning.case import Case
from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
from opensirt.planning.result import PlanResult
from opensirt.registry import store
from opensirt.registry.database import open_registry
from opensirt.registry.recording import (
    default_plan_label,
    input_fingerprint,
    record_assessment,
    record_plan,
    record_response,
    record_verification,
    tumour_volumes_ml,
)
from opensirt.workflow.posttreatment import VerificationResult
from opensirt.workflow.pretreatment import PreTreatmentResult

_T = TypeVar("_T")


def current_user(user: str | None) -> str:
    """The user name recorded: ``user`` if given, else the operating-system user.

    Parameters
    ----------
    user : str or None
        The name given with ``--user``.

    Returns
    -------
    str
        A name of 1-64 characters.
    """
    name = (user or "").strip() or getpass.getuser()
    return name[:64]


def record_into(db: str | None, write: Callable[[Session], _T], *, actor: str | None = None) -> _T:
    """Run ``write`` in one registry transaction: all of it is committed, or nothing.

    Parameters
    ----------
    db : str or None
        The ``--db`` value (``None``: ``OPENSIRT_DB``, then the user's registry).
    write : callable
        Writes into the session it is given; an exception rolls everything back.
    actor : str, optional
        Who acts, as the audit log names them (default: the operating-system user).

    Returns
    -------
    object
        What ``write`` returned.

    Raises
    ------
    RegistryError
        If the registry cannot be opened (missing: ``opensirt registry init``).
    """
    registry = open_registry(db)
    try:
        with registry.transaction(actor=actor) as session:
            return write(session)
    finally:
        registry.dispose()


def check_patient(db: str | None, pseudonym: str) -> None:
    """Refuse early, before any computation, a ``--record`` whose patient is not there.

    Parameters
    ----------
    db : str or None
        The ``--db`` value.
    pseudonym : str
        The case's ``patient.id``.

    Raises
    ------
    RegistryError
        If the registry cannot be opened.
    InputError
        If the patient is not in it (the message says how to add the patient).
    """
    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            store.get_patient(session, pseudonym)
    finally:
        registry.dispose()


def record_plan_result(
    db: str | None,
    case_file: Path,
    case: Case,
    result: PlanResult,
    *,
    pre: PreTreatmentResult | None,
    out: Path | None,
    label: str | None,
    user: str | None,
) -> str:
    """``plan --record``: the plan of a case as a draft version of the patient's plan.

    Parameters
    ----------
    db : str or None
        The ``--db`` value.
    case_file : Path
        The case file planned (its text is kept with the version).
    case : Case
        The case as read.
    result : PlanResult
        The prescribed plan (a refused plan is recorded without activity).
    pre : PreTreatmentResult or None
        The plan from the images, when the case has images (its JSON is kept).
    out : Path or None
        The ``--out`` folder, whose report and RT Dose paths are kept.
    label : str or None
        ``--plan-label`` (default: the case's territory names).
    user : str or None
        ``--user`` (default: the operating-system user).

    Returns
    -------
    str
        What was recorded, in a sentence for the user.
    """
    case_path = case_file.resolve()
    text = read_text_file(case_path, what="case file", max_bytes=MAX_CASE_FILE_BYTES)
    sources = pre.images.sources if pre is not None else {}
    fingerprint = input_fingerprint(case, case_path, sources)
    report = rtdose = None
    if out is not None:
        report = str((out / "plan.pdf").resolve())
        if pre is not None and result.activity_gbq is not None:
            rtdose = str((out / "plan_rtdose.dcm").resolve())

    def write(session: Session) -> str:
        version = record_plan(
            session,
            case,
            case_yaml=text,
            result=result,
            result_json=pre.to_dict() if pre is not None else result.to_dict(),
            input_fingerprint=fingerprint,
            label=label or default_plan_label(case),
            created_by=current_user(user),
            day=dt.date.today(),
            report_path=report,
            rtdose_path=rtdose,
            tumour_volumes=None if pre is None else tumour_volumes_ml(pre.image_case),
        )
        what = (
            "refused for safety: kept as a record, it cannot be signed"
            if version.activity_gbq is None
            else "a physicist and a physician sign it with `opensirt registry sign`"
        )
        return (
            f"Recorded: plan {version.plan.label!r} version {version.version} "
            f"({version.state.value}) of {case.patient.id}; {what}."
        )

    return record_into(db, write, actor=current_user(user))


def record_verification_result(
    db: str | None, result: VerificationResult, *, plan_label: str | None, user: str | None = None
) -> str:
    """``verify --record``: the verification, linked to the SIRT session of its treatment.

    Parameters
    ----------
    db : str or None
        The ``--db`` value.
    result : VerificationResult
        The verification (its case names the patient and holds the treatment record).
    plan_label : str or None
        ``--plan-label``: the plan whose approved version the session delivered (used when
        the session is created from the case's treatment record).
    user : str, optional
        ``--user``: who records it, as the audit log names them (default: ``opensirt --user``
        or ``OPENSIRT_USER``, else the operating-system user).

    Returns
    -------
    str
        What was recorded, in a sentence for the user.
    """

    def write(session: Session) -> str:
        row = record_verification(
            session, result, result_json=result.to_dict(), plan_label=plan_label
        )
        return (
            f"Recorded: verification of {result.case.patient.id} on {row.date.isoformat()} "
            f"({len(row.structures)} structures), linked to the SIRT session of that date."
        )

    return record_into(db, write, actor=current_user(user) if user else None)


def record_assessment_of_case(db: str | None, case: Case, on: str | None) -> str:
    """``assess --record``: the case's labs and clinical findings of a date.

    Parameters
    ----------
    db : str or None
        The ``--db`` value.
    case : Case
        The case assessed.
    on : str or None
        ``--date`` (ISO 8601; default: today).

    Returns
    -------
    str
        What was recorded, in a sentence for the user.

    Raises
    ------
    InputError
        If the date is not an ISO date, the patient is not in the registry, or the date is not
        plausible.
    """
    try:
        day = dt.date.today() if on is None else dt.date.fromisoformat(on)
    except ValueError:
        raise InputError(f"--date is {on!r}; expected a date such as 2025-02-03") from None
    counts = record_into(db, lambda session: record_assessment(session, case, day))
    what = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in sorted(counts.items()))
    what = what or "nothing (the case has no patient.labs and no clinical: section)"
    return f"Recorded for {case.patient.id} on {day.isoformat()}: {what}."


def record_response_table(db: str | None, table: Path, patients: list[PatientResponse]) -> str:
    """``response --record``: every lesion measurement and the responses per date.

    Parameters
    ----------
    db : str or None
        The ``--db`` value.
    table : Path
        The measurement table (read again for its rows).
    patients : list of PatientResponse
        The responses computed from it.

    Returns
    -------
    str
        What was recorded, in a sentence for the user.
    """
    rows, _warnings = read_measurements(table)
    counts = record_into(db, lambda session: record_response(session, rows, patients))
    return (
        f"Recorded {counts['lesion_measurements']} lesion measurements and "
        f"{counts['response_assessments']} time-point responses."
    )
