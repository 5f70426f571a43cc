"""The threads that run the service's request handlers (``opensirt serve --threads``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fastapi import FastAPI


@pytest.mark.parametrize("threads", [None, 2])
def test_the_app_runs_its_handlers_on_the_configured_threads(
    make_app: Callable[..., FastAPI], threads: int | None
) -> None:
    import anyio.to_thread
    from fastapi.testclient import TestClient

    from opensirt.api.settings import REQUEST_THREADS

    app = make_app() if threads is None else make_app(request_threads=threads)
    with TestClient(app) as client:
        assert client.portal is not None
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    assert tokens == (REQUEST_THREADS if threads is None else threads)


def test_the_setting_reaches_the_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from opensirt.api.settings import Settings

    monkeypatch.setenv("OPENSIRT_SERVE_SETTINGS", "{}")  # restored after the test
    Settings(db=None, cache_dir=Path("cache"), request_threads=3).to_environment()
    assert Settings.from_environment().request_threads == 3
