"""``/api/login``, ``/api/logout`` and ``/api/me``: sessions, each login on record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opensirt.api.errors import validation_errors
from opensirt.api.security import CSRF_COOKIE, SESSION_COOKIE
from opensirt.api.state import CurrentUser, current_user, service
from opensirt.registry import audit
from opensirt.registry.users import authenticate

router = APIRouter(prefix="/api", tags=["session"])


class LoginIn(BaseModel):
    """The login form: a user name and a password (never logged, never returned)."""

    model_config = ConfigDict(extra="forbid")

    user_name: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024, repr=False)]


class MeOut(BaseModel):
    """The logged-in user and the CSRF token the page must send with every change."""

    user_name: str
    role: str
    csrf_token: str


async def _login_form(request: Request) -> LoginIn:
    """The login fields from a JSON body or an HTML form; 422 when malformed."""
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            data: Any = await request.json()
        else:
            data = dict(await request.form())
        return LoginIn.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(422, validation_errors(exc)) from None
    except ValueError:
        raise HTTPException(422, "the body is not valid JSON or form data") from None


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=MeOut)
async def login(request: Request, response: Response) -> MeOut:
    """Log in: a session cookie and a CSRF token; 401 for a wrong name or password, 429 after
    too many failures (per user name and per client address).

    Parameters
    ----------
    request : fastapi.Request
        The request: JSON ``{user_name, password}`` or the same as form fields.
    response : fastapi.Response
        The response, which gets the cookies.

    Returns
    -------
    MeOut
        The user, the role and the CSRF token.
    """
    form = await _login_form(request)
    state = service(request)
    keys = (f"user:{form.user_name}", f"addr:{_client(request)}")
    wait_s = state.limiter.retry_after_s(*keys)
    if wait_s:
        raise HTTPException(
            429,
            f"too many failed logins; try again in {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )
    with state.registry.transaction(actor=form.user_name) as session:
        user = authenticate(session, form.user_name, form.password)
        action = audit.AuditAction.LOGIN if user is not None else audit.AuditAction.LOGIN_FAILED
        audit.append(
            session,
            actor=form.user_name,
            action=action,
            entity="users",
            key=form.user_name,
            detail={"client": _client(request)},
        )
        role = None if user is None else str(user.role)
    if role is None:
        state.limiter.failed(*keys)
        raise HTTPException(401, "wrong user name or password")
    state.limiter.succeeded(keys[0])
    token, csrf = state.sessions.open(form.user_name)
    secure = state.settings.secure_cookie
    max_age = int(state.settings.session_idle_s)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, httponly=False, samesite="strict", secure=secure, max_age=max_age
    )
    return MeOut(user_name=form.user_name, role=role, csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(
    request: Request, response: Response, user: Annotated[CurrentUser, Depends(current_user)]
) -> None:
    """End the session (on record).

    Parameters
    ----------
    request : fastapi.Request
        The request with the session cookie.
    response : fastapi.Response
        The response, which clears the cookies.
    user : CurrentUser
        The user logging out.
    """
    state = service(request)
    state.sessions.close(request.cookies.get(SESSION_COOKIE))
    with state.registry.transaction(actor=user.user_name) as session:
        audit.append(
            session,
            actor=user.user_name,
            action=audit.AuditAction.LOGOUT,
            entity="users",
            key=user.user_name,
        )
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me", response_model=MeOut)
def me(user: Annotated[CurrentUser, Depends(current_user)]) -> MeOut:
    """The logged-in user, the role and the session's CSRF token.

    Parameters
    ----------
    user : CurrentUser
        The session's user.

    Returns
    -------
    MeOut
        Who is logged in.
    """
    return MeOut(user_name=user.user_name, role=user.role.value, csrf_token=user.csrf_token)
