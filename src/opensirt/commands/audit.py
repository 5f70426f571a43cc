"""``opensirt audit verify | log``: check the registry's audit log, and read it.

``verify`` walks the whole hash chain (:func:`opensirt.registry.audit.verify`): exit 0 when
it is intact, 1 with every problem listed (an edited entry, a deleted one, a broken link,
entries removed at the end). ``log`` prints the newest entries, of one record if asked.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import EXIT_ERROR, console, err_console
from opensirt.commands.registry import DbOption, registry_errors

audit_app = typer.Typer(
    name="audit",
    help="The registry's append-only, hash-chained audit log: who did what, when.",
    no_args_is_help=True,
)


def verify(db: DbOption = None) -> None:
    """Check every entry of the audit log and the links between them.

    Exit 0 when the log is intact; 1 with each problem listed.

    \b
    Examples:
      opensirt audit verify --db ./clinic.sqlite3
    """
    import sqlalchemy as sa

    from opensirt.registry.audit import verify as verify_log
    from opensirt.registry.database import open_registry
    from opensirt.registry.models_access import AuditEntry

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction(readonly=True) as session:
                problems = verify_log(session)
                count = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        finally:
            registry.dispose()
    if problems:
        for problem in problems:
            err_console.print(f"[bold red]Audit log:[/] {escape(problem)}")
        err_console.print(f"{len(problems)} problem(s) in the audit log.")
        raise typer.Exit(EXIT_ERROR)
    console.print(f"The audit log is intact: {count} entries, every hash and link checked.")


def log(
    entity: Annotated[
        str | None,
        typer.Option("--entity", help="Only this kind of record (patients, plan_versions ...)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Only the record with this key (id, pseudonym, user name)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many entries.")] = 50,
    db: DbOption = None,
) -> None:
    """Print the newest entries of the audit log, newest first.

    \b
    Examples:
      opensirt audit log --limit 20
      opensirt audit log --entity patients --key SIRT-0042
    """
    from opensirt.registry.audit import entries
    from opensirt.registry.database import open_registry

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction(readonly=True) as session:
                found = entries(session, entity=entity, key=key, limit=limit)
        finally:
            registry.dispose()
    table = Table("#", "time (UTC)", "actor", "action", "entity", "key", "before", "after")
    for entry in found:
        table.add_row(
            str(entry.id),
            f"{entry.at:%Y-%m-%d %H:%M:%S}",
            escape(entry.actor),
            entry.action,
            entry.entity,
            escape(entry.entity_key),
            (entry.before_sha256 or "")[:12],
            (entry.after_sha256 or "")[:12],
        )
    console.print(table if found else "No entries.")


def register(app: typer.Typer) -> None:
    """Add ``opensirt audit`` and its subcommands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The root command-line application.
    """
    audit_app.command("verify")(verify)
    audit_app.command("log")(log)
    app.add_typer(audit_app)
