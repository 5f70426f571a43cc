"""``opensirt users add | list | disable | enable | passwd``: who may sign in to the service.

There is no default account: the first admin is made here, by whoever can open the registry
(the database file or its URL is the authority on the command line). Passwords are read from
the terminal without echo (asked twice) or, for scripts, from standard input
(``--password-stdin``, the first line); they are never printed. Every change is in the audit
log, with the operating-system user (or ``opensirt --user NAME``) as the actor.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from opensirt.commands._common import console
from opensirt.commands.registry import DbOption, registry_errors

users_app = typer.Typer(
    name="users",
    help="The users of the registry's web service: roles admin, physicist, physician, nurse, "
    "viewer; argon2id password hashes; no default account.",
    no_args_is_help=True,
)

_NameArgument = Annotated[str, typer.Argument(help="The user name (letters, digits, . _ -).")]
_StdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from the first line of standard input instead of asking.",
    ),
]


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked twice without echo."""
    from opensirt.errors import InputError

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("--password-stdin: standard input holds no password on its first line")
        return password
    first: str = typer.prompt("Password", hide_input=True)
    second: str = typer.prompt("Password again", hide_input=True)
    if first != second:
        raise InputError("the two passwords differ; nothing was changed, run the command again")
    return first


def add(
    user_name: _NameArgument,
    role: Annotated[
        str,
        typer.Option("--role", help="admin, physicist, physician, nurse or viewer."),
    ],
    password_stdin: _StdinOption = False,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            help="The user's site (a code such as UKB), or '*' for every site; used when the "
            "service runs with --sites (a user without a site then sees no patient).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user with a role; the password is asked twice (or read with --password-stdin).

    \b
    Examples:
      opensirt users add alice --role admin
      printf '%s\\n' "$PASSWORD" | opensirt users add bob --role physicist --password-stdin
      opensirt users add carol --role nurse --site UKB
    """
    from opensirt.registry.database import open_registry
    from opensirt.registry.sites import ALL_SITES, check_site
    from opensirt.registry.users import add_user, check_user_name

    with registry_errors():
        check_user_name(user_name)
        if site is not None and site != ALL_SITES:
            check_site(site)
        password = _read_password(password_stdin)
        registry = open_registry(db)
        try:
            with registry.transaction() as session:
                user = add_user(session, user_name, role, password, site)
        finally:
            registry.dispose()
        where = "" if site is None else f", site {escape(site)}"
        console.print(f"User {escape(user.user_name)} added with role {user.role.value}{where}.")


def list_(db: DbOption = None) -> None:
    """List the users: name, role, site, active, created, password changed.

    \b
    Examples:
      opensirt users list --db ./clinic.sqlite3
    """
    from opensirt.registry.database import open_registry
    from opensirt.registry.users import list_users

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction(readonly=True) as session:
                users = list_users(session)
        finally:
            registry.dispose()
        table = Table("user", "role", "site", "active", "created (UTC)", "password changed (UTC)")
        for user in users:
            table.add_row(
                escape(user.user_name),
                user.role.value,
                escape(user.site or "-"),
                "yes" if user.active else "no",
                f"{user.created_at:%Y-%m-%d %H:%M}",
                f"{user.password_changed_at:%Y-%m-%d %H:%M}",
            )
        console.print(table if users else "No users yet: add one with `opensirt users add`.")


def _set_active(user_name: str, active: bool, db: str | None) -> None:
    from opensirt.registry.database import open_registry
    from opensirt.registry.users import set_active

    with registry_errors():
        registry = open_registry(db)
        try:
            with registry.transaction() as session:
                set_active(session, user_name, active)
        finally:
            registry.dispose()
        console.print(f"User {escape(user_name)} {'enabled' if active else 'disabled'}.")


def disable(user_name: _NameArgument, db: DbOption = None) -> None:
    """Disable a user: they can no longer sign in; the record and its history stay.

    \b
    Examples:
      opensirt users disable bob
    """
    _set_active(user_name, False, db)


def enable(user_name: _NameArgument, db: DbOption = None) -> None:
    """Enable a disabled user again.

    \b
    Examples:
      opensirt users enable bob
    """
    _set_active(user_name, True, db)


def passwd(
    user_name: _NameArgument, password_stdin: _StdinOption = False, db: DbOption = None
) -> None:
    """Set a user's password (asked twice, or read with --password-stdin).

    \b
    Examples:
      opensirt users passwd bob
    """
    from opensirt.registry.database import open_registry
    from opensirt.registry.users import set_password

    with registry_errors():
        password = _read_password(password_stdin)
        registry = open_registry(db)
        try:
            with registry.transaction() as session:
                set_password(session, user_name, password)
        finally:
            registry.dispose()
        console.print(f"Password of {escape(user_name)} changed.")


def register(app: typer.Typer) -> None:
    """Add ``opensirt users`` and its subcommands to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The root command-line application.
    """
    users_app.command("add")(add)
    users_app.command("list")(list_)
    users_app.command("disable")(disable)
    users_app.command("enable")(enable)
    users_app.command("passwd")(passwd)
    app.add_typer(users_app)
