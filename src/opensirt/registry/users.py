"""The users of the registry: who may sign in, with which role, and their passwords.

Passwords are stored only as argon2id hashes made by argon2-cffi's
:class:`~argon2.PasswordHasher` with the library's defaults (RFC 9106's second recommended
option [RFC9106]_; the parameters travel inside each hash). A hash made with older parameters
is replaced by a new one at the next successful sign-in. A password is never logged, printed
or stored in clear. There is no default account: the first admin is made with
``opensirt users add NAME --role admin``. Users are never deleted (the audit log names them);
a user who leaves is disabled.

References
----------
.. [RFC9106] Biryukov A, Dinu D, Khovratovich D, Josefsson S. Argon2 Memory-Hard Function for
   Password Hashing and Proof-of-Work Applications. RFC 9106, IETF, September 2021.
   doi:10.17487/RFC9106
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.registry import store
from opensirt.registry.models_access import User
from opensirt.registry.sites import ALL_SITES, check_site
from opensirt.registry.vocabulary import UserRole

#: The shortest password accepted (characters).
MIN_PASSWORD_LENGTH = 12

#: What a user name may hold: 1 to 64 of letters, digits, dot, underscore and hyphen.
USER_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")

_HASHER = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown user, so that the answer takes as long."""
    return _HASHER.hash("not a password of anyone")


def check_user_name(user_name: str) -> str:
    """Refuse a user name outside the allowed characters and length.

    Parameters
    ----------
    user_name : str
        The proposed user name.

    Returns
    -------
    str
        The same name.

    Raises
    ------
    InputError
        If the name is empty, longer than 64 characters or holds other characters than
        ``A-Z a-z 0-9 . _ -``.
    """
    if USER_NAME_PATTERN.fullmatch(user_name) is None:
        raise InputError(
            f"user name {user_name!r} is not allowed: use 1 to 64 letters, digits, '.', '_' "
            "or '-' (no spaces)"
        )
    return user_name


def check_password(password: str) -> None:
    """Refuse a password that breaks the policy (at least 12 characters, not blank).

    Parameters
    ----------
    password : str
        The proposed password; it never appears in the message.

    Raises
    ------
    InputError
        If it has fewer than :data:`MIN_PASSWORD_LENGTH` characters or only white space.
    """
    if len(password) < MIN_PASSWORD_LENGTH or not password.strip():
        raise InputError(
            f"the password is too short: it must have at least {MIN_PASSWORD_LENGTH} characters "
            f"(it has {len(password)}); choose a longer one, a passphrase of several words"
        )


def get_user(session: Session, user_name: str) -> User | None:
    """The user with this name.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    user_name : str
        The user name.

    Returns
    -------
    User or None
        The row, or ``None`` if there is no such user.
    """
    return session.scalar(sa.select(User).where(User.user_name == user_name))


def _existing(session: Session, user_name: str) -> User:
    user = get_user(session, user_name)
    if user is None:
        raise InputError(
            f"there is no user {user_name!r}; see `opensirt users list`, or add the user with "
            "`opensirt users add NAME --role ROLE`"
        )
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by name.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.

    Returns
    -------
    list of User
        The rows, sorted by user name.
    """
    return list(session.scalars(sa.select(User).order_by(User.user_name)))


def add_user(
    session: Session,
    user_name: str,
    role: UserRole | str,
    password: str,
    site: str | None = None,
) -> User:
    """Add a user with a role, a password and, where the service scopes by site, a site.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    user_name : str
        The new user's name (1-64 characters of ``A-Z a-z 0-9 . _ -``).
    role : UserRole or str
        One of ``admin``, ``physicist``, ``physician``, ``nurse``, ``viewer``.
    password : str
        The password (at least :data:`MIN_PASSWORD_LENGTH` characters); only its argon2id hash
        is stored.
    site : str, optional
        The user's site: a code, or ``*`` for every site (:mod:`opensirt.registry.sites`);
        default none (with sites on, such a user sees no patient unless an admin).

    Returns
    -------
    User
        The new row (flushed: it has its id).

    Raises
    ------
    InputError
        If the name, role, site or password breaks a rule, or the name is taken.
    """
    check_user_name(user_name)
    try:
        role = UserRole(role)
    except ValueError:
        raise InputError(
            f"role {role!r} is not known; give one of {', '.join(r.value for r in UserRole)}"
        ) from None
    if site is not None and site != ALL_SITES:
        check_site(site)
    check_password(password)
    if get_user(session, user_name) is not None:
        raise InputError(f"user {user_name!r} exists already; choose another name")
    user = User(user_name=user_name, role=role, password_hash=_HASHER.hash(password), site=site)
    session.add(user)
    store.flush(session, f"user {user_name!r}")
    return user


def set_password(session: Session, user_name: str, password: str) -> User:
    """Give a user a new password.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    user_name : str
        The user.
    password : str
        The new password (the policy of :func:`check_password`).

    Returns
    -------
    User
        The changed row.

    Raises
    ------
    InputError
        If there is no such user or the password breaks the policy.
    """
    user = _existing(session, user_name)
    check_password(password)
    user.password_hash = _HASHER.hash(password)
    user.password_changed_at = dt.datetime.now(dt.UTC)
    store.flush(session, f"user {user_name!r}")
    return user


def set_active(session: Session, user_name: str, active: bool) -> User:
    """Enable or disable a user (a disabled user cannot sign in; the row stays).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    user_name : str
        The user.
    active : bool
        ``False`` to disable, ``True`` to enable again.

    Returns
    -------
    User
        The changed row.

    Raises
    ------
    InputError
        If there is no such user.
    """
    user = _existing(session, user_name)
    if user.active != active:
        user.active = active
        store.flush(session, f"user {user_name!r}")
    return user


def authenticate(session: Session, user_name: str, password: str) -> User | None:
    """Check a user's password; the user on success, ``None`` otherwise.

    An unknown user costs one hash verification as a known one does, so that the time taken
    does not tell whether a name exists. After a success with a hash made by older argon2
    parameters, the hash is replaced by one with the current parameters.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction (written to when the hash is renewed).
    user_name : str
        The name given.
    password : str
        The password given.

    Returns
    -------
    User or None
        The user if the name is known, the user active and the password right; else ``None``
        (the caller cannot, and should not, tell which of these failed).
    """
    user = get_user(session, user_name) if USER_NAME_PATTERN.fullmatch(user_name) else None
    try:
        _HASHER.verify(_dummy_hash() if user is None else user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
        store.flush(session, f"user {user_name!r}")
    return user
