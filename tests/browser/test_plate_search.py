"""Vehicle search (车辆查询) in a real browser against the real app: a wildcard pattern from
the keyboard, thumbnails, a bad pattern explained, and a result opening its trajectory."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace

from playwright.sync_api import Page, expect

from core.messages import Evidence
from tests.browser import world
from tests.browser.scenes import plate_scene
from tests.browser.server import VigilServer
from tests.browser.support import login, screenshot
from tests.browser.test_console_screenshots import images_loaded, publish
from tests.browser.test_console_zh import leaks

OpenPage = Callable[[], Page]
WANTED = "京A1K3M5"


def _seed(vigil: VigilServer) -> None:
    """The wanted car's drive across town (each pass with a snapshot on disk) and two
    look-alikes the pattern must not match."""
    start = time.time() - 3600
    (vigil.settings.evidence_dir / "snap").mkdir(exist_ok=True)
    for n, found in enumerate(world.route_sightings(WANTED, start)):
        ref = f"snap/{found.sighting_id}.jpg"
        scene = plate_scene(WANTED, found.camera_id, world.china_time(found.first_seen), n)
        (vigil.settings.evidence_dir / ref).write_bytes(scene.jpeg)
        vigil.store.add_sighting(replace(found, evidence=Evidence(snapshot=ref)))
    for other in ("京A1K3M6", "沪A1K3M5"):
        for found in world.route_sightings(other, start)[:2]:
            vigil.store.add_sighting(found)


def test_a_wildcard_search_shows_thumbnails_and_opens_the_trajectory(
    vigil: VigilServer, open_page: OpenPage
) -> None:
    _seed(vigil)
    page = open_page()
    login(page, vigil)
    page.keyboard.press("6")
    expect(page.locator("h1")).to_have_text("车辆查询")
    expect(page.locator("#ps-plate")).to_be_focused()
    page.keyboard.type("京a·1?3%5")
    page.keyboard.press("Enter")
    expect(page.locator("#ps-status")).to_contain_text("号牌格式无效")
    expect(page.locator("#ps-status")).to_contain_text("不能包含 '%'")  # the server's why
    assert not leaks(page), leaks(page)  # ... in Chinese, not the server's English
    page.fill("#ps-plate", "京a·1?3?5")
    page.locator('#ps-cameras option[value="group:主干道"]').wait_for(state="attached")
    page.select_option("#ps-cameras", ["group:主干道"])  # 4 of the 5 passes
    page.press("#ps-plate", "Enter")
    rows = page.locator("#ps-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.locator(".plate")).to_have_text([WANTED] * 4)
    expect(rows.first.locator("td").nth(4)).to_have_text("南环高架 入口")  # newest first
    thumb = rows.first.locator("img.ps-thumb")
    expect(thumb).to_be_visible()
    expect(thumb).to_have_attribute("src", re.compile(r"^blob:"))
    assert "group=" in page.evaluate("location.hash")  # the search is in the URL
    images_loaded(page, "#ps-table img.ps-thumb")
    publish(str(screenshot(page, "plate-search")), "plate-search")
    link = rows.nth(2).get_by_role("link")  # the trajectory is not limited to the group
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/#/trajectory?plate=*")
    expect(page.locator("h1")).to_have_text("车辆轨迹")
    expect(page.locator("#tr-plate")).to_have_value(WANTED)
    expect(page.locator(".traj-list li")).to_have_count(5)
