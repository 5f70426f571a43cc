"""A browser page on the service for the end-to-end tests of ``tests/web`` (Playwright driving
Debian's chromium): its known password, the artifacts folder of the screenshots, chromium's
options, and a page that refuses every request to another host and keeps script errors."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class WebSession:
    """A browser page on the service that refuses every request to another host and keeps
    the page's script errors."""

    def __init__(self, browser: Browser, base: str, width: int = 1280, height: int = 800):
        self.base = base
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page: Page = self.context.new_page()
        self.foreign: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._only_local)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _only_local(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.foreign.append(route.request.url)
            route.abort()

    def login(self, user_name: str) -> None:
        """Sign in as ``user_name`` from the front page; wait for the patient list."""
        self.page.goto(self.base + "/")
        self.page.wait_for_url("**/login**")
        self.page.fill("#user_name", user_name)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_selector("#patient-rows tr")

    def shot(self, name: str) -> None:
        """A full-page screenshot ``name``.png in the artifacts folder."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        """Check that no foreign request and no script error happened; close the page."""
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"
        assert self.errors == [], f"script errors: {self.errors}"
        self.context.close()
