"""``opensirt registry export-cohort``: the registry's SIRT patients as a cohort table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from opensirt.commands._common import console
from opensirt.commands.registry import DbOption, registry_errors


def export_cohort(
    out: Annotated[Path, typer.Argument(help="The cohort table to write (CSV).")],
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="Only patients matching KEY=VALUE; repeat it, all must hold. Keys: "
            "diagnosis=hcc|icc|crc|net|breast|other; alive=yes|no; "
            "diagnosed-from=YYYY-MM-DD; diagnosed-to=YYYY-MM-DD; pseudonym=TEXT (contained).",
            show_default=False,
        ),
    ] = None,
    criteria: Annotated[
        str,
        typer.Option("--criteria", help="Response criteria of best_response: recist1.1, "
                     "mrecist or easl."),
    ] = "recist1.1",
    group_by: Annotated[
        str,
        typer.Option("--group-by", help="What fills the group column: none, diagnosis, "
                     "device or sex."),
    ] = "none",
    db: DbOption = None,
) -> None:  # fmt: skip
    """Write the cohort table (docs/cohort_table.md) of every patient with a SIRT session:
    times from the first SIRT, death, progression, best response, verified (else planned)
    tumour and normal-liver doses, worst liver toxicity grade; extra columns age_years, sex,
    device, dose_source. The file is written atomically.

    \b
    Examples:
      opensirt registry export-cohort cohort.csv --db demo.sqlite3
      opensirt registry export-cohort hcc.csv --where diagnosis=hcc --criteria mrecist
      opensirt registry export-cohort dead.csv --where alive=no --where diagnosed-from=2024-01-01
    """
    from opensirt.analytics.cohort import write_cohort
    from opensirt.analytics.cohort_export import export_cohort as build
    from opensirt.analytics.cohort_export import parse_where
    from opensirt.registry.database import open_registry

    with registry_errors():
        filters = parse_where(where or [])
        registry = open_registry(db)
        try:
            with registry.transaction() as session:
                cohort = build(session, filters, criteria=criteria, group_by=group_by)
        finally:
            registry.dispose()
        write_cohort(cohort, out)
        console.print(f"Wrote {cohort.n} patients to {escape(str(out))}")


def register(registry_app: typer.Typer) -> None:
    """Add ``export-cohort`` to ``opensirt registry``.

    Parameters
    ----------
    registry_app : typer.Typer
        The ``opensirt registry`` command group.
    """
    registry_app.command("export-cohort")(export_cohort)
