"""The street map in a real browser: a local folder of generated tiles configured, Leaflet
loaded from Vigil itself (no CDN), tiles from /tiles/..., camera markers on it, a trajectory
drawn as a path with time labels and snapshots; without tiles, the grid map. Also the
GCJ-02 formulas of geo.js against a published reference point."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from core.config.tiles import MapOptions
from core.messages import Evidence
from tests.browser import world
from tests.browser.scenes import plate_scene
from tests.browser.server import VigilServer
from tests.browser.support import login, screenshot
from tests.browser.test_console_screenshots import images_loaded, publish

OpenPage = Callable[[], Page]
ZOOMS = range(13, 17)
MARGIN = 0.02  # degrees of tiles around the cameras
PLATE = "京A7M2Q9"


def tile_xy(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """Web Mercator tile numbers (the XYZ scheme Leaflet requests)."""
    n = 2**zoom
    rad = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)


def write_tiles(root: Path) -> int:
    """Tiny street-map-like PNG tiles over the test town; returns how many."""
    lons = [s.lon for s in world.SITES]
    lats = [s.lat for s in world.SITES]
    count = 0
    for z in ZOOMS:
        x0, y0 = tile_xy(min(lons) - MARGIN, max(lats) + MARGIN, z)
        x1, y1 = tile_xy(max(lons) + MARGIN, min(lats) - MARGIN, z)
        for x in range(x0, x1 + 1):
            (root / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
            for y in range(y0, y1 + 1):
                img = Image.new("RGB", (256, 256), (28, 36, 46))
                draw = ImageDraw.Draw(img)
                for k in (64, 192):  # "streets"
                    draw.line([(0, k), (256, k)], fill=(70, 82, 96), width=6)
                    draw.line([(k, 0), (k, 256)], fill=(70, 82, 96), width=6)
                draw.text((8, 8), f"{z}/{x}/{y}", fill=(110, 124, 140))
                img.save(root / str(z) / str(x) / f"{y}.png", optimize=True)
                count += 1
    return count


@pytest.fixture(scope="module")
def vigil(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VigilServer]:
    """The browser tests' server with a tile folder configured (conftest's has none)."""
    root = tmp_path_factory.mktemp("vigil-tiles")
    assert write_tiles(root / "tiles") > 20
    server = VigilServer(root, world.registry())
    server.settings = replace(server.settings, map=MapOptions(
        folder=str(root / "tiles"), min_zoom=ZOOMS[0], max_zoom=ZOOMS[-1],
        attribution="测试瓦片 © Vigil"))
    world.write_live_pictures(server.settings.live_dir)
    server.start()
    yield server
    server.close()


def test_the_map_draws_cameras_on_tiles_served_by_vigil(vigil: VigilServer,
                                                        open_page: OpenPage) -> None:
    page = open_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    login(page, vigil)
    page.keyboard.press("3")
    expect(page.locator(".lf-map")).to_be_visible()
    expect(page.locator(".map-svg")).to_have_count(0)
    marks = page.locator(".lf-mark.mark")
    expect(marks).to_have_count(len(world.SITES))
    expect(page.locator(f'.lf-mark[data-id="{world.SITES[2].id}"]')).to_have_attribute(
        "role", "button")
    images_loaded(page, ".leaflet-tile-loaded")
    tiles = page.locator("img.leaflet-tile")
    assert all("/tiles/" in (tiles.nth(i).get_attribute("src") or "")
               for i in range(tiles.count()))
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("测试瓦片")
    assert f"{vigil.url}/vendor/leaflet/leaflet-src.esm.js" in asked
    assert f"{vigil.url}/vendor/leaflet/leaflet.css" in asked
    assert all(url.startswith((vigil.url, "blob:", "data:")) for url in asked), asked
    marks.nth(2).click()
    expect(page.locator(".map-side .panel-title")).to_have_text(world.SITES[2].name)
    page.keyboard.press("Escape")
    page.mouse.move(0, 799)
    page.wait_for_timeout(300)
    publish(str(screenshot(page, "map-tiles")), "map-tiles")


def test_a_trajectory_is_a_path_with_times_and_snapshots(vigil: VigilServer,
                                                         open_page: OpenPage) -> None:
    start = time.time() - 3600
    (vigil.settings.evidence_dir / "snap").mkdir(exist_ok=True)
    passes = world.route_sightings(PLATE, start)
    for n, found in enumerate(passes):
        ref = f"snap/{found.sighting_id}.jpg"
        scene = plate_scene(PLATE, found.camera_id, world.china_time(found.first_seen), n)
        (vigil.settings.evidence_dir / ref).write_bytes(scene.jpeg)
        vigil.store.add_sighting(replace(found, evidence=Evidence(snapshot=ref)))
    page = open_page()
    login(page, vigil)
    page.goto(f"{vigil.url}/#/trajectory?plate={PLATE}&since={int(start - 60)}")
    expect(page.locator(".traj-list li")).to_have_count(len(passes))
    images_loaded(page, ".traj-list img.ps-thumb")
    expect(page.locator("path.lf-route")).to_have_count(1)
    labels = page.locator(".lf-label").filter(has=page.locator(".lf-line"))
    expect(page.locator(".lf-mark.sighting")).to_have_count(len(passes))
    expect(labels.filter(has_text="1 · ")).to_have_count(1)
    images_loaded(page, ".lf-thumb")
    page.wait_for_timeout(300)
    screenshot(page, "trajectory-tiles")


def test_geo_js_gcj02_matches_the_published_beijing_point(vigil: VigilServer,
                                                          open_page: OpenPage) -> None:
    page = open_page()
    page.goto(vigil.url + "/")
    got = page.evaluate("""async () => {
        const g = await import('/geo.js');
        const fwd = g.wgs84ToGcj02(116.404, 39.915);
        return { fwd, back: g.gcj02ToWgs84(...fwd), inv: g.gcj02ToWgs84(116.404, 39.915),
                 bd: g.gcj02ToBd09(116.404, 39.915), unbd: g.bd09ToGcj02(116.404, 39.915),
                 paris: g.wgs84ToGcj02(2.35, 48.85),
                 map: g.toMapCrs(116.404, 39.915, 'WGS84', 'GCJ02') };
    }""")

    def metres(a: list[float], b: tuple[float, float]) -> float:
        return math.hypot((a[0] - b[0]) * 111_320 * math.cos(math.radians(b[1])),
                          (a[1] - b[1]) * 110_574)

    # wandergis/coordtransform's published outputs for (116.404, 39.915)
    assert metres(got["fwd"], (116.41024449916938, 39.91640428150164)) < 0.01
    assert metres(got["back"], (116.404, 39.915)) < 0.01  # the iterative inverse
    assert metres(got["inv"], (116.39775550083061, 39.91359571849836)) < 1.0  # one-step ref
    assert metres(got["bd"], (116.41036949371029, 39.92133699351021)) < 0.01
    assert metres(got["unbd"], (116.39762729119315, 39.90865673957631)) < 0.01
    assert got["paris"] == [2.35, 48.85] and got["map"] == got["fwd"]


def test_without_tiles_the_grid_map_stays(vigil: VigilServer, open_page: OpenPage) -> None:
    vigil.stop()
    vigil.settings = replace(vigil.settings, map=MapOptions())
    vigil.start()
    page = open_page()
    login(page, vigil)
    page.keyboard.press("3")
    expect(page.locator(".map-svg")).to_be_visible()
    expect(page.locator(".mark")).to_have_count(len(world.SITES))
    expect(page.locator(".lf-map")).to_have_count(0)
