"""Sessions, CSRF, the login limit and the security headers.

A session is a random token (256 bits) in an ``HttpOnly``, ``SameSite=Strict`` cookie; the
service keeps only its SHA-256, the user's name and the last use, in memory (a restart ends
every session). CSRF: the double-submit pattern (OWASP CSRF Prevention Cheat Sheet): a second
random token, readable by the page in the cookie :data:`CSRF_COOKIE` and returned by ``GET
/api/me``, must come back in the header :data:`CSRF_HEADER` of every unsafe request, and it
must match the token bound to the session. Failed logins are counted per user name and per
client address in a sliding window (OWASP Authentication Cheat Sheet, "Login throttling").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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


@dataclass
class _Session:
    user_name: str
    csrf_token: str
    last_used: float


class SessionStore:
    """The open sessions, by the SHA-256 of their token (the token itself is never kept).

    Parameters
    ----------
    idle_s : float
        A session unused for this long (s) has ended.
    """

    def __init__(self, idle_s: float) -> None:
        self._idle_s = idle_s
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def open(self, user_name: str) -> tuple[str, str]:
        """Start a session for a user.

        Parameters
        ----------
        user_name : str
            The user who logged in.

        Returns
        -------
        tuple of (str, str)
            The session token (for the cookie) and the CSRF token bound to it.
        """
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[_digest(token)] = _Session(user_name, csrf, time.monotonic())
        return token, csrf

    def lookup(self, token: str | None) -> tuple[str, str] | None:
        """The user and CSRF token of a live session, refreshing its idle time.

        Parameters
        ----------
        token : str or None
            The session cookie's value.

        Returns
        -------
        tuple of (str, str) or None
            The user name and the session's CSRF token; ``None`` for no, an unknown or an
            expired session.
        """
        if not token:
            return None
        key, now = _digest(token), time.monotonic()
        with self._lock:
            found = self._sessions.get(key)
            if found is None:
                return None
            if now - found.last_used > self._idle_s:
                del self._sessions[key]
                return None
            found.last_used = now
            return found.user_name, found.csrf_token

    def close(self, token: str | None) -> None:
        """End a session (logout); an unknown token is ignored.

        Parameters
        ----------
        token : str or None
            The session cookie's value.
        """
        if token:
            with self._lock:
                self._sessions.pop(_digest(token), None)

    def close_user(self, user_name: str) -> None:
        """End every session of a user (disabled, or password changed).

        Parameters
        ----------
        user_name : str
            The user.
        """
        with self._lock:
            for key in [k for k, s in self._sessions.items() if s.user_name == user_name]:
                del self._sessions[key]


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window.

    Parameters
    ----------
    max_failures : int
        Failures allowed per key within the window; the next attempt is refused.
    window_s : float
        The window (s).
    """

    def __init__(self, max_failures: int, window_s: float) -> None:
        self._max = max_failures
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self._window_s:
            times.popleft()
        return times

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
        now = time.monotonic()
        with self._lock:
            waits = [
                self._window_s - (now - times[0])
                for times in (self._recent(k, now) for k in keys)
                if len(times) >= self._max
            ]
        return int(max(waits)) + 1 if waits else 0

    def failed(self, *keys: str) -> None:
        """Count a failed login against each key.

        Parameters
        ----------
        *keys : str
            The keys of the attempt.
        """
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, user_key: str) -> None:
        """Forget a user's failures after a successful login (the address keeps its count).

        Parameters
        ----------
        user_key : str
            The user's key.
        """
        with self._lock:
            self._failures.pop(user_key, None)


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


Handler = Callable[[Request], Awaitable[Response]]


def limits_middleware(max_upload_bytes: int) -> Callable[[Request, Handler], Awaitable[Response]]:
    """An HTTP middleware: the security headers on every response, 413 above the size limit.

    Parameters
    ----------
    max_upload_bytes : int
        The largest ``Content-Length`` accepted (bytes).

    Returns
    -------
    callable
        The middleware function for ``app.middleware("http")``.
    """

    async def middleware(request: Request, call_next: Handler) -> Response:
        length = request.headers.get("content-length")
        response: Response
        if length is not None and (not length.isdigit() or int(length) > max_upload_bytes):
            response = JSONResponse(
                {"detail": f"the request is larger than the limit of {max_upload_bytes} bytes"},
                status_code=413,
            )
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return middleware
