"""Reading the registry: ``opensirt registry list | timeline | summary``.

Each command reads in one read-only transaction. Tables fold long values onto further lines
and never cut a pseudonym or a DICOM UID; ``--json`` prints the documented structures of
:class:`opensirt.registry.timeline.Timeline` and :class:`~opensirt.registry.timeline.PatientRow`
instead. An unknown patient is bad input (exit 2) with the way to find the right id.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import console, emit_json, print_rendered, render
from opensirt.commands.registry import DbOption, registry_errors
from opensirt.registry.vocabulary import Diagnosis, Therapy

if TYPE_CHECKING:
    from opensirt.registry.timeline import PatientList, Timeline

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON instead of a table (structure in the README).")
]
_HINT = " (`opensirt registry list` shows the patients)"


def _patient_table(page: PatientList) -> Table:
    shown = f"{page.offset + 1}-{page.offset + len(page.rows)}" if page.rows else "none"
    table = Table(
        title=f"Patients {shown} of {page.total}",
        title_justify="left",
    )
    for column in (
        "patient",
        "diagnosis",
        "diagnosed",
        "first SIRT",
        "sessions",
        "latest plan",
        "last record",
        "vital status",
    ):
        table.add_column(
            column, overflow="fold", justify="right" if column == "sessions" else "left"
        )
    for row in page.rows:
        vital = row.vital_status + ("" if row.died is None else f" ({row.died.isoformat()})")
        table.add_row(
            escape(row.pseudonym),
            row.diagnosis.value,
            row.diagnosis_date.isoformat(),
            "—" if row.first_sirt is None else row.first_sirt.isoformat(),
            str(row.sessions),
            row.latest_plan_state or "—",
            row.last_record.isoformat(),
            vital,
        )
    return table


def list_command(
    db: DbOption = None,
    diagnosis: Annotated[
        Diagnosis | None, typer.Option("--diagnosis", help="Only patients with this diagnosis.")
    ] = None,
    therapy: Annotated[
        Therapy | None,
        typer.Option("--therapy", help="Only patients with a treatment session of this therapy."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many patients.")] = 50,
    offset: Annotated[
        int, typer.Option("--offset", min=0, help="Skip this many patients first.")
    ] = 0,
    json_out: JsonOption = False,
) -> None:
    """List the patients by pseudonym, a page at a time.

    Per patient: diagnosis and its date, first SIRT, number of treatment sessions, state of
    the latest plan version, date of the latest record and vital status.

    \b
    Examples:
      opensirt registry list
      opensirt registry list --diagnosis hcc --therapy sirt --limit 20 --offset 40
      opensirt registry list --json
    """
    from opensirt.registry.database import open_registry
    from opensirt.registry.timeline import list_patients

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction(readonly=True) as session:
                page = list_patients(
                    session,
                    diagnosis=diagnosis,
                    therapy=None if therapy is None else therapy.value,
                    limit=limit,
                    offset=offset,
                )
        finally:
            registry.dispose()
    if json_out:
        emit_json(
            {
                "total": page.total,
                "offset": page.offset,
                "patients": [row.to_dict() for row in page.rows],
            }
        )
        return
    print_rendered(render(lambda: console.print(_patient_table(page))))


def _timeline_table(line: Timeline) -> Table:
    table = Table(
        title=(
            f"Pathway of {escape(line.pseudonym)}: {line.sex.value}, born {line.birth_year}, "
            f"{line.diagnosis.value} diagnosed {line.diagnosis_date.isoformat()}"
        ),
        title_justify="left",
    )
    table.add_column("date", no_wrap=True)
    table.add_column("kind", overflow="fold")
    table.add_column("summary", overflow="fold")
    for entry in line.entries:
        table.add_row(entry.date.isoformat(), entry.kind.value, escape(entry.summary))
    return table


def _read_timelines(db: str | None, patients: list[str]) -> list[Timeline]:
    from opensirt.registry.database import open_registry
    from opensirt.registry.store import PatientNotFoundError
    from opensirt.registry.timeline import timeline

    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            try:
                return [timeline(session, p) for p in patients]
            except PatientNotFoundError as exc:
                raise PatientNotFoundError(f"{exc}{_HINT}") from None
    finally:
        registry.dispose()


def timeline_command(
    patient: Annotated[
        str, typer.Argument(help="The patient's pseudonym.", metavar="PATIENT", show_default=False)
    ],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show a patient's pathway in date order, one line per record.

    MDT decisions, findings, labs, quality of life, imaging, work-up, plan versions,
    treatments, monitoring, verification, adverse events, lesions, responses and outcomes.

    \b
    Examples:
      opensirt registry timeline DEMO-001
      opensirt registry timeline DEMO-001 --json
    """
    with registry_errors():
        (line,) = _read_timelines(db, [patient])
    if json_out:
        emit_json(line.to_dict())
        return
    print_rendered(render(lambda: console.print(_timeline_table(line))))


def summary_command(
    patients: Annotated[
        list[str],
        typer.Argument(help="One or more pseudonyms.", metavar="PATIENT", show_default=False),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="The PDF to write (default: PATIENT-summary.pdf, or pathway-summaries.pdf "
            "for several patients).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a one-page PDF pathway summary per patient.

    Key numbers (activity planned and delivered, doses, best response, worst adverse event,
    vital status and follow-up), a figure of the treatments and events by date, and the
    pathway as a table. Several patients go into one file, each from a new page.

    \b
    Examples:
      opensirt registry summary DEMO-001
      opensirt registry summary P-01 P-02 P-03 --out cohort.pdf
    """
    from opensirt.registry.summary import write_summaries

    with registry_errors():
        lines = _read_timelines(db, patients)
        target = out or Path(
            f"{patients[0]}-summary.pdf" if len(patients) == 1 else "pathway-summaries.pdf"
        )
        written = write_summaries(lines, target)
    console.print(f"Pathway summary written: {escape(str(written))}")


def register(registry_app: typer.Typer) -> None:
    """Add ``list``, ``timeline`` and ``summary`` to ``opensirt registry``.

    Parameters
    ----------
    registry_app : typer.Typer
        The ``opensirt registry`` command group.
    """
    registry_app.command("list")(list_command)
    registry_app.command("timeline")(timeline_command)
    registry_app.command("summary")(summary_command)
