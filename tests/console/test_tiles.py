"""The base map's API: /api/map tells the page which map to draw, /tiles serves a local tile
folder (numbers only, never outside the folder, 404 for what is not there), and a tile
server's origin is the only one added to the page's image policy."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from console import tiles
from console.settings import ConsoleSettings
from core.config.tiles import MapOptions
from tests.console.support import Rig, build_rig

PNG = b"\x89PNG\r\n\x1a\ntile"


def rig_with(tmp_path: Path, options: MapOptions) -> Rig:
    settings = ConsoleSettings(live_dir=tmp_path / "live", evidence_dir=tmp_path / "evidence",
                               map=options)
    return build_rig(tmp_path, settings=settings)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "tiles"
    (root / "15" / "26984").mkdir(parents=True)
    (root / "15" / "26984" / "12400.png").write_bytes(PNG)
    (tmp_path / "secret.png").write_bytes(b"not a tile")
    return root


async def test_a_tile_folder_is_served_and_nothing_else(tmp_path: Path, folder: Path) -> None:
    rig = rig_with(tmp_path, MapOptions(folder=str(folder)))
    async with rig.client() as api:
        reply = await api.get("/tiles/15/26984/12400.png")  # no login: <img> sends no token
        assert reply.status_code == 200 and reply.content == PNG
        assert reply.headers["content-type"] == "image/png"
        assert reply.headers["cache-control"] == "public, max-age=86400"
        for url in ("/tiles/15/26984/12401.png",  # not in the set
                    "/tiles/15/26984/12400.jpg",  # another format than configured
                    "/tiles/15/99999/12400.png",  # column beyond 2^15
                    "/tiles/23/0/0.png", "/tiles/-1/0/0.png", "/tiles/15/x/0.png",
                    "/tiles/15/26984/..%2F..%2F..%2Fsecret.png",
                    "/tiles/..%2F..%2F/0/secret.png", "/tiles/15/26984/12400.png%00"):
            assert (await api.get(url)).status_code == 404, url
    rig.store.close()


async def test_tiles_are_404_without_a_folder(rig: Rig, api: httpx.AsyncClient) -> None:
    assert (await api.get("/tiles/0/0/0.png")).status_code == 404


async def test_the_page_learns_which_map_to_draw(tmp_path: Path, folder: Path) -> None:
    rig = rig_with(tmp_path, MapOptions(folder=str(folder), crs="GCJ02", attribution="市局",
                                        min_zoom=12, max_zoom=17))
    async with rig.client() as api:
        assert (await api.get("/api/map")).status_code == 401
        got = (await api.get("/api/map", headers=rig.auth("monitor"))).json()
    assert got == {"tiles": "folder", "url": "/tiles/{z}/{x}/{y}.png", "crs": "GCJ02",
                   "attribution": "市局", "min_zoom": 12, "max_zoom": 17,
                   "library": tiles.LIBRARY, "stylesheet": tiles.STYLESHEET, "reason": None}
    rig.store.close()


async def test_no_tiles_means_the_grid(rig: Rig, api: httpx.AsyncClient) -> None:
    got = (await api.get("/api/map", headers=rig.auth("monitor"))).json()
    assert got == {"tiles": "none", "reason": "no tile source configured"}
    policy = (await api.get("/")).headers["content-security-policy"]
    assert "img-src 'self' blob:;" in policy


async def test_a_tile_server_is_allowed_for_images_only(tmp_path: Path) -> None:
    options = MapOptions(url="http://10.1.2.3:8090/pgis/{z}/{x}/{y}.png")
    rig = rig_with(tmp_path, options)
    async with rig.client() as api:
        got = (await api.get("/api/map", headers=rig.auth("monitor"))).json()
        policy = (await api.get("/")).headers["content-security-policy"]
    assert got["tiles"] == "url" and got["url"] == options.url
    assert "img-src 'self' data: http://10.1.2.3:8090 blob:;" in policy
    assert policy.count("10.1.2.3") == 1
    rig.store.close()


def test_without_leaflet_the_page_keeps_the_grid_and_the_log_says_why(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(tiles, "LEAFLET_DIR", tmp_path / "nowhere")
    options = MapOptions(folder=str(tmp_path))
    got = tiles.map_settings(options)
    assert got["tiles"] == "none" and "make assets" in got["reason"]
    with caplog.at_level("WARNING", logger="console.tiles"):
        tiles.announce(options)
    assert "falling back to the grid map" in caplog.text and "make assets" in caplog.text
    server = MapOptions(url="http://10.1.2.3/{z}/{x}/{y}.png")
    assert tiles.content_policy("img-src 'self' blob:", server) == "img-src 'self' blob:"
