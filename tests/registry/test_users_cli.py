"""``opensirt users``: add (prompted or from stdin), list, disable, enable, passwd."""

from __future__ import annotations

from typer.testing import CliRunner

from opensirt.cli import app
from opensirt.registry.database import Registry
from opensirt.registry.users import authenticate, get_user

PASSWORD = "a long enough passphrase"


def _db(registry: Registry) -> str:
    return registry.url.render_as_string(hide_password=False)


def test_add_prompted_twice_without_echo(registry: Registry) -> None:
    runner = CliRunner()
    db = _db(registry)
    result = runner.invoke(
        app, ["users", "add", "alice", "--role", "admin", "--db", db], input=f"{PASSWORD}\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "User alice added with role admin" in result.output
    assert PASSWORD not in result.output
    with registry.transaction(readonly=True) as session:
        assert authenticate(session, "alice", PASSWORD) is not None
    differ = runner.invoke(
        app, ["users", "add", "bob", "--role", "nurse", "--db", db], input=f"{PASSWORD}\nother\n"
    )
    assert differ.exit_code == 2
    assert "the two passwords differ" in differ.output
    assert PASSWORD not in differ.output


def test_stdin_list_disable_passwd(registry: Registry) -> None:
    runner = CliRunner()
    db = _db(registry)
    args = ["users", "add", "bob", "--role", "physician", "--password-stdin", "--db", db]
    assert runner.invoke(app, args, input=PASSWORD + "\n").exit_code == 0
    duplicate = runner.invoke(app, args, input=PASSWORD + "\n")
    assert duplicate.exit_code == 2
    assert "exists already" in duplicate.output
    weak = runner.invoke(
        app,
        ["users", "add", "eve", "--role", "viewer", "--password-stdin", "--db", db],
        input="weakpw\n",
    )
    assert weak.exit_code == 2
    assert "at least 12 characters" in weak.output
    assert "weakpw" not in weak.output
    bad_role = runner.invoke(
        app, ["users", "add", "eve", "--role", "boss", "--password-stdin", "--db", db], input="x\n"
    )
    assert bad_role.exit_code == 2
    assert "role 'boss' is not known" in bad_role.output
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert listed.exit_code == 0
    assert "bob" in listed.output
    assert "physician" in listed.output
    assert "$argon2" not in listed.output
    assert runner.invoke(app, ["users", "disable", "bob", "--db", db]).exit_code == 0
    with registry.transaction(readonly=True) as session:
        user = get_user(session, "bob")
        assert user is not None
        assert not user.active
    assert runner.invoke(app, ["users", "enable", "bob", "--db", db]).exit_code == 0
    new = "a different passphrase"
    changed = runner.invoke(
        app, ["users", "passwd", "bob", "--password-stdin", "--db", db], input=new + "\n"
    )
    assert changed.exit_code == 0
    assert new not in changed.output
    missing = runner.invoke(app, ["users", "disable", "ghost", "--db", db])
    assert missing.exit_code == 2
    assert "there is no user 'ghost'" in missing.output
    with registry.transaction(readonly=True) as session:
        assert authenticate(session, "bob", new) is not None
