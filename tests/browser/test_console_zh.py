"""The zh-CN page in a real browser: no English machine words or raw keys anywhere a
monitor or an administrator looks (a camera fault, SLA escalations, a feedback result,
watchlist validation errors, a refused approval), camera faults titled by the camera's
name; and the details of a shift: reassigning from the detail view, a camera that keeps
flashing while its alert waits, the enlarged wall camera, the watchlist form and toasts."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from alerts.sla import SlaTracker
from core.messages import Alert, CameraState, CameraStatus
from tests.browser import world
from tests.browser.server import VigilServer
from tests.browser.support import ADMIN, MONITOR, login, screenshot

OpenPage = Callable[[], Page]

LEAKS = re.compile(
    r"camera_health|cloned_plate|not_found|handed_over|false_alarm|overdue|escalation|\bsla\b"
    r"|applied for|another person|is not a valid|Field required|String should|Input should"
    r"|needs a reason|expected [a-z_]+, got|already past|already exists|value_error"
    r"|the pattern|not a cursor|no configured camera|integration token|user's token"
    r"|\b(?:cat|tl|err|field|users|wl|state|act|fb|dsp|time|detail|search|tok)\.[a-z_.]+\b")
"""English the server writes (notes, validation messages) and dictionary keys that would
show if a translation were missing (t() shows an unknown key as itself)."""


def leaks(page: Page) -> list[str]:
    text = page.locator("#main").inner_text() + "\n" + page.locator("#toasts").inner_text()
    return [m.group(0) for m in LEAKS.finditer(text)]


def token_of(page: Page) -> str:
    return str(page.evaluate("sessionStorage.getItem('vigil.token')"))


def api(page: Page, vigil: VigilServer, method: str, path: str,
        body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token or token_of(page)}"}
    res = page.request.fetch(f"{vigil.url}{path}", method=method, headers=headers,
                             data=body if body is not None else None)
    assert res.ok, (path, res.status, res.text())
    return res.json()


def camera_fault(site: world.Site, raised_at: float) -> Alert:
    """A camera_health alert as the rule engine raises it: the subject is the camera id."""
    status = CameraStatus(site.id, CameraState.BACKOFF, raised_at - 120, "connection refused")
    return Alert(alert_id=str(uuid.uuid4()), rule_id="camera-down", level=3,
                 category="camera_health", observation=status, raised_at=raised_at,
                 subject=site.id, summary_zh=f"摄像机 {site.name} 离线已持续 2 分钟",
                 summary_en=f"Camera {site.name} offline for 2 min", camera_id=site.id,
                 camera_name=site.name, address=site.address, lon=site.lon, lat=site.lat)


def escalate(vigil: VigilServer, alert: Alert, until: float) -> None:
    """What the alert service does when SLA stages pass: the real tracker's notes."""
    tracker = SlaTracker()
    tracker.watch(alert)
    for step in tracker.tick(until):
        assert vigil.store.append_event(step)


def test_the_chinese_page_shows_no_english_or_raw_keys(vigil: VigilServer,
                                                        open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil)
    site = world.SITES[6]
    fault = camera_fault(site, time.time() - 70)
    vigil.raise_alert(fault)
    escalate(vigil, fault, fault.raised_at + 65)  # overdue (30 s) and stage 1/2 (60 s)
    row = page.locator(f'.qrow[data-alert-id="{fault.alert_id}"]')
    expect(row.locator(".plate")).to_have_text(site.name)
    expect(row.locator(".cat")).to_have_text("设备故障")
    assert not leaks(page), leaks(page)

    page.goto(f"{vigil.url}/#/alert/{fault.alert_id}")
    expect(page.locator(".detail-head .plate")).to_have_text(site.name)
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text("签收超时（30 秒）")
    expect(timeline).to_contain_text("签收第 1/2 级升级（1 分钟）")
    expect(timeline).to_contain_text("时限监督")
    assert not leaks(page), leaks(page)

    plate = world.plate_alert(vigil.settings.evidence_dir, "京A60001", 2)
    vigil.raise_alert(plate)
    base = f"/api/alerts/{plate.alert_id}"
    for move in ("sign", "dispose"):
        api(page, vigil, "POST", f"{base}/{move}", {})
    api(page, vigil, "POST", f"{base}/feedback", {"result": "not_found", "note": "现场未见该车"})
    page.goto(f"{vigil.url}/#/alert/{plate.alert_id}")
    expect(page.locator("#detail-state")).to_have_attribute("data-state", "feedback")
    expect(timeline).to_contain_text("未发现 · 现场未见该车")
    assert not leaks(page), leaks(page)


def test_watchlist_errors_and_a_refused_approval_in_chinese(vigil: VigilServer,
                                                             open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil, ADMIN)
    page.goto(f"{vigil.url}/#/watchlists")
    page.fill("#wl-plate", "京AI2345")
    page.select_option("#wl-level", "3")
    page.fill("#wl-reason", "号牌写错了")
    page.fill("#wl-until", "2020-01-01T00:00")
    page.click("#wl-deploy button[type=submit]")
    errors = page.locator("#wl-deploy .form-errors li")
    expect(errors.first).to_contain_text("号牌：京AI2345 不是有效号牌")
    assert not leaks(page), leaks(page)

    # another administrator applies; this one approves it elsewhere, then presses the
    # stale button: the server refuses (409) and the toast says why, in Chinese
    api(page, vigil, "POST", "/api/users", {"username": "admin2", "password": "admin2-pass-2024",
                                           "role": "admin", "display_name": "副值班长"})
    other = page.request.post(f"{vigil.url}/api/login",
                              data={"username": "admin2", "password": "admin2-pass-2024"})
    entry = api(page, vigil, "POST", "/api/watchlists/entries",
                {"plate": "京A60002", "category": "stolen", "level": 2, "reason": "他人申请"},
                token=other.json()["token"])
    page.reload()
    stale = page.locator(f'#wl-table tr[data-entry-id="{entry["entry_id"]}"]')
    expect(stale.get_by_role("button", name="审批通过")).to_be_visible()
    api(page, vigil, "POST", f"/api/watchlists/entries/{entry['entry_id']}/approve", {})
    stale.get_by_role("button", name="审批通过").click()
    expect(page.locator(".toast-error")).to_contain_text("当前状态为布控中")
    assert not leaks(page), leaks(page)


def test_the_applicant_gets_no_approve_button_and_toasts_leave_the_actions_free(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    page = open_page()
    login(page, vigil, ADMIN)
    page.goto(f"{vigil.url}/#/watchlists")
    approval = page.locator("#wl-approval")
    expect(approval).to_be_checked()  # level 2 by default: approval is required
    expect(approval).to_be_disabled()
    page.select_option("#wl-level", "4")
    expect(approval).not_to_be_checked()
    expect(approval).to_be_enabled()
    page.select_option("#wl-level", "1")
    expect(approval).to_be_checked()

    page.fill("#wl-plate", "京A60003")
    page.fill("#wl-reason", "本人申请")
    page.click("#wl-deploy button[type=submit]")
    mine = page.locator("#wl-table tbody tr", has_text="京A60003")
    expect(mine).to_have_attribute("data-status", "pending_approval")
    expect(mine.get_by_role("button", name="审批通过")).to_have_count(0)
    expect(mine).to_contain_text("本人申请，须由另一名管理员审批")
    res = page.request.post(f"{vigil.url}/api/watchlists/entries/"
                            f"{mine.get_attribute('data-entry-id')}/approve",
                            headers={"Authorization": f"Bearer {token_of(page)}"}, data={})
    assert res.status == 422  # the server refuses the applicant regardless

    toast = page.locator(".toast-ok").first
    expect(toast).to_be_visible()
    box = toast.bounding_box()
    assert box is not None
    for cell in page.locator("#wl-table .row-actions").all():
        actions = cell.bounding_box()
        assert actions is not None
        apart = (box["x"] + box["width"] <= actions["x"]
                 or actions["x"] + actions["width"] <= box["x"]
                 or box["y"] + box["height"] <= actions["y"]
                 or actions["y"] + actions["height"] <= box["y"])
        assert apart, f"the toast {box} covers the actions {actions}"
    screenshot(page, "watchlists-toast")


def test_reassign_from_the_detail_view(vigil: VigilServer, open_page: OpenPage) -> None:
    monitor = open_page()
    login(monitor, vigil, MONITOR)
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A60004", 2)
    vigil.raise_alert(alert)
    api(monitor, vigil, "POST", f"/api/alerts/{alert.alert_id}/sign", {})

    admin = open_page()
    login(admin, vigil, ADMIN)
    admin.goto(f"{vigil.url}/#/alert/{alert.alert_id}")
    expect(admin.locator(".detail-head .holder")).to_contain_text(MONITOR.username)
    expect(admin.locator(".act-reassign")).to_be_visible()  # an admin takes over anyone's
    admin.keyboard.press("r")
    admin.select_option("#ra-to", ADMIN.username)
    admin.fill("#ra-reason", "接手处理")
    admin.click("dialog button[value=ok]")
    expect(admin.locator(".detail-head .holder")).to_contain_text(ADMIN.username)
    moved = f"{MONITOR.username} → {ADMIN.username}: 接手处理"
    expect(admin.locator(".timeline")).to_contain_text(moved)
    stored = vigil.store.get_alert(alert.alert_id)
    assert stored is not None and stored.claimed_by == ADMIN.username

    monitor.goto(f"{vigil.url}/#/alert/{alert.alert_id}")  # no longer theirs: no button
    expect(monitor.locator(".detail-head .holder")).to_contain_text(ADMIN.username)
    expect(monitor.locator(".act-reassign")).to_have_count(0)
    monitor.keyboard.press("r")
    expect(monitor.locator("#ra-to")).to_have_count(0)


def test_an_unsigned_alert_keeps_its_camera_flashing(vigil: VigilServer,
                                                     open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil)
    site = world.SITES[4]
    alert = world.plate_alert(vigil.settings.evidence_dir, "京A60005", 3, site=site,
                              raised_at=time.time() - 15 * 60)  # 15 minutes unsigned
    vigil.raise_alert(alert)
    page.goto(f"{vigil.url}/#/map")
    mark = page.locator(f'.mark[data-id="{site.id}"]')
    expect(mark).to_have_class(re.compile(r"\balerting\b"))
    api(page, vigil, "POST", f"/api/alerts/{alert.alert_id}/sign", {})
    expect(mark).not_to_have_class(re.compile(r"\balerting\b"))


def test_the_enlarged_wall_camera_fills_most_of_the_window(vigil: VigilServer,
                                                           open_page: OpenPage) -> None:
    page = open_page()
    login(page, vigil)
    page.goto(f"{vigil.url}/#/wall")
    page.locator(".tile").first.click()
    zoom = page.locator("dialog.zoom")
    expect(zoom).to_be_visible()
    box = zoom.bounding_box()
    picture = page.locator("dialog.zoom .zoom-picture").bounding_box()
    view = page.viewport_size
    assert box is not None and picture is not None and view is not None
    assert box["width"] >= 0.8 * view["width"] and box["height"] >= 0.8 * view["height"], box
    assert picture["height"] >= 0.6 * view["height"], picture
    info = page.locator("dialog.zoom .zoom-info").bounding_box()
    assert info is not None and info["y"] + info["height"] <= box["y"] + box["height"], info
    screenshot(page, "wall-zoom")
    page.keyboard.press("Escape")
    expect(zoom).to_have_count(0)



def test_the_wall_shows_analysed_rates_and_a_camera_held_to_keyframes(
        vigil: VigilServer, open_page: OpenPage) -> None:
    """Issue 13: load shedding is shown, never silent."""
    page = open_page()
    login(page, vigil)
    page.keyboard.press("2")
    shed = page.locator(f'.tile[data-camera-id="{world.SHED.id}"] .tile-meta')
    expect(shed).to_contain_text("分析 0.5 帧/秒")
    expect(shed).to_contain_text("降载：仅关键帧")
    calm = page.locator(f'.tile[data-camera-id="{world.SITES[0].id}"] .tile-meta')
    expect(calm).to_contain_text("分析 6.0 帧/秒")
    expect(calm).not_to_contain_text("降载")
