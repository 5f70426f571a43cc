"""Recording into the registry: ``opensirt registry add | sign`` and the ``--record`` options.

``add KIND FILE`` writes a file of records (YAML list, or CSV for the flat kinds) in one
transaction: every record, or none. ``sign`` signs a draft plan version as physicist or
physician. :func:`record_into` is what ``plan``, ``verify``, ``assess``, ``response`` and
``demo`` call for ``--record``.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import console, emit_json
from opensirt.commands.registry import DbOption, registry_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from opensirt.clinical.response import PatientResponse
    from opensirt.planning.case import Case
    from opensirt.planning.result import PlanResult
    from opensirt.registry.models import PlanVersion
    from opensirt.workflow.posttreatment import VerificationResult
    from opensirt.workflow.pretreatment import PreTreatmentResult

_T = TypeVar("_T")

#: The ``--record`` option of the pathway commands.
RecordOption = Annotated[
    bool,
    typer.Option(
        "--record",
        help="Also record the result in the registry (--db, else $OPENSIRT_DB, else the "
        "user's registry); the patient (the case's patient.id) must be in it.",
    ),
]

#: The ``--user`` option: who records or signs (default: the operating-system user).
UserOption = Annotated[
    str | None,
    typer.Option("--user", help="Who records it (default: the operating-system user name)."),
]


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


def record_into(db: str | None, write: Callable[[Session], _T]) -> _T:
    """Run ``write`` in one registry transaction: all of it is committed, or nothing.

    Parameters
    ----------
    db : str or None
        The ``--db`` value (``None``: ``OPENSIRT_DB``, then the user's registry).
    write : callable
        Writes into the session it is given; an exception rolls everything back.

    Returns
    -------
    object
        What ``write`` returned.

    Raises
    ------
    RegistryError
        If the registry cannot be opened (missing: ``opensirt registry init``).
    """
    from opensirt.registry.database import open_registry

    registry = open_registry(db)
    try:
        with registry.transaction() as session:
            return write(session)
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
    import datetime as dt

    from opensirt.fileio import read_text_file
    from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
    from opensirt.registry.recording import default_plan_label, input_fingerprint, record_plan

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

    return record_into(db, write)


def record_verification_result(
    db: str | None, result: VerificationResult, *, plan_label: str | None
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

    Returns
    -------
    str
        What was recorded, in a sentence for the user.
    """
    from opensirt.registry.recording import record_verification

    def write(session: Session) -> str:
        row = record_verification(
            session, result, result_json=result.to_dict(), plan_label=plan_label
        )
        return (
            f"Recorded: verification of {result.case.patient.id} on {row.date.isoformat()} "
            f"({len(row.structures)} structures), linked to the SIRT session of that date."
        )

    return record_into(db, write)


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
    import datetime as dt

    from opensirt.errors import InputError
    from opensirt.registry.recording import record_assessment

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
    from opensirt.clinical.measurements import read_measurements
    from opensirt.registry.recording import record_response

    rows, _warnings = read_measurements(table)
    counts = record_into(db, lambda session: record_response(session, rows, patients))
    return (
        f"Recorded {counts['lesion_measurements']} lesion measurements and "
        f"{counts['response_assessments']} time-point responses."
    )


#: The demo's registry inside its output folder (used unless ``--db`` names another).
DEMO_REGISTRY_NAME = "registry.sqlite3"


def record_demo_pathway(
    db: str | None, stage: Path, outdir: Path, case_path: Path, result: VerificationResult
) -> str:
    """``opensirt demo``: record the demo patient's pathway.

    Without ``--db`` the demo writes a registry of its own, ``registry.sqlite3`` in the output
    folder: the demo never writes into the user's registry (``OPENSIRT_DB`` is not read)
    unless ``--db`` asks for it.

    Parameters
    ----------
    db : str or None
        The demo's ``--db`` value.
    stage : Path
        The staging folder the demo writes into (moved to ``outdir`` at the end).
    outdir : Path
        The output folder, whose final paths are recorded.
    case_path : Path
        The demo case file (in ``stage``).
    result : VerificationResult
        The demo's verification (its ``pre`` is the plan).

    Returns
    -------
    str
        The sentence that tells the user where the pathway was recorded and how to see it.
    """
    from opensirt.clinical.assess import assess_case
    from opensirt.commands.clinical import image_plan_facts
    from opensirt.fileio import read_text_file
    from opensirt.planning.case_file import MAX_CASE_FILE_BYTES
    from opensirt.registry.database import open_registry, resolve_url, shown
    from opensirt.registry.recording import input_fingerprint
    from opensirt.synthetic.demo_record import record_demo

    pre = result.pre
    case = result.case
    text = read_text_file(case_path, what="case file", max_bytes=MAX_CASE_FILE_BYTES)
    fingerprint = input_fingerprint(case, case_path, pre.images.sources)
    assessment = assess_case(case, image_plan_facts(pre)).to_dict()
    plan_folder = (outdir / "plan").resolve()
    registry = open_registry(stage / DEMO_REGISTRY_NAME if db is None else db, create=db is None)
    try:
        with registry.transaction() as session:
            pseudonym = record_demo(
                session,
                case,
                result,
                case_yaml=text,
                assessment=assessment,
                input_fingerprint=fingerprint,
                report_path=str(plan_folder / "plan.pdf"),
                rtdose_path=str(plan_folder / "plan_rtdose.dcm"),
            )
    finally:
        registry.dispose()
    url = shown(resolve_url(outdir / DEMO_REGISTRY_NAME if db is None else db))
    where = str(outdir / DEMO_REGISTRY_NAME) if db is None else url
    return (
        f"Recorded {pseudonym}'s pathway (MDT decision, signed plan, session, verification) in "
        f"{url}; show it with: opensirt registry timeline {pseudonym} --db {where}"
    )


def _counts_table(counts: dict[str, int]) -> Table:
    table = Table(title="Added", title_justify="left")
    table.add_column("records")
    table.add_column("count", justify="right")
    for name, count in sorted(counts.items()):
        table.add_row(name.replace("_", " "), str(count))
    return table


def add(
    kind: Annotated[
        str,
        typer.Argument(
            help="patient, labs, findings, qol, mdt, imaging, workup, session, monitoring, "
            "adverse-event, outcome, measurements, response or verification."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="YAML (a list of records) or CSV (flat kinds).")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Add the records of a file to the registry, all or none.

    Every record is checked first; a bad one stops the whole file with exit 2 and a message
    naming the file, the record, the field, the value and the fix. The formats are in the
    README (section Registry) and examples/registry/.

    \b
    Examples:
      opensirt registry add patient examples/registry/patients.csv
      opensirt registry add mdt examples/registry/mdt.yaml --db ./clinic.sqlite3
      opensirt registry add measurements follow-up.csv
    """
    from opensirt.registry.files import read_record_file
    from opensirt.registry.recording import add_records

    with registry_errors():
        records = read_record_file(file, kind)
        counts = dict(record_into(db, lambda session: add_records(session, records)))
    if as_json:
        emit_json({"file": str(file), "kind": kind, "added": counts})
        return
    console.print(_counts_table(counts))


def _version_table(version: PlanVersion) -> Table:
    def gy(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} Gy"

    table = Table(
        title=f"Plan {escape(version.plan.label)}, version {version.version} "
        f"({version.state.value})",
        title_justify="left",
    )
    table.add_column("field")
    table.add_column("value", overflow="fold")
    signed = ", ".join(f"{s.role.value}: {s.user_name}" for s in version.signatures)
    rows = [
        ("date", version.date.isoformat()),
        ("method, device", f"{version.method}, {version.device}"),
        (
            "activity",
            "refused (no activity)"
            if version.activity_gbq is None
            else f"{version.activity_gbq:.3f} GBq",
        ),
        ("tumour (lowest mean)", gy(version.tumour_dose_gy)),
        ("normal liver", gy(version.normal_liver_dose_gy)),
        ("lung", gy(version.lung_dose_gy)),
        ("input fingerprint", version.input_fingerprint[:12]),
        ("created by", version.created_by),
        ("signatures", signed or "none"),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


def sign(
    patient: Annotated[str, typer.Argument(help="The patient's pseudonymised id.")],
    plan_label: Annotated[str, typer.Argument(help="The plan's label (e.g. 'right lobe').")],
    role: Annotated[str, typer.Option("--role", help="physicist or physician.")],
    user: Annotated[str, typer.Option("--user", help="Who signs (1-64 characters).")],
    version: Annotated[
        int | None,
        typer.Option("--version", min=1, help="The version to sign (default: the newest)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Sign a draft plan version as physicist or physician; two signatures by two different
    users approve it (the earlier approved version becomes superseded).

    The plan's summary is shown first. Exit 2 for a version that is not a draft, a role
    signed already or the same user twice; 4 when someone changed the version meanwhile.

    \b
    Examples:
      opensirt registry sign SIRT-0042 "right lobe" --role physicist --user mphys1
      opensirt registry sign SIRT-0042 "right lobe" --role physician --user dr-ir2 --version 2
    """
    import sqlalchemy as sa

    from opensirt.errors import InputError
    from opensirt.registry import store
    from opensirt.registry.models import Plan, PlanVersion
    from opensirt.registry.vocabulary import SignatureRole

    def write(session: Session) -> PlanVersion:
        try:
            signer = SignatureRole(role)
        except ValueError:
            raise InputError(
                f"--role is {role!r}; expected {' or '.join(r.value for r in SignatureRole)}"
            ) from None
        found = store.get_patient(session, patient)
        plan = session.scalar(
            sa.select(Plan).where(Plan.patient_id == found.id, Plan.label == plan_label)
        )
        if plan is None:
            labels = session.scalars(sa.select(Plan.label).where(Plan.patient_id == found.id))
            raise InputError(
                f"{patient} has no plan {plan_label!r} (plans: {', '.join(labels) or 'none'}); "
                "record it with `opensirt plan CASE --record` or correct the label"
            )
        chosen = (
            store.latest_version(session, plan)
            if version is None
            else session.scalar(
                sa.select(PlanVersion).where(
                    PlanVersion.plan_id == plan.id, PlanVersion.version == version
                )
            )
        )
        if chosen is None:
            raise InputError(f"plan {plan_label!r} of {patient} has no version {version}")
        console.print(_version_table(chosen))
        if chosen.activity_gbq is None:
            raise InputError(
                f"plan {plan_label!r} version {chosen.version} was refused for safety (no "
                "activity); it cannot be signed: change the case and record a new plan"
            )
        return store.sign_plan_version(session, chosen, signer, user)

    with registry_errors():
        signed = record_into(db, write)
    console.print(
        f"Signed as {escape(role)} by {escape(user)}: plan {escape(plan_label)} version "
        f"{signed.version} is {signed.state.value}."
    )


def register(registry_app: typer.Typer) -> None:
    """Add ``add`` and ``sign`` to the ``opensirt registry`` group.

    Parameters
    ----------
    registry_app : typer.Typer
        The ``opensirt registry`` command group.
    """
    registry_app.command("add")(add)
    registry_app.command("sign")(sign)
