"""``opensirt serve``: the team's web service on the registry (uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from opensirt.api.settings import Settings

from opensirt.api.settings import REQUEST_THREADS
from opensirt.commands._common import EXIT_BAD_INPUT, console, err_console
from opensirt.commands.registry import DbOption, registry_errors

_SERVE_HELP = (
    "Serve the web pages and the JSON API on the registry.\n\n"
    "Users log in with accounts made by `opensirt users add NAME --role ROLE`; there is no "
    "default account, so the service refuses to start until an admin exists. --demo starts "
    "instead on a fresh temporary registry holding the demo patient (planned and verified by "
    "the demo pipeline), a draft of its plan to sign, 30 synthetic patients and one user per "
    "role, whose one-time passwords are printed at start.\n\n"
    "--workers N runs N worker processes (uvicorn) sharing the registry, whose sessions and "
    "login limit live in the database, as the progress of the background jobs; --demo always "
    "serves with one.\n\n"
    "--sites scopes the data by site (a registry shared by several hospitals): a user sees "
    "only the patients of the user's site (`opensirt users add NAME --role R --site CODE`; "
    "'*' for every site; admins see all), another site's patient is answered as unknown. "
    "Without it nothing is scoped (one centre).\n\n"
    "Behind HTTPS (a reverse proxy) give --secure-cookies. The API's schema is at "
    "/api/openapi.json. Requests are not logged one by one (every write, sign-off, login and "
    "export is in the audit log); --access-log logs each request to standard error.\n\n"
    "\b\nExamples:\n"
    "  opensirt serve --demo\n"
    "  opensirt serve --db ./clinic.sqlite3 --port 8080 --workers 2\n"
    "  opensirt serve --db postgresql://opensirt@dbhost/opensirt --sites --workers 4\n"
    "  opensirt serve --db postgresql://opensirt@dbhost/opensirt --host 0.0.0.0 --secure-cookies\n"
)


def _print_demo_users(passwords: dict[str, str], url: str) -> None:
    console.print("\n[bold]Demo users[/] (one-time passwords, this demo only):")
    for name, password in passwords.items():
        console.print(f"  {name:<10} {password}", markup=False, highlight=False)
    console.print(f"\nOpen [bold]{escape(url)}[/] and log in.\n")


def _demo_registry(folder: Path) -> tuple[str, dict[str, str]]:
    """Build the demo registry in ``folder``: its URL and the users' passwords."""
    from opensirt.api.demo_setup import (
        add_cohort,
        add_demo_users,
        add_draft_copies,
        demo_folder_registry,
    )
    from opensirt.commands.pathway import demo
    from opensirt.registry.database import open_registry

    url = demo_folder_registry(folder)
    open_registry(url, create=True).dispose()
    demo(folder / "demo", db=url)
    registry = open_registry(url)
    try:
        add_cohort(registry)
        add_draft_copies(registry)
        passwords = add_demo_users(registry)
    finally:
        registry.dispose()
    return url, passwords


def _has_admin(db: str | None) -> bool:
    from opensirt.registry.database import open_registry
    from opensirt.registry.users import list_users
    from opensirt.registry.vocabulary import UserRole

    registry = open_registry(db)
    try:
        with registry.transaction(readonly=True) as session:
            return any(u.role == UserRole.ADMIN and u.active for u in list_users(session))
    finally:
        registry.dispose()


def _serve_workers(
    settings: Settings, host: str, port: int, workers: int, access_log: bool
) -> None:
    """Run ``workers`` uvicorn worker processes, each building the app from the environment;
    the jobs a stopped service left running are marked failed once, here, before they start."""
    import uvicorn

    from opensirt.api.jobs import fail_interrupted
    from opensirt.registry.database import open_registry

    registry = open_registry(settings.db)
    try:
        fail_interrupted(registry)
    finally:
        registry.dispose()
    settings.to_environment()
    uvicorn.run(
        "opensirt.api.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    db: DbOption = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve a fresh temporary demo registry.")
    ] = False,
    secure_cookies: Annotated[
        bool,
        typer.Option("--secure-cookies", help="Send cookies over HTTPS only (behind a proxy)."),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            "--cache",
            help="Folder for the plan jobs' uploads and outputs (their reports stay there) and "
            "the viewer's volumes. Default: 'service' in the user's data folder (--demo: its "
            "temporary folder).",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Worker processes (--demo: one only)."),
    ] = 1,
    sites: Annotated[
        bool,
        typer.Option(
            "--sites", help="Scope the data by site: users see only their site's patients."
        ),
    ] = False,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            max=256,
            help="Threads running the requests in each worker (few are faster; more let more "
            "slow uploads run at once).",
        ),
    ] = REQUEST_THREADS,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log", help="Log every request (uvicorn's access log; costs CPU per request)."
        ),
    ] = False,
) -> None:
    """Serve the web pages and the JSON API on the registry."""
    import tempfile

    import uvicorn

    from opensirt.api.app import create_app
    from opensirt.api.settings import Settings
    from opensirt.registry.database import user_data_folder

    if demo and db is not None:
        err_console.print("[bold red]Error:[/] --demo makes its own registry; leave out --db")
        raise typer.Exit(EXIT_BAD_INPUT)
    if demo and workers > 1:
        err_console.print("[bold red]Error:[/] --demo serves with one worker; leave out --workers")
        raise typer.Exit(EXIT_BAD_INPUT)
    with tempfile.TemporaryDirectory(prefix="opensirt-serve-") as temp:
        folder = Path(temp)
        passwords: dict[str, str] = {}
        with registry_errors():
            if demo:
                db, passwords = _demo_registry(folder)
            elif not _has_admin(db):
                err_console.print(
                    "[bold red]Error:[/] the registry has no active admin user; add one with "
                    "`opensirt users add NAME --role admin` (same --db), then serve again"
                )
                raise typer.Exit(EXIT_BAD_INPUT)
            settings = Settings(
                db=db,
                cache_dir=data or (folder / "data" if demo else user_data_folder() / "service"),
                secure_cookie=secure_cookies,
                sites=sites,
                request_threads=threads,
            )
            if workers > 1:
                _serve_workers(settings, host, port, workers, access_log)
                return
            app = create_app(settings)
        if passwords:
            _print_demo_users(passwords, f"http://{host}:{port}/")
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The ``opensirt`` command-line application.
    """
    app.command("serve", help=_SERVE_HELP)(serve)
