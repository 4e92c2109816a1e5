"""Helpers shared by the browser tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, ViewportSize

from tests.browser.server import ADMIN, MONITOR, User, VigilServer

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
"""docs/platform-notes.md: Debian's Chromium, headless, as root in a container."""
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
NO_CHROMIUM = ("browser tests need Debian's Chromium at /usr/bin/chromium "
               "(apt-get install -y chromium chromium-driver; `make test` installs it)")

__all__ = ["ADMIN", "ARTIFACTS", "CHROMIUM", "FLAGS", "MONITOR", "NO_CHROMIUM", "REPO",
           "VIEWPORT", "login", "screenshot"]


def login(page: Page, server: VigilServer, user: User = MONITOR) -> None:
    """Sign in through the form and wait for the live feed to be up."""
    page.goto(server.url + "/")
    page.fill("#login-user", user.username)
    page.fill("#login-pass", user.password)
    page.press("#login-pass", "Enter")
    page.wait_for_selector('#conn[data-state="open"]', timeout=10_000)


def screenshot(page: Page, name: str) -> Path:
    """Save to artifacts/screenshots/ (for people looking at a CI run)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
