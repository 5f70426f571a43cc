"""The schema belongs to the migrations: empty to head and back on both backends, and the
models never drift from what the migrations build."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from opensirt.registry.database import (
    RegistryError,
    create_registry_engine,
    current_revision,
    head_revision,
    migrate,
    open_registry,
    resolve_url,
)
from opensirt.registry.models import Base


def test_empty_to_head_and_back(empty_db_url: str) -> None:
    engine = create_registry_engine(resolve_url(empty_db_url))
    try:
        assert current_revision(engine) is None
        assert migrate(engine) == (None, head_revision())
        tables = set(sa.inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        assert migrate(engine, "base") == (head_revision(), None)
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(engine)  # and up again
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_the_migrations(empty_db_url: str) -> None:
    """Autogenerate finds nothing to do: a model change without a migration fails here."""
    engine = create_registry_engine(resolve_url(empty_db_url))
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_a_model_change_without_migration_is_seen(empty_db_url: str) -> None:
    engine = create_registry_engine(resolve_url(empty_db_url))
    try:
        migrate(engine)
        changed = sa.MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(changed)
        sa.Table("extra_table", changed, sa.Column("id", sa.Integer, primary_key=True))
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), changed)
        assert [d[0] for d in differences] == ["add_table"]
    finally:
        engine.dispose()


def test_open_refuses_an_older_or_missing_schema(empty_db_url: str) -> None:
    with pytest.raises(RegistryError, match=r"holds no OpenSIRT registry|no registry at"):
        open_registry(empty_db_url)
    engine = create_registry_engine(resolve_url(empty_db_url))
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
        with pytest.raises(RegistryError, match="revision ffff"):
            open_registry(empty_db_url)
    finally:
        engine.dispose()


def test_sqlite_settings(tmp_path: object) -> None:
    registry = open_registry(f"sqlite:///{tmp_path}/r.sqlite3", create=True)
    try:
        with registry.transaction() as session:
            assert session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        registry.dispose()


def test_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from opensirt.errors import InputError

    monkeypatch.delenv("OPENSIRT_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert resolve_url().database == f"{tmp_path}/opensirt/registry.sqlite3"
    monkeypatch.setenv("OPENSIRT_DB", "postgresql://u:secret@db.example/reg")
    url = resolve_url()
    assert url.drivername == "postgresql+psycopg"
    assert "secret" not in url.render_as_string(hide_password=True)
    assert resolve_url("my.sqlite3").database == "my.sqlite3"
    with pytest.raises(InputError, match="--db names the backend 'mysql'"):
        resolve_url("mysql://x/y")
