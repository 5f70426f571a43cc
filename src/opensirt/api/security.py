"""Sessions, CSRF, the login limit and the security headers.

A session is a random token (256 bits) in an ``HttpOnly``, ``SameSite=Strict`` cookie; the
service keeps only its SHA-256, the user's name and the last use, in the registry (table
``web_sessions``), so sessions survive a restart and are shared by every worker process. CSRF:
the double-submit pattern (OWASP CSRF Prevention Cheat Sheet): a second token (an HMAC of the
session token), readable by the page in the cookie :data:`CSRF_COOKIE` and returned by ``GET
/api/me``, must come back in the header :data:`CSRF_HEADER` of every unsafe request, and it
must match the token bound to the session. Failed logins are counted per user name and per
client address in a sliding window, also in the registry (OWASP Authentication Cheat Sheet,
"Login throttling").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# the models first: every table mapped before models_access is read (no circular import)
from opensirt.registry import models as _models  # noqa: F401
from opensirt.registry.database import Registry
from opensirt.registry.models_access import User
from opensirt.registry.models_sessions import LoginFailure, WebSession
from opensirt.registry.vocabulary import UserRole

#: The session cookie.
SESSION_COOKIE = "opensirt_session"
#: The CSRF cookie (readable by the page's script, by design of the double submit).
CSRF_COOKIE = "opensirt_csrf"
#: The header that must repeat the CSRF token on POST, PUT, PATCH and DELETE.
CSRF_HEADER = "X-CSRF-Token"
#: Methods that change nothing and need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Content-Security-Policy: everything from the service itself, no inline script, no framing;
#: styles may be inline (the viewer sets element styles); images also as data: URLs (canvas).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Headers on every response (OWASP Secure Headers Project).
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: The registry time is read from this clock (tests pass their own).
Clock = Callable[[], dt.datetime]


def csrf_token_of(token: str) -> str:
    """The CSRF token bound to a session: HMAC-SHA256 of a fixed label, keyed by its token.

    Derived, it needs no storage and cannot be turned back into the session token (which the
    page's script never sees).

    Parameters
    ----------
    token : str
        The session token (the cookie's value).

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    return hmac.new(token.encode(), b"opensirt-csrf", hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LiveSession:
    """A session found by its token, with its user's role as the registry holds it now.

    Parameters
    ----------
    user_name : str
        The session's user.
    role : UserRole or None
        The user's role; ``None`` when the user is disabled or unknown.
    csrf_token : str
        The CSRF token bound to the session.
    site : str or None, optional
        The user's site (a code, ``*`` for every site, ``None``).
    """

    user_name: str
    role: UserRole | None
    csrf_token: str
    site: str | None = None


#: A session by the SHA-256 of its token, with its user's role (built once: every request runs
#: it).
_LOOKUP = (
    sa.select(WebSession.user_name, WebSession.last_seen_at, WebSession.expires_at)
    .add_columns(User.role, User.active, User.site)
    .outerjoin(User, User.user_name == WebSession.user_name)
    .where(WebSession.token_sha256 == sa.bindparam("key"))
)


class SessionStore:
    """The open sessions, in the registry's table ``web_sessions`` by the SHA-256 of their
    token (the token itself is never kept), so they survive a restart and every worker
    process sees them.

    Parameters
    ----------
    registry : Registry
        The registry holding the sessions.
    idle_s : float
        A session unused for this long (s) has ended.
    touch_s : float, optional
        A session's last use is written at most once per this interval (s, default 60), so
        a request normally only reads; a session may thus end up to ``touch_s`` early.
    clock : callable, optional
        The current time (aware UTC datetime); default the system clock.
    """

    def __init__(
        self, registry: Registry, idle_s: float, touch_s: float = 60.0, clock: Clock = _utc_now
    ) -> None:
        self._registry = registry
        self._idle = dt.timedelta(seconds=idle_s)
        self._touch = dt.timedelta(seconds=touch_s)
        self._clock = clock

    def open(self, user_name: str) -> tuple[str, str]:
        """Start a session for a user (and purge the expired ones).

        Parameters
        ----------
        user_name : str
            The user who logged in.

        Returns
        -------
        tuple of (str, str)
            The session token (for the cookie) and the CSRF token bound to it.
        """
        token, now = secrets.token_urlsafe(32), self._clock()
        with self._registry.transaction() as session:
            session.execute(sa.delete(WebSession).where(WebSession.expires_at <= now))
            session.execute(
                sa.insert(WebSession).values(
                    token_sha256=_digest(token),
                    user_name=user_name,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self._idle,
                )
            )
        return token, csrf_token_of(token)

    def lookup(self, token: str | None) -> LiveSession | None:
        """The live session of a token and its user's current role, refreshing its idle time.

        One read per request (session and role in one query); a write only when the last use
        is older than ``touch_s`` or the session has expired (then it is deleted).

        Parameters
        ----------
        token : str or None
            The session cookie's value.

        Returns
        -------
        LiveSession or None
            ``None`` for no, an unknown or an expired session.
        """
        if not token:
            return None
        key, now = _digest(token), self._clock()
        # Core on one pooled connection: the ORM session's own overhead was most of the
        # cost of this query, which every request pays
        with self._registry.read_connection() as connection:
            found = connection.execute(_LOOKUP, {"key": key}).one_or_none()
        if found is None:
            return None
        user_name, last_seen, expires, role, active, site = found
        if now >= expires:
            self._delete(WebSession.token_sha256 == key)
            return None
        if now - last_seen >= self._touch:
            with self._registry.transaction() as session:
                session.execute(
                    sa.update(WebSession)
                    .where(WebSession.token_sha256 == key)
                    .values(last_seen_at=now, expires_at=now + self._idle)
                )
        live_role = UserRole(role) if role is not None and active else None
        return LiveSession(user_name, live_role, csrf_token_of(token), site)

    def _delete(self, where: sa.ColumnElement[bool]) -> None:
        with self._registry.transaction() as session:
            session.execute(sa.delete(WebSession).where(where))

    def close(self, token: str | None) -> None:
        """End a session (logout); an unknown token is ignored.

        Parameters
        ----------
        token : str or None
            The session cookie's value.
        """
        if token:
            self._delete(WebSession.token_sha256 == _digest(token))

    def close_user(self, user_name: str) -> None:
        """End every session of a user (disabled, or password changed).

        Parameters
        ----------
        user_name : str
            The user.
        """
        self._delete(WebSession.user_name == user_name)

    def purge(self) -> None:
        """Delete the expired sessions (at every start and every login)."""
        self._delete(WebSession.expires_at <= self._clock())


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window, counted in the
    registry's table ``login_failures`` (shared by every worker, kept across a restart).

    Parameters
    ----------
    registry : Registry
        The registry holding the failures.
    max_failures : int
        Failures allowed per key within the window; the next attempt is refused.
    window_s : float
        The window (s).
    clock : callable, optional
        The current time (aware UTC datetime); default the system clock.
    """

    def __init__(
        self, registry: Registry, max_failures: int, window_s: float, clock: Clock = _utc_now
    ) -> None:
        self._registry = registry
        self._max = max_failures
        self._window = dt.timedelta(seconds=window_s)
        self._clock = clock

    def retry_after_s(self, *keys: str) -> int:
        """Seconds until a login for these keys is allowed again; 0 when it is allowed now.

        Parameters
        ----------
        *keys : str
            The keys of the attempt (``"user:NAME"``, ``"addr:HOST"``).

        Returns
        -------
        int
            0, or the seconds until the oldest counted failure leaves the window.
        """
        now = self._clock()
        query = (
            sa.select(sa.func.min(LoginFailure.at))
            .where(LoginFailure.key.in_(keys), LoginFailure.at > now - self._window)
            .group_by(LoginFailure.key)
            .having(sa.func.count() >= self._max)
        )
        with self._registry.transaction(readonly=True) as session:
            oldest = list(session.scalars(query))
        waits = [(self._window - (now - at)).total_seconds() for at in oldest]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        """Count a failed login against each key (and forget those older than the window).

        Parameters
        ----------
        *keys : str
            The keys of the attempt.
        """
        now = self._clock()
        with self._registry.transaction() as session:
            session.execute(sa.delete(LoginFailure).where(LoginFailure.at <= now - self._window))
            session.execute(sa.insert(LoginFailure), [{"key": k[:200], "at": now} for k in keys])

    def succeeded(self, user_key: str) -> None:
        """Forget a user's failures after a successful login (the address keeps its count).

        Parameters
        ----------
        user_key : str
            The user's key.
        """
        with self._registry.transaction() as session:
            session.execute(sa.delete(LoginFailure).where(LoginFailure.key == user_key[:200]))


def csrf_matches(request: Request, expected: str) -> bool:
    """Whether an unsafe request repeats the session's CSRF token in header and cookie.

    Parameters
    ----------
    request : starlette.requests.Request
        The request.
    expected : str
        The CSRF token bound to the request's session.

    Returns
    -------
    bool
        True for a safe method, or when the header and the cookie both equal ``expected``
        (compared in constant time).
    """
    if request.method in SAFE_METHODS:
        return True
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return hmac.compare_digest(header.encode(), expected.encode()) and hmac.compare_digest(
        cookie.encode(), expected.encode()
    )


class LimitsMiddleware:
    """ASGI middleware: the security headers on every HTTP response, 413 above the size limit.

    A plain ASGI middleware (it only wraps ``send``), not Starlette's ``BaseHTTPMiddleware``,
    which runs each request in an extra task with memory streams (a measurable share of a
    small request's time under load).

    Parameters
    ----------
    app : ASGI application
        The application inside.
    max_upload_bytes : int
        The largest ``Content-Length`` accepted (bytes).
    """

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call.

        Parameters
        ----------
        scope : dict
            The ASGI scope.
        receive : callable
            The ASGI receive channel.
        send : callable
            The ASGI send channel.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                message = {**message, "headers": headers.raw}
            await send(message)

        limit = self.max_upload_bytes
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = JSONResponse(
                {"detail": f"the request is larger than the limit of {limit} bytes"},
                status_code=413,
            )
            await response(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
