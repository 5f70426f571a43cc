"""Where the registry lives and how it is opened: SQLite by default, PostgreSQL by URL.

The database is chosen, first match wins, by

1. the ``--db`` option of a command: a file path (SQLite) or an SQLAlchemy URL;
2. the ``OPENSIRT_DB`` environment variable, the same;
3. ``registry.sqlite3`` in the user's data folder (``$XDG_DATA_HOME/opensirt`` or
   ``~/.local/share/opensirt`` on Linux, ``~/Library/Application Support/opensirt`` on macOS,
   ``%LOCALAPPDATA%\\opensirt`` on Windows).

SQLite is opened with foreign keys on, write-ahead logging (readers never wait for a writer)
and a busy timeout; a write transaction starts with ``BEGIN IMMEDIATE`` so that two writing
processes queue for the lock instead of failing half-way. PostgreSQL (``postgresql://`` or
``postgresql+psycopg://`` URLs, driver psycopg 3) needs no such settings.

Every command runs in one transaction (:func:`transaction`): it commits whole or leaves the
database as it was. The schema belongs to the Alembic migrations (:func:`migrate`); a database
whose schema is older or newer than this software's is refused with the way out.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from opensirt.errors import InputError, OpenSIRTError
from opensirt.registry import ACTOR_ENV

#: The environment variable naming the registry database (a path or an SQLAlchemy URL).
DB_ENV = "OPENSIRT_DB"

#: The file name of the default SQLite registry in the user's data folder.
DEFAULT_FILE_NAME = "registry.sqlite3"

#: How long a SQLite writer waits for another writer's lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: SQLite connections kept open in the pool: as many as the web service's worker threads
#: (anyio's default thread limit, 40), so that none is closed after use and opened again
#: under load (a new connection starts with an empty page cache and runs the pragmas again).
SQLITE_POOL_SIZE = 40
#: Bytes of a SQLite file read through memory mapping (256 MiB): the pages are read from the
#: operating system's cache shared by every connection, instead of being copied into each
#: connection's own cache (https://sqlite.org/mmap.html).
SQLITE_MMAP_BYTES = 256 * 1024 * 1024

_BACKENDS = ("sqlite", "postgresql")


#: The ``Session.info`` key of who acts in the transaction (see :meth:`Registry.transaction`).
ACTOR_KEY = "actor"


def default_actor() -> str:
    """Who acts when a transaction names nobody: ``OPENSIRT_USER``, else the system user.

    Returns
    -------
    str
        ``$OPENSIRT_USER`` (set by ``opensirt --user NAME``) if set, else the login name of the
        operating-system user (:func:`getpass.getuser`), or ``"unknown"`` where there is none.
    """
    if os.environ.get(ACTOR_ENV):
        return os.environ[ACTOR_ENV]
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "unknown"


class RegistryError(OpenSIRTError):
    """The registry cannot be opened or used as asked (schema version, connection)."""


class ConflictError(OpenSIRTError):
    """Someone else changed the same record first; reload it and try again."""


def user_data_folder() -> Path:
    """The folder where OpenSIRT keeps the user's registry.

    Returns
    -------
    pathlib.Path
        ``$XDG_DATA_HOME/opensirt`` (default ``~/.local/share/opensirt``) on Linux and other
        POSIX systems, ``~/Library/Application Support/opensirt`` on macOS,
        ``%LOCALAPPDATA%\\opensirt`` on Windows. It is not created here.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "opensirt"


def resolve_url(db: str | os.PathLike[str] | None = None) -> URL:
    """The database URL for a ``--db`` value, ``OPENSIRT_DB`` or the default file.

    Parameters
    ----------
    db : str or path-like, optional
        A file path (an SQLite database) or an SQLAlchemy URL (``sqlite:///...``,
        ``postgresql+psycopg://user@host/db``). ``None`` looks at ``OPENSIRT_DB``, then uses
        the default file in :func:`user_data_folder`.

    Returns
    -------
    sqlalchemy.engine.URL
        The URL; PostgreSQL URLs without a driver get psycopg 3.

    Raises
    ------
    InputError
        If the URL cannot be parsed or names a backend other than SQLite or PostgreSQL.
    """
    given = os.fspath(db) if db is not None else os.environ.get(DB_ENV) or None
    where = "--db" if db is not None else DB_ENV
    if given is None:
        return URL.create("sqlite", database=str(user_data_folder() / DEFAULT_FILE_NAME))
    if "://" not in given:
        return URL.create("sqlite", database=str(Path(given).expanduser()))
    try:
        url = make_url(given)
    except ArgumentError as exc:
        raise InputError(
            f"{where} is not a database URL ({exc}); give a file path or a URL "
            "such as postgresql://user@host/opensirt"
        ) from None
    if url.get_backend_name() not in _BACKENDS:
        raise InputError(
            f"{where} names the backend {url.get_backend_name()!r}; the registry runs on "
            "SQLite (a file path or sqlite:///PATH) or PostgreSQL (postgresql://...)"
        )
    if url.get_backend_name() == "postgresql" and "+" not in url.drivername:
        url = url.set(drivername="postgresql+psycopg")
    return url


def shown(url: URL) -> str:
    """A URL as it may be printed: the password hidden.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        The database URL.

    Returns
    -------
    str
        The URL with any password replaced by ``***``.
    """
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys, WAL, a busy timeout and memory-mapped reads on every new SQLite
    connection."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    """Start SQLite transactions explicitly: IMMEDIATE for writers, deferred for readers."""
    readonly = connection.get_execution_options().get("opensirt_readonly", False)
    connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_registry_engine(url: URL) -> Engine:
    """An engine for the registry at ``url``, with the SQLite settings described above.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        From :func:`resolve_url`.

    Returns
    -------
    sqlalchemy.engine.Engine
        The engine; for SQLite the folder of the file must exist.
    """
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    # the driver's own transaction handling off: transactions begin in _sqlite_begin
    in_memory = url.database in (None, "", ":memory:")  # one connection per thread there
    pool = {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
    engine = sa.create_engine(url, connect_args={"isolation_level": None, "timeout": 30}, **pool)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _alembic_config(url: URL) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("opensirt.registry") / "migrations")
    )
    config.set_main_option(
        "sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%")
    )
    return config


def head_revision() -> str:
    """The newest schema revision this software knows.

    Returns
    -------
    str
        The Alembic revision id of the head migration.
    """
    script = ScriptDirectory.from_config(_alembic_config(URL.create("sqlite")))
    head = script.get_current_head()
    assert head is not None  # the package ships its migrations
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database behind ``engine``.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        An engine from :func:`create_registry_engine`.

    Returns
    -------
    str or None
        The revision id, or ``None`` for a database that holds no registry yet.
    """
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade (or, given an older revision, downgrade) the schema, in one transaction.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The registry's engine.
    revision : str, optional
        The target revision: ``"head"`` (default) for the newest, ``"base"`` for an empty
        database, or a revision id.

    Returns
    -------
    tuple of (str or None, str or None)
        The revision before and after.
    """
    before = current_revision(engine)
    config = _alembic_config(engine.url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        target = head_revision() if revision == "head" else revision
        script = ScriptDirectory.from_config(config)
        known = {r.revision for r in script.walk_revisions()}
        if before is not None and before not in known:
            raise RegistryError(
                f"the registry {shown(engine.url)} is at schema revision {before}, which this "
                "OpenSIRT does not know (written by a newer version?); upgrade OpenSIRT"
            )
        if target == "base" or (
            before is not None and target != before and _is_older(script, target, before)
        ):
            command.downgrade(config, target)
        else:
            command.upgrade(config, target)
    return before, current_revision(engine)


def _is_older(script: ScriptDirectory, target: str, current: str) -> bool:
    """Whether ``target`` lies below ``current`` in the revision history."""
    return any(r.revision == target for r in script.iterate_revisions(current, "base"))


@dataclass(frozen=True)
class Registry:
    """An open registry: its URL and engine.

    Use :func:`open_registry` to get one whose schema is current, and
    :meth:`Registry.transaction` for every unit of work.
    """

    url: URL
    engine: Engine

    @contextmanager
    def transaction(self, *, readonly: bool = False, actor: str | None = None) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Parameters
        ----------
        readonly : bool, optional
            ``True`` for a block that only reads (SQLite then takes no write lock).
        actor : str, optional
            Who acts, as the audit log names them (``session.info["actor"]``): the signed-in
            user of the service, or ``--user`` of a command. Default: the operating-system
            user running the process.

        Yields
        ------
        sqlalchemy.orm.Session
            The session of the transaction; its objects stay readable after the block.
        """
        engine = self._readonly_engine if readonly else self.engine
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if actor or not readonly:  # a reader writes no audit entry: no need to look it up
                session.info[ACTOR_KEY] = actor or default_actor()
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[sa.Connection]:
        """A connection in a read-only transaction, for SQLAlchemy Core queries.

        For the reads that every request of the service makes (its session): without the
        ORM session, a small query costs a fraction of what it costs through one.

        Yields
        ------
        sqlalchemy.Connection
            The connection; its transaction ends (nothing to commit) when the block ends.
        """
        with self._readonly_engine.begin() as connection:
            yield connection

    @cached_property
    def _readonly_engine(self) -> Engine:
        """The engine whose transactions begin as readers (SQLite: a deferred ``BEGIN``)."""
        return self.engine.execution_options(opensirt_readonly=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def open_registry(db: str | os.PathLike[str] | None = None, *, create: bool = False) -> Registry:
    """Open the registry, checking that its schema is the one this software writes.

    Parameters
    ----------
    db : str or path-like, optional
        As for :func:`resolve_url`.
    create : bool, optional
        Create the SQLite file (and its folder) and the schema when there is none
        (``opensirt registry init``); otherwise a missing registry is an error.

    Returns
    -------
    Registry
        The open registry.

    Raises
    ------
    RegistryError
        If the database cannot be reached, holds no registry (and ``create`` is false), or its
        schema is older (run ``opensirt registry migrate``) or newer than this software's.
    """
    url = resolve_url(db)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.exists() and not create:
            raise RegistryError(
                f"no registry at {path}; create it with `opensirt registry init`"
                + ("" if db is not None else f" (or set {DB_ENV} / --db to another database)")
            )
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_registry_engine(url)
    try:
        revision = current_revision(engine)
        if revision is None and create:
            migrate(engine)
            revision = current_revision(engine)
    except OperationalError as exc:
        engine.dispose()
        raise RegistryError(f"cannot open the registry {shown(url)}: {exc.orig}") from None
    head = head_revision()
    if revision != head:
        engine.dispose()
        if revision is None:
            raise RegistryError(
                f"{shown(url)} holds no OpenSIRT registry; create it with `opensirt registry init`"
            )
        raise RegistryError(
            f"the registry {shown(url)} is at schema revision {revision}, this OpenSIRT needs "
            f"{head}: back it up, then run `opensirt registry migrate`"
        )
    return Registry(url, engine)
