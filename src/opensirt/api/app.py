"""The application factory: the registry, the routers, the pages, the security middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from opensirt import __version__
from opensirt.api import (
    auth,
    clinical_routes,
    files_routes,
    jobs,
    registry_routes,
    users_routes,
    volumes,
)
from opensirt.api.errors import install_error_handlers
from opensirt.api.security import LimitsMiddleware, LoginLimiter, SessionStore
from opensirt.api.settings import Settings
from opensirt.api.state import ServiceState
from opensirt.registry.database import Registry, open_registry

#: The pages (plain HTML loading ES modules from /static) by URL, and their files in
#: ``static/``: the first that exists is served. The pages hold no data; their scripts call
#: the JSON API, which needs the session.
PAGES: dict[str, tuple[str, ...]] = {
    "/": ("index.html", "patients.html"),
    "/login": ("login.html",),
    "/patients/{pseudonym}": ("patient.html",),
    "/plans/{version_id}": ("plan.html",),
    "/verifications/{verification_id}": ("verification.html",),
    "/jobs/new": ("job.html",),
    "/jobs/{job_id}": ("job.html",),
    "/assess": ("assess.html",),
    "/response": ("response.html",),
}


def static_folder() -> Path:
    """The folder of the web pages and their assets inside the package.

    Returns
    -------
    pathlib.Path
        ``opensirt/api/static`` (it may not exist in a build without pages).
    """
    return Path(str(resources.files("opensirt.api"))) / "static"


def _page(files: tuple[str, ...]) -> object:
    def page() -> FileResponse:
        for name in files:
            path = static_folder() / name
            if path.is_file():
                return FileResponse(path, media_type="text/html")
        raise HTTPException(404, "this page is not installed")

    page.__doc__ = f"The web page {files[0]}."
    return page


def _thread_limit(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: ``threads`` threads run its synchronous request handlers."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def create_app(
    settings: Settings, registry: Registry | None = None, *, fail_interrupted_jobs: bool = True
) -> FastAPI:
    """The web service on the registry of ``settings``.

    Parameters
    ----------
    settings : Settings
        Registry, cookies, session and upload limits.
    registry : Registry, optional
        An open registry to use instead of opening ``settings.db`` (tests, ``serve --demo``).
    fail_interrupted_jobs : bool, optional
        Mark the jobs left running by a stopped service as failed (default). False in the
        worker processes of ``serve --workers N``, whose parent does it once before they
        start (a worker must not fail the jobs that another worker runs).

    Returns
    -------
    fastapi.FastAPI
        The application: the JSON API under ``/api`` (schema at ``/api/openapi.json``), the
        pages and ``/static``.

    Raises
    ------
    opensirt.registry.database.RegistryError
        If the registry cannot be opened or its schema is not current.
    """
    app = FastAPI(
        lifespan=_thread_limit(settings.request_threads),
        title="OpenSIRT",
        version=__version__,
        description="Radioembolization planning, sign-off, verification and follow-up. "
        "Research software, not a certified medical device.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs load scripts from a CDN: not served
        redoc_url=None,
    )
    opened = registry if registry is not None else open_registry(settings.db)
    if fail_interrupted_jobs:
        jobs.fail_interrupted(opened)
    app.state.jobs = jobs.JobRunner(opened, settings)
    app.state.opensirt = ServiceState(
        settings=settings,
        registry=opened,
        sessions=SessionStore(opened, settings.session_idle_s),
        limiter=LoginLimiter(opened, settings.login_max_failures, settings.login_window_s),
    )
    app.state.opensirt.sessions.purge()
    app.add_middleware(LimitsMiddleware, max_upload_bytes=settings.max_upload_bytes)
    install_error_handlers(app)
    for router in (
        auth.router,
        registry_routes.router,
        clinical_routes.router,
        files_routes.router,
        volumes.router,
        jobs.router,
        users_routes.router,
    ):
        app.include_router(router)
    for url, files in PAGES.items():
        app.add_api_route(url, _page(files), methods=["GET"], include_in_schema=False)  # type: ignore[arg-type]
    static = static_folder()
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    return app


def app_from_environment() -> FastAPI:
    """The application of one worker process of ``opensirt serve --workers N`` (a uvicorn
    factory): the settings the parent put in the environment, interrupted jobs left alone.

    Returns
    -------
    fastapi.FastAPI
        As :func:`create_app` makes it.
    """
    return create_app(Settings.from_environment(), fail_interrupted_jobs=False)
