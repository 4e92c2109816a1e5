"""``/docs`` works offline: Swagger UI renders the API from local files only, under a CSP
that forbids inline scripts, with no request to any other origin."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, Request, expect

from tests.browser.server import VigilServer


def test_docs_page_renders_the_api_from_local_files(
        open_page: Callable[[], Page], vigil: VigilServer) -> None:
    page = open_page()
    elsewhere: list[str] = []

    def note(request: Request) -> None:
        if not request.url.startswith((vigil.url, "data:")):
            elsewhere.append(request.url)

    page.on("request", note)
    page.goto(f"{vigil.url}/docs")
    # one operation from each router, rendered by Swagger UI from /openapi.json
    for path in ("/api/alerts", "/api/cameras", "/api/watchlists/entries", "/api/users"):
        expect(page.locator(f".opblock-summary-path[data-path='{path}']").first).to_be_visible()
    page.locator(".opblock-summary-path[data-path='/api/alerts']").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert elsewhere == []
