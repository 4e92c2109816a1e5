"""Screenshots of the queue, an alert's detail, the camera wall and the map, at 1280x800.

Saved to artifacts/screenshots/ on every run. The copies under docs/screenshots/ (used by
the README and docs/console-ui.md) are written when missing, or refreshed on purpose with
``VIGIL_UPDATE_SCREENSHOTS=1`` — so an ordinary test run leaves the work tree clean.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser import world
from tests.browser.server import VigilServer
from tests.browser.support import MONITOR, REPO, login, screenshot

DOCS = REPO / "docs" / "screenshots"
PLATES = (  # plate, level, category, camera, seconds ago, watchlist reason
    ("京A12345", 1, "stolen", 0, -4, "盗抢车辆（车主报案，案件编号 A2026-1107）"),
    ("冀A5T789", 1, "cloned_suspect", 5, -18, "疑似套牌：同号车辆同时出现在两地"),
    ("京AD12345", 2, "wanted", 2, -95, "涉嫌肇事逃逸车辆"),
    ("粤B1234挂", 2, "key_vehicle", 7, -700, "危化品运输挂车：重点关注"),
    ("沪B88888", 3, "key_vehicle", 3, -260, "重点管控车辆：多次违法未处理"),
    ("京N7A321", 4, "custom", 1, -1500, "关注车辆"),
)


def publish(path: str, name: str) -> None:
    target = DOCS / f"{name}.png"
    if os.environ.get("VIGIL_UPDATE_SCREENSHOTS") == "1" or not target.exists():
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def images_loaded(page: Page, selector: str) -> None:
    page.wait_for_function(
        """(sel) => { const imgs = [...document.querySelectorAll(sel)];
                      return imgs.length > 0
                        && imgs.every((i) => i.complete && i.naturalWidth > 0); }""",
        arg=selector, timeout=10_000)


def test_screenshots_of_queue_detail_wall_and_map(
    vigil: VigilServer, open_page: Callable[[], Page]
) -> None:
    now = time.time()
    ids = []
    for plate, level, cat, site, dt, reason in PLATES:
        entry = vigil.watchlists.deploy({"plate": plate, "category": cat, "level": str(level),
                                         "reason": reason, "unit": "示例分局刑侦大队"}, "admin")
        alert = world.plate_alert(vigil.settings.evidence_dir, plate, level, cat,
                                  world.SITES[site], now + dt, entry.entry_id)
        ids.append(vigil.raise_alert(alert).alert.alert_id)
    page = open_page()
    login(page, vigil, MONITOR)
    token = page.evaluate("sessionStorage.getItem('vigil.token')")
    auth = {"Authorization": f"Bearer {token}"}
    for alert_id, moves in ((ids[3], ("sign", "dispose")), (ids[4], ("sign",))):
        for move in moves:
            assert page.request.post(f"{vigil.url}/api/alerts/{alert_id}/{move}",
                                     headers=auth, data={}).ok
    expect(page.locator(".qrow")).to_have_count(len(PLATES))
    expect(page.locator(f'.qrow[data-alert-id="{ids[3]}"]')).to_have_attribute(
        "data-state", "disposing")
    page.keyboard.press("Home")
    images_loaded(page, ".queue-preview img")
    page.mouse.move(0, 799)
    publish(str(screenshot(page, "queue")), "queue")

    page.keyboard.press("Enter")
    images_loaded(page, ".detail-media img")
    expect(page.locator(".timeline .tl-item")).to_have_count(1)
    publish(str(screenshot(page, "detail")), "detail")

    page.keyboard.press("2")
    images_loaded(page, ".tile:not([data-camera-id='34020000001320000007']) img")
    publish(str(screenshot(page, "wall")), "wall")

    page.keyboard.press("3")
    expect(page.locator(".mark")).to_have_count(len(world.SITES))
    expect(page.locator(".mark.alerting")).not_to_have_count(0)
    page.wait_for_timeout(300)
    publish(str(screenshot(page, "map")), "map")
