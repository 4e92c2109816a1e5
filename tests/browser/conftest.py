"""Browser-test fixtures: Debian's Chromium driven by Playwright against the real console app.

The browser is launched from ``/usr/bin/chromium`` with the flags measured in
docs/platform-notes.md (Playwright downloads no browser). ``make test`` installs the Debian
packages; without them every browser test is skipped with that reason (and fails under CI:
tests/services.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from tests.browser import world
from tests.browser.server import VigilServer
from tests.browser.support import CHROMIUM, FLAGS, NO_CHROMIUM, VIEWPORT
from tests.services import unavailable


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module scope: Playwright's sync API keeps an event loop running in this thread while
    it is open, which would break every asyncio test collected after the browser tests."""
    if not CHROMIUM.exists():
        unavailable(NO_CHROMIUM)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
    yield b
    b.close()


@pytest.fixture(scope="module")
def vigil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VigilServer]:
    """The console app with cameras, live pictures and users; alerts are up to each test."""
    server = VigilServer(tmp_path_factory.mktemp("vigil"), world.registry())
    world.write_live_pictures(server.settings.live_dir)
    server.start()
    yield server
    server.close()


@dataclass
class PageErrors:
    """JavaScript errors seen by a page; a test fails if any happened."""

    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        # a 404 for a camera without a live picture is expected; script errors are not
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)


@pytest.fixture
def open_page(browser: Browser, vigil: VigilServer) -> Iterator[Callable[[], Page]]:
    """Open fresh browser tabs (each its own context: separate sessionStorage)."""
    pages: list[tuple[Page, PageErrors]] = []

    def make() -> Page:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        page = context.new_page()
        seen = PageErrors()
        page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
        page.on("console", seen.console)
        pages.append((page, seen))
        return page

    yield make
    problems = [e for _, seen in pages for e in seen.errors]
    for page, _ in pages:
        page.context.close()
    assert not problems, f"JavaScript errors on the page: {problems}"
