"""The queue for a whole shift in a real browser: repeats folded into one row, filters and
text search, bulk sign from the keyboard with one alert taken by someone else meanwhile,
and handing a shift's alerts over to the next operator."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Page, WebSocketRoute, expect

from console.users import add_user
from core.lifecycle import Action, transition
from tests.browser import world
from tests.browser.server import VigilServer
from tests.browser.support import MONITOR, login, screenshot
from tests.browser.test_console_screenshots import publish

OpenPage = Callable[[], Page]


@dataclass
class HeldFeed:
    """Sits between the page and /ws: while ``hold`` is set, frames from the server wait,
    so the page can be made to act on what it saw a moment ago (another operator's move
    has not reached it yet)."""

    hold: bool = False
    held: list[str | bytes] = field(default_factory=list)
    pages: list[WebSocketRoute] = field(default_factory=list)

    def route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        self.pages.append(ws)

        def from_server(message: str | bytes) -> None:
            if self.hold:
                self.held.append(message)
            else:
                ws.send(message)
        server.on_message(from_server)

    def release(self) -> None:
        self.hold = False
        for message in self.held:
            self.pages[-1].send(message)
        self.held.clear()


def sign_as(vigil: VigilServer, alert_id: str, who: str) -> None:
    """Another operator signs, as the console would (stored + event log)."""
    record = vigil.store.get_alert(alert_id)
    assert record is not None
    step = transition(record.case, Action.SIGN, who, time.time())
    vigil.store.append_transition(step, record.case)


def search_the_folded_repeats(page: Page, asked: list[str]) -> None:
    """Three repeats are one row; a search in another spelling keeps only it; a level
    with nothing in it empties the list; each change asked the server too."""
    group = page.locator(".qrow.qgroup")
    expect(group).to_have_count(1)
    expect(group).to_have_attribute("data-count", "3")
    expect(group.locator(".q-count")).to_have_text("×3")
    expect(page.locator(".qrow")).to_have_count(3)  # the group and the two others

    page.fill("#qf-search", "京a·77777")  # any spelling of the plate
    expect(page.locator(".qrow")).to_have_count(1)
    page.click('.lvl-chip[data-level="3"]')
    expect(page.locator(".queue-empty")).to_have_text("没有符合筛选条件的预警")
    page.click('.lvl-chip[data-level="3"]')
    expect(page.locator(".qrow")).to_have_count(1)
    assert any("q=" in url and "level=3" in url for url in asked), asked  # asked the server too
    pick_state_and_category(page)


def pick_state_and_category(page: Page) -> None:
    """The state and category lists offer every choice (they once listed only "any")."""
    expect(page.locator("#qf-state option")).to_have_count(7)
    expect(page.locator('#qf-category option[value="wanted"]')).to_have_count(1)
    for select, none, one in (("#qf-state", "signed", "new"),
                              ("#qf-category", "wanted", "stolen")):
        page.select_option(select, none)
        expect(page.locator(".queue-empty")).to_be_visible()
        page.select_option(select, one)
        expect(page.locator(".qrow")).to_have_count(1)
        page.select_option(select, "")



def test_filter_fold_and_bulk_sign_with_a_conflict(vigil: VigilServer,
                                                   open_page: OpenPage) -> None:
    ev, now = vigil.settings.evidence_dir, time.time()
    repeats = [world.plate_alert(ev, "京A77777", 2, site=world.SITES[0], raised_at=now - 30 + i)
               for i in range(3)]
    others = [world.plate_alert(ev, "沪C12121", 2, site=world.SITES[2]),
              world.plate_alert(ev, "京A88888", 3, site=world.SITES[3])]
    page = open_page()
    feed = HeldFeed()
    page.route_web_socket(re.compile(r"/ws(\?|$)"), feed.route)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/alerts?" in r.url else None)
    login(page, vigil)
    for alert in repeats + others:
        vigil.raise_alert(alert)

    search_the_folded_repeats(page, asked)
    page.keyboard.press("Escape")  # leave the search field: the keys work again
    page.locator(".queue-list").focus()
    page.keyboard.press("Home")
    page.keyboard.press("Enter")  # unfold the group
    expect(page.locator(".qrow.qmember")).to_have_count(3)
    page.keyboard.press(" ")  # mark the whole group
    expect(page.locator("#bulk-bar")).to_be_visible()
    expect(page.locator(".bulk-count")).to_have_text("已选 3 条")
    publish(str(screenshot(page, "queue-shift")), "queue-shift")

    feed.hold = True  # admin signs one; the page has not heard of it yet
    sign_as(vigil, repeats[1].alert_id, "admin")
    page.keyboard.press("s")
    expect(page.locator(".toast-warn")).to_contain_text("2 条成功，1 条未成功（已由 admin 处理）")
    feed.release()
    holders = {a.alert_id: vigil.store.get_alert(a.alert_id) for a in repeats}
    assert {k: (r.claimed_by if r else None) for k, r in holders.items()} == {
        repeats[0].alert_id: MONITOR.username, repeats[1].alert_id: "admin",
        repeats[2].alert_id: MONITOR.username}
    expect(page.locator(f'.qmember[data-alert-id="{repeats[1].alert_id}"] .q-claimed')
           ).to_have_text("admin")
    expect(page.locator("#bulk-bar")).to_be_hidden()
    for alert in (repeats[0], repeats[2]):
        audit = vigil.store.audit_log(obj=f"alert:{alert.alert_id}")
        assert [e.action for e in audit] == ["alert.sign"]


def test_a_monitor_hands_the_shift_over(vigil: VigilServer, open_page: OpenPage) -> None:
    add_user(vigil.store, "bob", "bob-pass-2024x", "monitor", "监控员 王强")
    alerts = [world.plate_alert(vigil.settings.evidence_dir, f"浙D3030{i}", 3,
                                site=world.SITES[4]) for i in range(2)]
    page = open_page()
    login(page, vigil)
    for alert in alerts:
        vigil.raise_alert(alert)
        sign_as(vigil, alert.alert_id, MONITOR.username)
    held = len(vigil.store.held_by(MONITOR.username))  # with the first test's, if it ran
    assert held >= len(alerts)
    for alert in alerts:  # on screen, held by the monitor (also the screenshot's queue)
        expect(page.locator(f'.qrow[data-alert-id="{alert.alert_id}"] .q-claimed')
               ).to_have_text(MONITOR.username)
    page.click("#handover")
    page.select_option("#ho-to", "bob")
    page.fill("#ho-reason", "早班交晚班")
    expect(page.locator("dialog")).to_be_visible()
    publish(str(screenshot(page, "handover")), "handover")
    page.click('dialog button[type="submit"]')
    expect(page.locator(".toast-ok")).to_contain_text(f"已将 {held} 条预警移交给 bob")
    for alert in alerts:
        row = page.locator(f'.qrow[data-alert-id="{alert.alert_id}"]')
        expect(row.locator(".q-claimed")).to_have_text("bob")
        entry = vigil.store.timeline(alert.alert_id)[-1]
        assert (entry.kind, entry.by, entry.note) == ("handover", MONITOR.username,
                                                      f"{MONITOR.username} → bob: 早班交晚班")
    page.goto(f"{vigil.url}/#/alert/{alerts[0].alert_id}")
    expect(page.locator(".tl-handover")).to_contain_text("交班移交")
