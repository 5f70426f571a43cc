"""User management for admins: list, add, enable and disable (never a password returned)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from opensirt.api.state import CurrentUser, require_role, service
from opensirt.registry.models_access import User
from opensirt.registry.users import add_user, list_users, set_active
from opensirt.registry.vocabulary import UserRole

router = APIRouter(prefix="/api", tags=["users"])

Admin = Annotated[CurrentUser, Depends(require_role(UserRole.ADMIN))]


class NewUser(BaseModel):
    """A new user: name, role, a first password (the registry's password policy) and the
    site (a code, ``*`` for every site, or none)."""

    model_config = ConfigDict(extra="forbid")

    user_name: Annotated[str, Field(min_length=1, max_length=64)]
    role: UserRole
    password: Annotated[str, Field(min_length=1, max_length=1024, repr=False)]
    site: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class Activation(BaseModel):
    """Whether a user may log in."""

    model_config = ConfigDict(extra="forbid")

    active: bool


def _shown(user: User) -> dict[str, Any]:
    return {
        "user_name": user.user_name,
        "role": user.role.value,
        "active": user.active,
        "site": user.site,
        "created_at": user.created_at.isoformat(),
    }


@router.get("/users")
def users(request: Request, _admin: Admin) -> dict[str, Any]:
    """Every user with role and state (admins only).

    Parameters
    ----------
    request : fastapi.Request
        The request.
    _admin : CurrentUser
        An admin.

    Returns
    -------
    dict
        ``{users: [{user_name, role, active, site, created_at}]}``.
    """
    with service(request).registry.transaction(readonly=True) as session:
        return {"users": [_shown(u) for u in list_users(session)]}


@router.post("/users", status_code=201)
def new_user(request: Request, body: NewUser, admin: Admin) -> dict[str, Any]:
    """Add a user (admins only); 422 names a rule the name or the password breaks.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    body : NewUser
        Name, role, first password, site.
    admin : CurrentUser
        An admin.

    Returns
    -------
    dict
        The user as :func:`users` lists them.
    """
    with service(request).registry.transaction(actor=admin.user_name) as session:
        return _shown(add_user(session, body.user_name, body.role, body.password, body.site))


@router.post("/users/{user_name}/active")
def activate(request: Request, user_name: str, body: Activation, admin: Admin) -> dict[str, Any]:
    """Enable or disable a user (admins only); a disabled user's sessions end at once.

    Parameters
    ----------
    request : fastapi.Request
        The request.
    user_name : str
        The user.
    body : Activation
        ``{active}``.
    admin : CurrentUser
        An admin.

    Returns
    -------
    dict
        The user as :func:`users` lists them.
    """
    state = service(request)
    with state.registry.transaction(actor=admin.user_name) as session:
        user = set_active(session, user_name, body.active)
    if not body.active:
        state.sessions.close_user(user_name)
    return _shown(user)
