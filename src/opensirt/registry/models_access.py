"""The tables of access and accountability: the users, and the append-only audit log.

``users`` holds who may sign in (a role of :class:`~opensirt.registry.vocabulary.UserRole`
and an argon2id password hash, never a password). ``audit_log`` is a hash chain: each entry
carries the hash of the entry before it, and its own hash covers its content and that link,
so an edited or removed entry breaks the chain (:func:`opensirt.registry.audit.verify`).
Database triggers refuse UPDATE and DELETE on ``audit_log`` (migration 0002).
``audit_head`` is a single row holding the number of entries and the last entry's hash:
appenders lock it, so two writers never fork the chain, and a removed last entry (which leaves
an intact but shorter chain) is seen against it.

These models are imported by :mod:`opensirt.registry.models`, so ``Base.metadata`` always
holds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opensirt.registry.models import Base, coded, recorded_now
from opensirt.registry.vocabulary import UserRole

#: The ``prev_hash`` of the first entry of the chain (no entry before it).
GENESIS_HASH = "0" * 64


class User(Base):
    """A person who may sign in, with one role; never deleted, only disabled."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[UserRole] = mapped_column(coded(UserRole))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    #: The site whose patients the user sees when the service scopes data by site: a site
    #: code, ``*`` for every site, ``None`` for none (:mod:`opensirt.registry.sites`).
    site: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[dt.datetime] = recorded_now()
    password_changed_at: Mapped[dt.datetime] = recorded_now()


class AuditEntry(Base):
    """One entry of the audit log: who did what to which record, when, with content hashes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(sa.String(64))
    action: Mapped[str] = mapped_column(sa.String(32))
    entity: Mapped[str] = mapped_column(sa.String(64))
    entity_key: Mapped[str] = mapped_column(sa.String(128))
    before_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    after_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    entry_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_log_entity_key", "entity", "entity_key"),)


class AuditHead(Base):
    """The head of the audit chain: one row (id 1), locked by every appender."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entries: Mapped[int]
    last_hash: Mapped[str] = mapped_column(sa.String(64))

    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("entries >= 0", name="entries"),
    )
