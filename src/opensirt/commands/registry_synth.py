"""``opensirt registry synth N``: fill a registry with a reproducible synthetic cohort."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated

import typer
from rich.markup import escape

from opensirt.commands._common import console, err_console
from opensirt.commands.registry import DbOption, registry_errors


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date; give it as YYYY-MM-DD") from None


def synth(
    n: Annotated[int, typer.Argument(min=1, max=1_000_000, help="How many patients.")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="The seed: the same seed gives the same cohort.")
    ] = 0,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="End of follow-up, YYYY-MM-DD (default: today); no record is later."
        ),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Start of the pseudonyms: PREFIX-SEED-000001.")
    ] = "SYN",
    db: DbOption = None,
) -> None:
    """Add N synthetic patients (diagnoses, MDT decisions, plans from the planning code, SIRT
    and other therapies, response, adverse events and survival drawn from published
    distributions) in one transaction, for demonstrations and tests: never clinical data.

    \b
    Examples:
      opensirt registry synth 200 --seed 1 --db ./demo.sqlite3
      opensirt registry synth 10000 --seed 7 --until 2026-01-31
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from opensirt.demo.cohort import synthetic_cohort
    from opensirt.demo.cohort_writer import write_cohort
    from opensirt.errors import InputError
    from opensirt.registry.database import open_registry, shown

    end = _date(until)
    with registry_errors():
        if end is not None and end > dt.date.today():
            raise InputError(
                f"--until {end.isoformat()} is in the future; give today or an earlier date"
            )
        registry = open_registry(db, create=True)
        try:
            start = time.perf_counter()
            events = 0
            columns = (TextColumn("synthetic patients"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn())  # fmt: skip
            with (
                registry.transaction() as session,
                Progress(*columns, console=err_console, transient=True) as progress,
            ):
                task = progress.add_task("synth", total=n)
                people = synthetic_cohort(n, seed, until=end, prefix=prefix)
                for patients, records in write_cohort(session, people):
                    events += records
                    progress.advance(task, patients)
            seconds = time.perf_counter() - start
            console.print(
                f"Added {n} synthetic patients ({events} records) to "
                f"{escape(shown(registry.url))} in {seconds:.1f} s: "
                f"{n / seconds:.0f} patients/s."
            )
        finally:
            registry.dispose()


def register(registry_app: typer.Typer) -> None:
    """Add ``synth`` to ``opensirt registry``.

    Parameters
    ----------
    registry_app : typer.Typer
        The ``opensirt registry`` command group.
    """
    registry_app.command("synth")(synth)
