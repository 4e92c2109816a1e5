"""The console page in a real browser against the real app: login, live alerts, keyboard
moves, reload, a server restart with replay, roles, watchlists, language."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from playwright.sync_api import FilePayload, Page, expect

from core.messages import Alert, SceneEvent, SceneKind
from tests.browser import world
from tests.browser.server import VigilServer
from tests.browser.support import ADMIN, MONITOR, login

OpenPage = Callable[[], Page]


def row(alert_id: str) -> str:
    return f'.qrow[data-alert-id="{alert_id}"]'


def test_login_then_a_published_alert_is_shown_within_a_second(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil)
    expect(page.locator(".who-role")).to_have_text("监控员")
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10001", 2)
    started = time.monotonic()
    vigil.raise_alert(alert)
    page.wait_for_selector(row(alert.alert_id), timeout=3000)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"alert took {elapsed:.2f} s to appear"
    cells = page.locator(row(alert.alert_id))
    expect(cells.locator(".plate")).to_have_text("京A10001")
    expect(cells.locator(".state")).to_have_text("待签收")
    expect(cells.locator(".lvl")).to_have_text("二级")


def test_sign_with_the_keyboard_and_the_state_survives_a_reload(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10002", 1)
    vigil.raise_alert(alert)
    selector = row(alert.alert_id)
    page.wait_for_selector(selector)
    page.keyboard.press("Home")  # level 1 and newest: the top row
    expect(page.locator(selector)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("s")
    expect(page.locator(selector)).to_have_attribute("data-state", "signed")
    expect(page.locator(f"{selector} .state")).to_have_text("已签收")
    expect(page.locator(f"{selector} .q-claimed")).to_have_text(MONITOR.username)
    stored = vigil.store.get_alert(alert.alert_id)
    assert stored is not None and stored.claimed_by == MONITOR.username

    page.reload()
    page.wait_for_selector('#conn[data-state="open"]')
    expect(page.locator(selector)).to_have_attribute("data-state", "signed")
    expect(page.locator(f"{selector} .state")).to_have_text("已签收")


def test_after_a_server_restart_every_alert_is_shown_exactly_once(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    urls: list[str] = []
    page.on("websocket", lambda ws: urls.append(ws.url))
    login(page, vigil)
    make = [world.plate_alert(vigil.settings.evidence_dir, f"沪C2000{i}", 3) for i in range(9)]
    for alert in make[:3]:
        vigil.raise_alert(alert)
    page.wait_for_selector(row(make[2].alert_id))

    # From now on the list can only come through the feed's replay, not the REST re-read.
    page.route("**/api/alerts?*", lambda route: route.abort())
    vigil.stop()  # the app goes away: every WebSocket is closed
    expect(page.locator("#conn")).to_have_attribute("data-state", "retry", timeout=5000)
    for alert in make[3:6]:
        vigil.raise_alert(alert)  # accepted by the store while the console is down
    vigil.start()
    for alert in make[6:]:
        vigil.raise_alert(alert)

    expect(page.locator("#conn")).to_have_attribute("data-state", "open", timeout=15_000)
    for alert in make:
        expect(page.locator(row(alert.alert_id))).to_have_count(1, timeout=5000)
    plates = page.locator(".qrow .plate").all_inner_texts()
    for alert in make:
        assert plates.count(alert.subject) == 1, alert.subject
    # the reconnect asked for everything after the last event id it had processed
    assert "last_id=" not in urls[0] and re.search(r"[?&]last_id=\d+", urls[-1])


def test_a_monitor_cannot_open_the_watchlist_editor(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil, MONITOR)
    expect(page.locator('[data-nav="watchlists"]')).to_have_count(0)
    page.goto(vigil.url + "/#/watchlists")
    expect(page.locator("#no-permission")).to_be_visible()
    expect(page.locator("#no-permission h1")).to_have_text("没有权限")
    expect(page.locator("#wl-deploy")).to_have_count(0)
    token = page.evaluate("sessionStorage.getItem('vigil.token')")
    reply = page.request.post(vigil.url + "/api/watchlists/entries",
                              headers={"Authorization": f"Bearer {token}"},
                              data={"plate": "京A12345", "category": "stolen", "level": 1,
                                    "reason": "test"})
    assert reply.status == 403


def test_an_admin_deploys_withdraws_and_sees_every_bad_import_row(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil, ADMIN)
    page.click('[data-nav="watchlists"]')
    page.fill("#wl-plate", "京B66666")
    page.select_option("#wl-category", "stolen")
    page.select_option("#wl-level", "3")  # levels 1-2 always wait for approval
    page.fill("#wl-until", "2030-12-31T23:59")
    page.fill("#wl-reason", "浏览器测试：盗抢车辆")
    page.click("#wl-deploy button[type=submit]")
    entry = page.locator("#wl-table tbody tr", has_text="京B66666")
    expect(entry).to_have_attribute("data-status", "active")
    expect(entry).to_contain_text("2030-12-31")

    entry.get_by_role("button", name="撤控").click()
    page.fill("#dlg-reason", "车辆已找回")
    page.click("dialog button[value=ok]")
    expect(entry).to_have_attribute("data-status", "withdrawn")

    page.fill("#wl-plate", "京B77777")
    page.fill("#wl-reason", "需要审批的布控")
    expect(page.locator("#wl-approval")).to_be_checked()  # level 2: approval is required
    page.click("#wl-deploy button[type=submit]")
    pending = page.locator("#wl-table tbody tr", has_text="京B77777")
    expect(pending).to_have_attribute("data-status", "pending_approval")
    # the applicant may not approve (four eyes): no button for them
    expect(pending.get_by_role("button", name="审批通过")).to_have_count(0)
    expect(pending).to_have_attribute("data-status", "pending_approval")

    bad = "plate,category,level,reason\n京AI2345,stolen,1,坏号牌\n京A54321,nonsense,9,坏类别\n"
    upload: FilePayload = {"name": "bad.csv", "mimeType": "text/csv",
                           "buffer": bad.encode("utf-8")}
    page.set_input_files("#wl-file", files=[upload])
    page.click("#wl-import button[type=submit]")
    problems = page.locator("#wl-import-result .problems li")
    expect(problems.first).to_be_visible()
    text = " ".join(problems.all_inner_texts())
    assert ":2:" in text and ":3:" in text, text
    assert "类别" in text and "级别" in text  # the field names in the page's language


def test_detail_actions_and_dialogs_from_the_keyboard(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10003", 1)
    vigil.raise_alert(alert)
    page.wait_for_selector(row(alert.alert_id))
    page.keyboard.press("Home")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{vigil.url}/#/alert/{alert.alert_id}")
    expect(page.locator(".detail-head .plate")).to_have_text("京A10003")
    page.wait_for_function("() => document.querySelector('.snap-large img')?.naturalWidth > 0")
    drawn = page.evaluate("""() => {
        const c = document.querySelector('.snap-large canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
        return false;
    }""")
    assert drawn, "the evidence box was not drawn over the snapshot"
    for key, state in (("s", "signed"), ("d", "disposing")):
        page.keyboard.press(key)
        expect(page.locator("#detail-state")).to_have_attribute("data-state", state)
    page.keyboard.press("f")
    expect(page.locator("#fb-result")).to_have_value("")  # nothing preselected
    page.click("dialog button[value=ok]")  # a careless confirm records nothing
    expect(page.locator("dialog .form-error")).to_have_text("请选择处置结果")
    expect(page.locator("#detail-state")).to_have_attribute("data-state", "disposing")
    page.select_option("#fb-result", "caught")
    page.fill("#fb-note", "已在东环路拦截")
    page.click("dialog button[value=ok]")
    expect(page.locator("#detail-state")).to_have_attribute("data-state", "feedback")
    page.keyboard.press("c")
    expect(page.locator("#detail-state")).to_have_attribute("data-state", "closed")
    expect(page.locator(".timeline .tl-item")).to_have_count(5)
    expect(page.locator(".timeline")).to_contain_text("已查获")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(page).to_have_url(f"{vigil.url}/#/queue")


def test_dismiss_needs_a_reason(vigil: VigilServer, open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10004", 1)
    vigil.raise_alert(alert)
    page.wait_for_selector(row(alert.alert_id))
    page.keyboard.press("Home")
    page.keyboard.press("x")
    page.click("dialog button[value=ok]")
    expect(page.locator("dialog .form-error")).to_have_text("请填写原因")
    page.fill("#dlg-reason", "树影误检")
    page.click("dialog button[value=ok]")
    page.click('.segmented [data-filter="all"]')
    expect(page.locator(row(alert.alert_id))).to_have_attribute("data-state", "dismissed")


def test_language_switch_and_camera_wall_refresh_only_visible_tiles(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    page.set_viewport_size({"width": 1280, "height": 420})
    login(page, vigil)
    page.click("#lang")
    expect(page.locator('[data-nav="queue"]')).to_contain_text("Alert queue")
    assert page.evaluate("document.documentElement.lang") == "en"
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if "snapshot.jpg" in r.url else None)
    page.keyboard.press("2")
    expect(page.locator(".tile")).to_have_count(len(world.SITES))
    page.wait_for_timeout(2600)
    first, last = world.SITES[0].id, world.SITES[7].id  # top of the wall / off screen
    assert sum(first in u for u in fetched) >= 2, fetched
    assert sum(last in u for u in fetched) == 0, fetched
    urls = [u for u in fetched if first in u]
    assert len(set(urls)) == len(urls), "every refresh must bust the cache"
    page.click("#lang")
    expect(page.locator('[data-nav="queue"]')).to_contain_text("预警队列")


def test_a_conflict_names_who_holds_the_alert(vigil: VigilServer, open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10005", 1)
    vigil.raise_alert(alert)
    page.wait_for_selector(row(alert.alert_id))
    page.keyboard.press("Home")
    other = open_page()
    login(other, vigil, ADMIN)
    token = other.evaluate("sessionStorage.getItem('vigil.token')")
    assert other.request.post(f"{vigil.url}/api/alerts/{alert.alert_id}/sign",
                              headers={"Authorization": f"Bearer {token}"}, data={}).ok
    expect(page.locator(f"{row(alert.alert_id)} .q-claimed")).to_have_text(ADMIN.username)
    page.keyboard.press("x")  # the monitor tries to dismiss what the admin now holds
    page.fill("#dlg-reason", "误报")
    page.click("dialog button[value=ok]")
    expect(page.locator(".toast-error")).to_contain_text(ADMIN.username)
    expect(page.locator(row(alert.alert_id))).to_have_attribute("data-state", "signed")


SHIFT_WATCH = """() => {
    window.__shifts = [];
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
            for (const source of entry.sources || []) {
                let node = source.node;
                if (node && node.nodeType !== 1) node = node.parentElement;
                if (!node || !node.closest('.queue-list')) {
                    window.__shifts.push(node ? node.outerHTML.slice(0, 80) : 'unknown');
                }
            }
        }
    }).observe({ type: 'layout-shift', buffered: false });
}"""


def test_arriving_alerts_shift_nothing_outside_the_list(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil)
    first = world.plate_alert(vigil.settings.evidence_dir, "京A10006", 2)
    vigil.raise_alert(first)
    page.wait_for_selector(row(first.alert_id))
    page.wait_for_timeout(500)
    height = page.locator(row(first.alert_id)).bounding_box()
    page.evaluate(SHIFT_WATCH)
    burst = [world.plate_alert(vigil.settings.evidence_dir, f"京A1001{i}", 1 + i % 4)
             for i in range(6)]
    for alert in burst:
        vigil.raise_alert(alert)
    for alert in burst:
        page.wait_for_selector(row(alert.alert_id))
    page.wait_for_timeout(500)
    assert page.evaluate("window.__shifts") == []
    after = page.locator(row(first.alert_id)).bounding_box()
    assert height is not None and after is not None and after["height"] == height["height"]
    expect(page.locator(".qrow[aria-selected=true]")).to_have_count(1)


def test_a_scene_alert_is_titled_by_its_zone(vigil: VigilServer, open_page: OpenPage) -> None:
    """The rule engine's subject for a scene alert is ``zone:kind``; a monitor reads the
    zone as the title and the kind (区域入侵) beside it."""
    page = open_page()
    login(page, vigil)
    site = world.SITES[1]
    event = SceneEvent("ev-zone-1", site.id, SceneKind.INTRUSION, "禁区-东门", (4,), time.time(),
                       label="person")
    alert = Alert(alert_id=str(uuid.uuid4()), rule_id="zone-intrusion", level=2,
                  category="intrusion", observation=event, raised_at=event.at,
                  subject="禁区-东门:intrusion", summary_zh="东门禁区有人进入",
                  camera_id=site.id, camera_name=site.name)
    vigil.raise_alert(alert)
    cells = page.locator(row(alert.alert_id))
    expect(cells.locator(".plate")).to_have_text("禁区-东门")
    expect(cells.locator(".cat")).to_have_text("区域入侵")


def test_an_idle_detail_page_stays_put_and_its_clip_keeps_playing(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    """The detail view re-fetched its alert 3 times a second (its own store update
    re-triggered the load) and rebuilt the page each time, destroying the clip's <video>."""
    page = open_page()
    login(page, vigil)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A10007", 1)
    vigil.raise_alert(alert)
    page.wait_for_selector(row(alert.alert_id))
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url)
            if r.url.endswith(f"/api/alerts/{alert.alert_id}") else None)
    page.goto(f"{vigil.url}/#/alert/{alert.alert_id}")
    expect(page.locator(".detail-head .plate")).to_have_text("京A10007")
    page.wait_for_timeout(3000)
    assert len(fetched) <= 2, fetched  # one load (two if the live feed raced it), not ~9
    media = page.evaluate_handle("() => document.querySelector('.detail-media')")
    page.keyboard.press("s")  # a real change re-renders, but the evidence is the same
    expect(page.locator("#detail-state")).to_have_attribute("data-state", "signed")
    page.wait_for_timeout(600)
    assert page.evaluate("(m) => m.isConnected", media), "the evidence block was rebuilt"


def test_escape_frees_the_keyboard_from_a_text_field(vigil: VigilServer,
                                                     open_page: OpenPage) -> None:
    """The trajectory view's plate field kept every key: 1-6 and Esc typed into it."""
    page = open_page()
    login(page, vigil)
    page.goto(f"{vigil.url}/#/trajectory")
    page.click("#tr-plate")
    page.keyboard.type("京A1")
    expect(page.locator("#tr-plate")).to_have_value("京A1")  # typing still types
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    expect(page).to_have_url(f"{vigil.url}/#/queue")
    expect(page.locator("#tr-plate")).to_have_count(0)
