"""Sites: which hospital's patients a user of the web service sees.

A registry shared by several hospitals (a network, a regional centre) scopes its data by site
when the service runs with sites (``opensirt serve --sites``); without, nothing is scoped
(a single-centre registry). With sites:

* a patient belongs to one site (``patients.site``, a code such as ``UKB`` given when the
  patient is added: the patient record's ``site`` field, also in the exchange bundle);
* a user has a site (``users.site``): a code, :data:`ALL_SITES` (``*``, e.g. a physicist
  working for every site), or none; an admin sees every site;
* a user sees only the patients of the user's site, and everything that belongs to them
  (timeline, plans, signatures, verifications, files, records, exports, audit history, jobs);
  another site's patient is answered as unknown (404), its existence not revealed. A user
  without a site sees no patient, nor does anyone but an all-sites user see a patient
  without a site: a scoping forgotten fails closed.

The rule is one condition on ``patients.site`` (:func:`restrict`), added to a query that reads
patients; a user's scope is :func:`scope_of`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from opensirt.errors import InputError
from opensirt.registry.audit import patient_of
from opensirt.registry.models import Base, Patient
from opensirt.registry.vocabulary import UserRole

#: A user's site meaning every site.
ALL_SITES = "*"
#: The scope of a user without a site: matches no patient (site codes are never empty).
NO_SITE = ""
#: What a site code may hold: 1 to 32 of letters, digits, dot, underscore and hyphen.
SITE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"

_Query = TypeVar("_Query", bound=sa.Select[Any])


def check_site(code: str) -> str:
    """Refuse a site code outside the allowed characters and length.

    Parameters
    ----------
    code : str
        The proposed site code.

    Returns
    -------
    str
        The same code.

    Raises
    ------
    InputError
        If it is empty, longer than 32 characters or holds other characters than
        ``A-Z a-z 0-9 . _ -`` (a letter or digit first).

    Examples
    --------
    >>> check_site("UKB-2")
    'UKB-2'
    """
    if re.fullmatch(SITE_PATTERN, code) is None:
        raise InputError(
            f"site {code!r} is not allowed: use 1 to 32 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. UKB)"
        )
    return code


def scope_of(role: UserRole, user_site: str | None, *, enabled: bool) -> str | None:
    """The site a user's reads and writes are limited to.

    Parameters
    ----------
    role : UserRole
        The user's role (an admin sees every site).
    user_site : str or None
        The user's site: a code, :data:`ALL_SITES` or ``None``.
    enabled : bool
        Whether the service scopes by site (``opensirt serve --sites``).

    Returns
    -------
    str or None
        ``None`` for every patient (sites off, an admin, an all-sites user); else the site
        code, or :data:`NO_SITE` (no patient) for a user without a site.

    Examples
    --------
    >>> scope_of(UserRole.NURSE, "UKB", enabled=True)
    'UKB'
    >>> scope_of(UserRole.NURSE, "UKB", enabled=False) is None
    True
    >>> scope_of(UserRole.NURSE, None, enabled=True)
    ''
    """
    if not enabled or role is UserRole.ADMIN or user_site == ALL_SITES:
        return None
    return user_site or NO_SITE


def restrict(query: _Query, scope: str | None) -> _Query:
    """Add the site condition to a query that reads :class:`Patient` (joined or selected).

    Parameters
    ----------
    query : sqlalchemy.Select
        The query.
    scope : str or None
        As :func:`scope_of` gives it; ``None`` leaves the query as it is.

    Returns
    -------
    sqlalchemy.Select
        The query limited to the patients of the site.
    """
    return query if scope is None else query.where(Patient.site == scope)


def visible(session: Session, patient_id: int | None, scope: str | None) -> bool:
    """Whether a patient (by record id) is within a scope.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    patient_id : int or None
        The patient's record id; ``None`` (a row of no patient) is visible only unscoped.
    scope : str or None
        As :func:`scope_of` gives it.

    Returns
    -------
    bool
        True when the patient exists and belongs to the scope's site (or ``scope`` is None).
    """
    if scope is None:
        return True
    if patient_id is None:
        return False
    query = restrict(sa.select(Patient.id).where(Patient.id == patient_id), scope)
    return session.scalar(query) is not None


def record_visible(session: Session, entity: str, key: str, scope: str | None) -> bool:
    """Whether a record, named as the audit log names it, is within a scope.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        The open transaction.
    entity : str
        Its table (``patients``, ``plan_versions`` ...).
    key : str
        Its key: the pseudonym of a patient, else the record id.
    scope : str or None
        As :func:`scope_of` gives it.

    Returns
    -------
    bool
        True unscoped; scoped, only for an existing record of a patient of the site (a
        user, a job or a deleted record is not shown).
    """
    if scope is None:
        return True
    if entity == "patients":
        query = sa.select(Patient.id).where(Patient.pseudonym == key)
        return session.scalar(restrict(query, scope)) is not None
    model = next(
        (m.class_ for m in Base.registry.mappers if m.class_.__tablename__ == entity), None
    )
    if model is None or not key.isdigit():
        return False
    row = session.get(model, int(key))
    return row is not None and visible(session, patient_of(row), scope)
