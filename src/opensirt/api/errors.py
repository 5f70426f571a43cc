"""How the service answers errors: JSON with a message, and field-level validation errors."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from opensirt.errors import InputError
from opensirt.planning.case_file import format_location
from opensirt.registry.database import ConflictError, RegistryError
from opensirt.registry.files import describe_error
from opensirt.registry.store import PatientNotFoundError


def validation_errors(exc: ValidationError | RequestValidationError) -> list[dict[str, str]]:
    """Field-level errors for the page: one ``{field, message}`` per problem.

    Parameters
    ----------
    exc : pydantic.ValidationError or fastapi.exceptions.RequestValidationError
        The failed validation.

    Returns
    -------
    list of dict
        ``field`` (dotted path, ``""`` for the record as a whole) and ``message`` (what is
        wrong and the fix); the input values are not echoed for request-level errors.
    """
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if isinstance(exc, RequestValidationError) and loc and loc[0] in ("body", "query", "path"):
            loc = loc[1:]
            message = str(error["msg"]).removeprefix("Value error, ")
        else:
            message = describe_error(error)
        problems.append({"field": format_location(loc), "message": message})
    return problems


def _json(status: int, detail: object) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return _json(404, str(exc))


async def _bad_input(_request: Request, exc: Exception) -> JSONResponse:
    return _json(422, str(exc))


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return _json(409, str(exc))


async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return _json(503, str(exc))


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _json(422, validation_errors(exc))


def install_error_handlers(app: FastAPI) -> None:
    """Map the package's errors to HTTP: not found 404, bad input 422, conflict 409, a
    registry that cannot be used 503; request validation 422 with field-level errors.

    Parameters
    ----------
    app : fastapi.FastAPI
        The application.
    """
    app.add_exception_handler(PatientNotFoundError, _not_found)
    app.add_exception_handler(InputError, _bad_input)
    app.add_exception_handler(ConflictError, _conflict)
    app.add_exception_handler(RegistryError, _unavailable)
    app.add_exception_handler(RequestValidationError, _invalid_request)
