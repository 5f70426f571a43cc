"""The registry commands: ``opensirt registry init | migrate | ...``.

Every registry command takes ``--db`` (a file path or a database URL; default ``OPENSIRT_DB``,
then ``registry.sqlite3`` in the user's data folder) and runs as one transaction: it commits
whole, or fails with the database as it was. Exit codes: 0 success, 2 bad input (the message
names the field, the value and the fix), 4 a conflict with another user's change (reload and
try again), 1 a registry that cannot be opened.

The subcommands live in modules of their own, each with a ``register(registry_app)``
function; :func:`register` adds them all under ``opensirt registry``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.markup import escape

from opensirt.commands._common import console, err_console, exit_codes

#: Exit code of a conflict with another user's concurrent change.
EXIT_CONFLICT = 4

#: The ``--db`` option of every registry command.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="The registry: a SQLite file path or a database URL (postgresql://user@host/db). "
        "Default: $OPENSIRT_DB, else registry.sqlite3 in the user's data folder.",
        show_default=False,
    ),
]

registry_app = typer.Typer(
    name="registry",
    help="The pathway record of every patient: MDT decisions, plans, treatments, "
    "verification, adverse events, response and outcomes (SQLite or PostgreSQL).",
    no_args_is_help=True,
)


@contextmanager
def registry_errors() -> Iterator[None]:
    """Map registry errors to exit codes: a conflict is 4, everything else as :func:`exit_codes`.

    Yields
    ------
    None
        The body runs inside the mapping.
    """
    from opensirt.registry.database import ConflictError

    with exit_codes():
        try:
            yield
        except ConflictError as exc:
            err_console.print(f"[bold red]Conflict:[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_CONFLICT) from exc


def init(db: DbOption = None) -> None:
    """Create the registry (the SQLite file and its folder, or the schema in an empty
    PostgreSQL database) at the current schema; an existing current registry is left as is.

    \b
    Examples:
      opensirt registry init
      opensirt registry init --db ./clinic.sqlite3
      opensirt registry init --db postgresql://opensirt@dbhost/opensirt
    """
    from opensirt.registry.database import open_registry, shown

    with registry_errors():
        registry = open_registry(db, create=True)
        try:
            console.print(f"Registry ready: {escape(shown(registry.url))}")
        finally:
            registry.dispose()


def migrate(db: DbOption = None) -> None:
    """Upgrade the registry's schema to this version of OpenSIRT, in one transaction.

    Back the database up first. A registry written by a newer OpenSIRT is refused.

    \b
    Examples:
      opensirt registry migrate --db ./clinic.sqlite3
    """
    from opensirt.registry.database import (
        RegistryError,
        create_registry_engine,
        resolve_url,
        shown,
    )
    from opensirt.registry.database import (
        migrate as run_migrations,
    )

    with registry_errors():
        url = resolve_url(db)
        if url.get_backend_name() == "sqlite" and url.database:
            from pathlib import Path

            if not Path(url.database).exists():
                raise RegistryError(
                    f"no registry at {url.database}; create it with `opensirt registry init`"
                )
        engine = create_registry_engine(url)
        try:
            before, after = run_migrations(engine)
        finally:
            engine.dispose()
        if before == after:
            console.print(f"{escape(shown(url))} is current (schema revision {after}).")
        else:
            console.print(
                f"{escape(shown(url))} migrated from schema revision {before or '(empty)'} "
                f"to {after}."
            )


def register(app: typer.Typer) -> None:
    """Add ``opensirt registry`` and its subcommands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The root command-line application.
    """
    registry_app.command("init")(init)
    registry_app.command("migrate")(migrate)
    # the subcommand modules import this one (DbOption): import them here
    from opensirt.commands import (
        registry_cohort,
        registry_exchange,
        registry_read,
        registry_record,
        registry_synth,
    )

    for part in (
        registry_exchange,
        registry_cohort,
        registry_synth,
        registry_record,
        registry_read,
    ):
        part.register(registry_app)
    app.add_typer(registry_app)
