"""The ``opensirt`` command line.

Exit codes: 0 success (a plan), 2 bad input, 3 a plan refused for safety, 1 unexpected error.

Every command runs under the thread policy of :mod:`opensirt._threads` (the math libraries
use ``OPENSIRT_THREADS`` threads, 1 by default). The command modules import numpy, scipy,
pydicom and the other heavy libraries inside their commands, so that ``opensirt --help``
starts at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from opensirt import __version__
from opensirt._threads import limited_threads, thread_count
from opensirt.commands import (
    analytics,
    audit,
    clinical,
    pacs,
    pathway,
    plan,
    registry,
    serve,
    users,
)
from opensirt.commands._common import EXIT_BAD_INPUT, err_console
from opensirt.errors import InputError
from opensirt.registry import ACTOR_ENV

app = typer.Typer(
    name="opensirt",
    help="OpenSIRT: radioembolization planning, dosimetry, verification and follow-up.\n\n"
    "Research software, not a certified medical device.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"opensirt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    user: str | None = typer.Option(
        None,
        "--user",
        envvar=ACTOR_ENV,
        help="Who acts, as the audit log of the registry names them "
        "(default: the operating-system user).",
        show_default=False,
    ),
) -> None:
    """OpenSIRT command line."""
    if user:
        os.environ[ACTOR_ENV] = user  # read by the registry's transactions (default_actor)


@contextmanager
def _thread_policy() -> Iterator[None]:
    """Run a command with the math libraries limited to ``OPENSIRT_THREADS`` threads."""
    try:
        count = thread_count()
    except InputError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    with limited_threads(0 if count is None else count):
        yield


for _group in (plan, clinical, pathway, registry, analytics, users, audit, serve, pacs):
    _group.register(app)
# the policy wraps the commands, not their --help
_groups = (app, registry.registry_app, analytics.analytics_app, pacs.pacs_app)
for _command in [c for group in _groups for c in group.registered_commands]:
    assert _command.callback is not None
    _command.callback = _thread_policy()(_command.callback)


def main() -> None:
    """Entry point of the ``opensirt`` console script."""
    app()
