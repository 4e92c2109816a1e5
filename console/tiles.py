"""The console's base map: its settings for the page, and a local tile folder under /tiles.

The map library (Leaflet) is installed from npm at build time (``make assets``) and served
from ``static/vendor/leaflet/``; no CDN, because police networks are offline. If it is
missing (a checkout where ``make assets`` never ran, a package built without it), or no tile
source is configured, the page keeps its own grid map; the start-up log says which and why.

Tiles are served without a login: they are a street map, fetched by ``<img>`` elements
that cannot send the bearer token, and the page that asks for them is public too. Tile
paths are built from numbers only and then checked to stay inside the folder
(:func:`console.files.contained`), so no request can read anything else.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from console.auth import Monitor
from console.context import Ctx
from console.files import contained, serve_file
from core.config.tiles import MAX_ZOOM, MapOptions

log = logging.getLogger(__name__)
router = APIRouter(tags=["map"])
LEAFLET_DIR = Path(__file__).parent / "static" / "vendor" / "leaflet"
LEAFLET_FILES = ("leaflet-src.esm.js", "leaflet.css")
LIBRARY = "vendor/leaflet/leaflet-src.esm.js"
"""Where the page imports Leaflet from (relative to the page)."""
STYLESHEET = "vendor/leaflet/leaflet.css"
TILE_ROUTE = "/tiles/{z}/{x}/{y}"
TILE_NAME = re.compile(r"^(\d{1,7})\.(png|jpg|webp)$")
NUMBER = re.compile(r"^\d{1,7}$")
TILE_CACHE = "public, max-age=86400"


def leaflet_missing() -> str | None:
    """Why the map library cannot be served, or ``None`` when its files are in place."""
    gone = [name for name in LEAFLET_FILES if not (LEAFLET_DIR / name).is_file()]
    if not gone:
        return None
    return (f"Leaflet is not installed ({', '.join(gone)} missing in {LEAFLET_DIR}); run "
            "`make assets` (npm ci from package-lock.json)")


def map_settings(options: MapOptions) -> dict[str, Any]:
    """What the page needs to draw its map; ``tiles: none`` (with ``reason``) = grid map."""
    reason = None if options.source != "none" else "no tile source configured"
    if reason is None:
        reason = leaflet_missing()
    if reason is not None:
        return {"tiles": "none", "reason": reason}
    url = options.url or f"{TILE_ROUTE}.{options.format}"
    return {"tiles": options.source, "url": url, "crs": options.crs,
            "attribution": options.attribution, "min_zoom": options.min_zoom,
            "max_zoom": options.max_zoom, "library": LIBRARY, "stylesheet": STYLESHEET,
            "reason": None}


def announce(options: MapOptions) -> None:
    """One start-up line saying which map the console shows, and why not tiles if not."""
    if options.source == "none":
        log.info("console map: grid (no console.map tiles configured)")
        return
    missing = leaflet_missing()
    if missing is not None:
        log.warning("console map: falling back to the grid map: %s", missing)
        return
    if options.folder and not Path(options.folder).is_dir():
        log.warning("console map: tile folder %s does not exist; every tile answers 404",
                    options.folder)
    where = options.folder if options.folder else options.tile_origin()
    log.info("console map: %s tiles from %s (zoom %d-%d)", options.crs, where,
             options.min_zoom, options.max_zoom)


def content_policy(base: str, options: MapOptions) -> str:
    """The page's CSP with what a street map needs for images: the tile server's origin
    (only that one) and ``data:``, since Leaflet blanks a tile it drops (zooming) with a
    1-pixel ``data:`` GIF. Images cannot run code, so scripts stay as strict as before."""
    if options.source == "none" or leaflet_missing() is not None:
        return base
    origin = options.tile_origin()
    extra = f"data: {origin}" if origin else "data:"
    return base.replace("img-src 'self'", f"img-src 'self' {extra}", 1)


@router.get("/api/map", tags=["map"])
def get_map(_who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """The base map the page should draw: tiles and their coordinate system, or the grid."""
    return map_settings(ctx.settings.map)


@router.get(TILE_ROUTE, response_class=Response, include_in_schema=True,
            responses={200: {"content": {"image/png": {}}}, 404: {}})
def tile(z: str, x: str, y: str, ctx: Ctx) -> Response:
    """One tile of the configured folder (``z/x/y.<format>``); 404 when the folder is not
    configured, the numbers are not a tile, or the file is not there (offline tile sets
    often cover only the city)."""
    options = ctx.settings.map
    named = TILE_NAME.match(y)
    if (not options.folder or named is None or named.group(2) != options.format
            or not NUMBER.match(z) or not NUMBER.match(x) or int(z) > MAX_ZOOM):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such tile")
    zoom, column, row = int(z), int(x), int(named.group(1))
    if column >= 2**zoom or row >= 2**zoom:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such tile")
    path = contained(Path(options.folder), f"{zoom}/{column}/{row}.{options.format}")
    return serve_file(path, f"tile {zoom}/{column}/{row}", TILE_CACHE)
