"""``opensirt audit verify | log`` and the audit entries of the registry commands."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry import audit
from opensirt.registry.database import Registry

PASSWORD = "a long enough passphrase"


def test_verify_and_log(registry: Registry) -> None:
    runner = CliRunner()
    db = registry.url.render_as_string(hide_password=False)
    args = ["--user", "root", "users", "add", "amy", "--role", "admin", "--password-stdin"]
    added = runner.invoke(
        app,
        [*args, "--db", db],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["users", "disable", "amy", "--db", db]).exit_code == 0
    intact = runner.invoke(app, ["audit", "verify", "--db", db])
    assert intact.exit_code == 0, intact.output
    assert "intact: 2 entries" in intact.output
    log = runner.invoke(app, ["audit", "log", "--entity", "users", "--key", "amy", "--db", db])
    assert log.exit_code == 0
    assert "root" in log.output
    assert "insert" in log.output
    assert "update" in log.output
    assert PASSWORD not in log.output
    with registry.transaction(readonly=True) as session:
        (changed,) = [e for e in audit.history(session, "users", "amy") if e.action == "update"]
        assert changed.detail == {"changed": ["active"]}
    backend = registry.url.get_backend_name()
    with registry.engine.begin() as connection:
        if backend == "sqlite":
            connection.execute(sa.text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        connection.execute(sa.text("DELETE FROM audit_log WHERE id = 1"))
    broken = runner.invoke(app, ["audit", "verify", "--db", db])
    assert broken.exit_code == 1
    assert "entry 1 is missing before entry 2 (deleted)" in broken.output
