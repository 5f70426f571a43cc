"""The web service's sessions and failed logins, kept in the registry.

Held in the database rather than in one process's memory, a session survives a restart of the
service and is seen by every worker process of ``opensirt serve --workers N``; so is the
count of failed logins that the login limit reads. Only hashes of the tokens are stored
(SHA-256): a copy of the database opens no session. The CSRF token of a session is derived
from its token by the service (an HMAC), so it needs no column.

These models are imported by :mod:`opensirt.registry.models`, so ``Base.metadata`` always
holds them.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from opensirt.registry.models import Base


class WebSession(Base):
    """A signed-in browser session of the web service, by the SHA-256 of its token."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """One failed login, counted against a key (``user:NAME`` or ``addr:HOST``)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[dt.datetime] = mapped_column(index=True)

    __table_args__ = (sa.Index("ix_login_failures_key_at", "key", "at"),)
