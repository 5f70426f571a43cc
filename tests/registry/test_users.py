"""Users: names, roles, the password policy, argon2id hashes and signing in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from opensirt.errors import InputError
from opensirt.registry.database import Registry
from opensirt.registry.users import (
    add_user,
    authenticate,
    get_user,
    list_users,
    set_active,
    set_password,
)
from opensirt.registry.vocabulary import UserRole

PASSWORD = "correct horse battery"


def test_no_default_account(registry: Registry) -> None:
    with registry.transaction(readonly=True) as session:
        assert list_users(session) == []
        assert authenticate(session, "admin", "admin") is None


def test_add_and_authenticate(registry: Registry) -> None:
    with registry.transaction(actor="root") as session:
        user = add_user(session, "m.curie", "physicist", PASSWORD)
        assert user.role is UserRole.PHYSICIST
        assert user.active
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    with registry.transaction() as session:
        found = authenticate(session, "m.curie", PASSWORD)
        assert found is not None
        assert found.user_name == "m.curie"
        assert authenticate(session, "m.curie", PASSWORD + "x") is None
        assert authenticate(session, "nobody", PASSWORD) is None
        assert authenticate(session, "bad name!", PASSWORD) is None
        assert [u.user_name for u in list_users(session)] == ["m.curie"]


def test_duplicate_bad_role_bad_name_weak_password(registry: Registry) -> None:
    with registry.transaction() as session:
        add_user(session, "alice", UserRole.ADMIN, PASSWORD)
    with registry.transaction() as session:
        with pytest.raises(InputError, match="user 'alice' exists already"):
            add_user(session, "alice", "viewer", PASSWORD)
        with pytest.raises(InputError, match="role 'doctor' is not known; give one of admin"):
            add_user(session, "bob", "doctor", PASSWORD)
        with pytest.raises(InputError, match="user name 'b b' is not allowed"):
            add_user(session, "b b", "viewer", PASSWORD)
        with pytest.raises(InputError, match="at least 12 characters \\(it has 5\\)") as caught:
            add_user(session, "bob", "viewer", "tiny5")
        assert "tiny5" not in str(caught.value)
        with pytest.raises(InputError, match="at least 12"):
            add_user(session, "bob", "viewer", " " * 14)
        assert get_user(session, "bob") is None


def test_inactive_and_new_password(registry: Registry) -> None:
    with registry.transaction() as session:
        add_user(session, "nurse1", "nurse", PASSWORD)
        changed_before = get_user(session, "nurse1").password_changed_at  # type: ignore[union-attr]
    with registry.transaction() as session:
        set_active(session, "nurse1", False)
    with registry.transaction() as session:
        assert authenticate(session, "nurse1", PASSWORD) is None
        set_active(session, "nurse1", True)
        set_password(session, "nurse1", "another long passphrase")
    with registry.transaction() as session:
        assert authenticate(session, "nurse1", PASSWORD) is None
        user = authenticate(session, "nurse1", "another long passphrase")
        assert user is not None
        assert user.password_changed_at > changed_before
        with pytest.raises(InputError, match="there is no user 'ghost'"):
            set_password(session, "ghost", PASSWORD)
        with pytest.raises(InputError, match="there is no user 'ghost'"):
            set_active(session, "ghost", False)


def test_rehash_with_new_parameters(registry: Registry) -> None:
    """A hash made with weaker parameters is renewed at the next successful sign-in."""
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with registry.transaction() as session:
        user = add_user(session, "physicist2", "physicist", PASSWORD)
        user.password_hash = old
    with registry.transaction() as session:
        assert authenticate(session, "physicist2", PASSWORD) is not None
    with registry.transaction(readonly=True) as session:
        renewed = get_user(session, "physicist2")
        assert renewed is not None
        assert renewed.password_hash != old
        assert not PasswordHasher().check_needs_rehash(renewed.password_hash)
