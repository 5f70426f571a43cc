"""The ``opensirt`` command line.

Exit codes: 0 success (a plan), 2 bad input, 3 a plan refused for safety, 1 unexpected error.
"""

from __future__ import annotations

import typer

from opensirt import __version__
from opensirt.commands import clinical, pathway, plan

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
) -> None:
    """OpenSIRT command line."""


for _group in (plan, clinical, pathway):
    _group.register(app)


def main() -> None:
    """Entry point of the ``opensirt`` console script."""
    app()
