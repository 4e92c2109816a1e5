"""The console's base map: where its tiles come from (``console.map`` in ``service.yaml``).

Police centres run their own PGIS or offline tile servers and their networks are offline, so
the console never asks a public map service: either the browser fetches XYZ tiles from the
centre's server (``url``), or Vigil serves a tile folder itself under
``/tiles/{z}/{x}/{y}.png`` (``folder``). Neither set is the default and keeps the grid map
(docs/console-ui.md, "Map").

Decisions: only XYZ templates (``{z}/{x}/{y}``, ``{-y}`` for TMS numbering) are supported;
WMTS capabilities and WMS are not, because every PGIS we know of also offers an XYZ/TMS
endpoint and parsing capabilities documents would pull in a second code path. Only tiles in
Web Mercator with WGS-84 or GCJ-02 coordinates are drawn; Baidu's BD-09 tile grid is a
different projection.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from core.config.base import Strict

MAX_ZOOM = 22
TileCrs = Literal["WGS84", "GCJ02"]


class MapOptions(Strict):
    """Tile source of the console map; validated so a wrong template fails at load, not as a
    grey map on the night shift."""

    url: str | None = Field(None, description="XYZ template of the centre's tile server, "
                            "e.g. http://10.1.2.3/tiles/{z}/{x}/{y}.png")
    folder: str | None = Field(None, description="local folder of {z}/{x}/{y}.<format> "
                               "tiles that Vigil serves under /tiles/")
    format: Literal["png", "jpg", "webp"] = Field("png", description="file type in folder")
    crs: TileCrs = Field("WGS84", description="coordinates the tiles are drawn in: WGS84 "
                         "(OSM-style offline maps) or GCJ02 (most Chinese street maps)")
    attribution: str = Field("", max_length=300, description="map credit shown in a corner")
    min_zoom: int = Field(0, ge=0, le=MAX_ZOOM)
    max_zoom: int = Field(18, ge=0, le=MAX_ZOOM)

    @field_validator("url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// address of the tile server, "
                             "e.g. http://10.1.2.3/tiles/{z}/{x}/{y}.png")
        missing = [k for k in ("{z}", "{x}") if k not in value]
        if "{y}" not in value and "{-y}" not in value:
            missing.append("{y}")
        if missing:
            raise ValueError(f"url has no {', '.join(missing)}; write an XYZ template such as "
                             "http://HOST/tiles/{z}/{x}/{y}.png (WMTS/WMS are not supported)")
        return value.strip()

    @field_validator("folder")
    @classmethod
    def _folder_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("folder is empty; write the tile folder's path or remove folder")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> MapOptions:
        if self.url and self.folder:
            raise ValueError("both url and folder are set; keep one tile source")
        if self.min_zoom > self.max_zoom:
            raise ValueError(f"min_zoom {self.min_zoom} is above max_zoom {self.max_zoom}; "
                             "lower min_zoom or raise max_zoom")
        return self

    @property
    def source(self) -> Literal["url", "folder", "none"]:
        """Which kind of tiles the console shows; ``none`` means the grid map."""
        if self.url:
            return "url"
        return "folder" if self.folder else "none"

    def tile_origin(self) -> str | None:
        """``scheme://host[:port]`` of a tile server, for the page's image policy."""
        if not self.url:
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"
