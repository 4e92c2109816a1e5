"""``console.map`` in service.yaml: every mistake is one line with file, line, key and fix;
no tiles (the default) keeps the grid map."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_service
from core.config.tiles import MapOptions
from core.errors import ConfigError


def problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "service.yaml"
    path.write_text("console:\n  bind: 127.0.0.1:8080\n  map:\n" + body, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_service(path)
    return [p.replace(str(tmp_path) + "/", "") for p in caught.value.problems]


def test_no_tiles_is_the_default_grid() -> None:
    options = MapOptions()
    assert options.source == "none" and options.crs == "WGS84"
    assert options.tile_origin() is None


def test_a_tile_server_and_a_folder_load(tmp_path: Path) -> None:
    path = tmp_path / "service.yaml"
    path.write_text("console:\n  map:\n    url: http://10.1.2.3:8090/pgis/{z}/{x}/{y}.png\n"
                    "    crs: GCJ02\n    attribution: 市局 PGIS\n    max_zoom: 19\n",
                    encoding="utf-8")
    server = load_service(path).console.map
    assert server.source == "url" and server.crs == "GCJ02" and server.max_zoom == 19
    assert server.tile_origin() == "http://10.1.2.3:8090"
    path.write_text("console:\n  map: {folder: /srv/tiles, format: jpg}\n", encoding="utf-8")
    folder = load_service(path).console.map
    assert folder.source == "folder" and folder.format == "jpg"
    path.write_text("console:\n  map: {url: 'https://t/{z}/{x}/{-y}.png'}\n", encoding="utf-8")
    assert load_service(path).console.map.source == "url"  # TMS row numbering


@pytest.mark.parametrize(("body", "expected"), [
    ("    url: http://10.1.2.3/tiles\n",
     "service.yaml:4: console.map.url: url has no {z}, {x}, {y}; write an XYZ template such "
     "as http://HOST/tiles/{z}/{x}/{y}.png (WMTS/WMS are not supported)"),
    ("    url: ftp://10.1.2.3/{z}/{x}/{y}.png\n",
     "service.yaml:4: console.map.url: url must be an http:// or https:// address of the "
     "tile server, e.g. http://10.1.2.3/tiles/{z}/{x}/{y}.png"),
    ("    url: http://10.1.2.3/{z}/{x}/{y}.png\n    folder: /srv/tiles\n",
     "service.yaml:3: console.map: both url and folder are set; keep one tile source"),
    ("    folder: /srv/tiles\n    min_zoom: 15\n    max_zoom: 12\n",
     "service.yaml:3: console.map: min_zoom 15 is above max_zoom 12; lower min_zoom or raise "
     "max_zoom"),
    ("    folder: ' '\n",
     "service.yaml:4: console.map.folder: folder is empty; write the tile folder's path or "
     "remove folder"),
    ("    folder: /srv/tiles\n    crs: BD09\n",
     "service.yaml:5: console.map.crs: Input should be 'WGS84' or 'GCJ02'"),
    ("    folder: /srv/tiles\n    max_zoom: 23\n",
     "service.yaml:5: console.map.max_zoom: Input should be less than or equal to 22"),
    ("    folder: /srv/tiles\n    format: tif\n",
     "service.yaml:5: console.map.format: Input should be 'png', 'jpg' or 'webp'"),
    ("    tiles: /srv/tiles\n",
     "service.yaml:4: console.map.tiles: Extra inputs are not permitted"),
])
def test_mistakes_name_the_line_key_and_fix(tmp_path: Path, body: str, expected: str) -> None:
    assert problems(tmp_path, body) == [expected]
