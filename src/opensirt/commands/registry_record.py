"""Recording into the registry: ``opensirt registry add | sign`` and the ``--record`` options.

``add KIND FILE`` writes a file of records (YAML list, or CSV for the flat kinds) in one
transaction: every record, or none. ``sign`` signs a draft plan version as physicist or
physician. The ``--record`` options of ``plan``, ``verify``, ``assess`` and ``response`` write
through :mod:`opensirt.registry.pathway`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import console, emit_json
from opensirt.commands.registry import DbOption, registry_errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from opensirt.registry.models import PlanVersion


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
    from opensirt.registry.pathway import record_into
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
    """Sign a draft plan version as physicist or physician.

    Two signatures by two different users approve it (the earlier approved version becomes
    superseded). The plan's summary is shown first. Exit 2 for a version that is not a draft, a role
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
    from opensirt.registry.pathway import record_into
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
