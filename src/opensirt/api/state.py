"""What the service holds while it runs, and the dependencies every endpoint uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

from opensirt.api.security import SESSION_COOKIE, LoginLimiter, SessionStore, csrf_matches
from opensirt.api.settings import Settings
from opensirt.registry.database import Registry
from opensirt.registry.sites import scope_of
from opensirt.registry.vocabulary import UserRole


@dataclass(frozen=True)
class ServiceState:
    """The open registry, the sessions and the login limiter of one running service.

    Parameters
    ----------
    settings : Settings
        How the service runs.
    registry : Registry
        The open registry.
    sessions : SessionStore
        The open sessions.
    limiter : LoginLimiter
        The failed-login counter.
    """

    settings: Settings
    registry: Registry
    sessions: SessionStore
    limiter: LoginLimiter


@dataclass(frozen=True)
class CurrentUser:
    """The user of a request's session.

    Parameters
    ----------
    user_name : str
        The user's name.
    role : UserRole
        The user's role (read from the registry with the session on every request, so a change
        applies at once).
    csrf_token : str
        The CSRF token bound to the session.
    scope : str or None, optional
        The site whose patients the user sees (:func:`opensirt.registry.sites.scope_of`);
        ``None`` for every patient (sites off, an admin, an all-sites user).
    """

    user_name: str
    role: UserRole
    csrf_token: str
    scope: str | None = None


def service(request: Request) -> ServiceState:
    """The state of the service that handles ``request``.

    Parameters
    ----------
    request : fastapi.Request
        The request.

    Returns
    -------
    ServiceState
        Set by :func:`opensirt.api.app.create_app`.
    """
    state: ServiceState = request.app.state.opensirt
    return state


def current_user(request: Request) -> CurrentUser:
    """The logged-in, active user of the request; 401 without, 403 on a CSRF failure.

    Parameters
    ----------
    request : fastapi.Request
        The request (its session cookie; for unsafe methods the CSRF header and cookie).

    Returns
    -------
    CurrentUser
        The user.

    Raises
    ------
    fastapi.HTTPException
        401 without a live session or for a disabled user; 403 when an unsafe request lacks
        the session's CSRF token in the header and the cookie.
    """
    state = service(request)
    token = request.cookies.get(SESSION_COOKIE)
    found = state.sessions.lookup(token)
    if found is None:
        raise HTTPException(401, "not logged in (or the session expired): log in at /login")
    user_name, role, csrf = found.user_name, found.role, found.csrf_token
    if role is None:
        state.sessions.close(token)
        raise HTTPException(401, "this account is disabled: log in as another user")
    if not csrf_matches(request, csrf):
        raise HTTPException(
            403, "the CSRF token is missing or wrong: send the X-CSRF-Token header from /api/me"
        )
    scope = scope_of(role, found.site, enabled=state.settings.sites)
    return CurrentUser(user_name, role, csrf, scope)


def require_role(*roles: UserRole) -> Callable[[Request], CurrentUser]:
    """A dependency admitting only users of these roles (403 for the others).

    Parameters
    ----------
    *roles : UserRole
        The roles allowed.

    Returns
    -------
    callable
        The dependency; it returns the :class:`CurrentUser`.
    """
    allowed = frozenset(roles)

    def dependency(request: Request) -> CurrentUser:
        user = current_user(request)
        if user.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise HTTPException(
                403, f"a {user.role.value} may not do this; it needs the role {names}"
            )
        return user

    return dependency


#: Roles that record clinical data (every role but viewer and admin).
CLINICAL_ROLES = (UserRole.PHYSICIST, UserRole.PHYSICIAN, UserRole.NURSE)
