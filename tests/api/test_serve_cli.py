"""``opensirt serve``: no default account, so no service without an admin."""

from __future__ import annotations

from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import Registry


def test_serve_refuses_a_registry_without_admin(registry: Registry, empty_db_url: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", empty_db_url, "--port", "1"])
    assert result.exit_code == 2
    assert "opensirt users add NAME --role admin" in " ".join(result.output.split())


def test_serve_demo_makes_its_own_registry(empty_db_url: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--demo", "--db", empty_db_url])
    assert result.exit_code == 2
    assert "leave out --db" in result.output
