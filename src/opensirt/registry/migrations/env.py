"""Alembic's environment for the registry: runs the migrations on the caller's connection.

:func:`opensirt.registry.database.migrate` passes its open connection (inside its transaction)
in ``config.attributes["connection"]``; the command line ``alembic`` (for writing a new
revision: ``alembic -c <config> revision --autogenerate``) gets one from ``sqlalchemy.url``.
SQLite changes tables by copy-and-move (``render_as_batch``), as it cannot alter them.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, engine_from_config, pool

from opensirt.registry.models import Base, UtcDateTime

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations stand alone: the UTC date-time column is written as a plain DateTime."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(
        context.config.get_section(context.config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.begin() as connection:
        _run(connection)


_main()
