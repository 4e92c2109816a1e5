"""Plate search (车辆查询): every sighting matching a wildcard pattern, a time range, cameras
or camera groups, colour and plate type — as JSON pages or a CSV file — and the sighting
evidence files the result table shows as thumbnails.

The pattern language and the index behind it are in core/store/plate_search.py;
docs/console-api.md has the route's contract.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import math
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, FiniteFloat
from starlette.concurrency import run_in_threadpool

from alerts.csv_cells import escape_cell
from console.auth import Monitor
from console.context import Context, Ctx
from console.files import contained, serve_file
from console.schemas import ERRORS, Out
from core.store.plate_search import PatternError, SightingRow, SightingSearch, parse_pattern

router = APIRouter(prefix="/api/sightings", responses=ERRORS, tags=["sightings"])
CSV_MAX = 100_000
"""Rows in one CSV export; more → the file ends there and says so in ``X-Vigil-Truncated``."""
CSV_PAGE = 5_000
CSV_COLUMNS = ("seen_at", "plate", "plate_raw", "color", "plate_type", "confidence",
               "camera_id", "camera_name", "sighting_id", "snapshot")
Code = Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}$")]
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
"""A camera id or group name: no control characters (PostgreSQL text cannot hold NUL)."""


class SearchRow(Out):
    sighting_id: str
    plate: str
    plate_raw: str
    color: str
    plate_type: str
    confidence: float
    seen_at: float
    last_seen: float
    camera_id: str
    camera_name: str
    snapshot_url: str | None
    plate_url: str | None


class SearchPage(Out):
    pattern: str | None = Field(description="the pattern as searched (normalised)")
    items: list[SearchRow]
    limit: int
    has_more: bool
    next_cursor: str | None = Field(description="pass as cursor= for the next page")


def _bad(field: str, msg: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["query", field], "msg": msg, "type": "value_error"}])


def encode_cursor(row: SightingRow) -> str:
    raw = f"{row.seen_at!r}\n{row.sighting_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[float, str]:
    """A cursor this server gave out, or 422 (it is opaque: never built by clients)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        at, sighting_id = raw.split("\n", 1)
        value = float(at)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _bad("cursor", "not a cursor from a previous page; start again without it") \
            from exc
    if not math.isfinite(value) or not sighting_id or "\x00" in sighting_id:
        raise _bad("cursor", "not a cursor from a previous page; start again without it")
    return value, sighting_id


def _cameras(ctx: Context, cameras: list[str], groups: list[str]) -> tuple[str, ...]:
    """The camera ids asked for, by id (any id: removed cameras keep their history) and by
    group (from the configured cameras; a group with none is an error, not "everything")."""
    chosen = dict.fromkeys(cameras)
    views = ctx.cameras.views()
    for group in groups:
        members = [v.camera.id for v in views if v.camera.group == group]
        if not members:
            raise _bad("group", f"no configured camera is in group {group!r}")
        chosen.update(dict.fromkeys(members))
    return tuple(chosen)


class Filters(BaseModel):
    """The query string, checked (``from``/``to`` are Python keywords, hence the aliases)."""

    plate: str | None = Field(None, max_length=64, description="pattern: ? one, * any")
    since: FiniteFloat | None = Field(None, alias="from")
    until: FiniteFloat | None = Field(None, alias="to")
    camera: list[Name] = Field(default_factory=list, max_length=1000)
    group: list[Name] = Field(default_factory=list, max_length=100)
    color: Code | None = None
    plate_type: Code | None = None
    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = Field(None, max_length=400)
    format: Literal["json", "csv"] = "json"


def _search(ctx: Context, f: Filters) -> SightingSearch:
    try:
        pattern = parse_pattern(f.plate) if f.plate and f.plate.strip() else None
    except PatternError as exc:
        raise _bad("plate", str(exc)) from exc
    if f.since is not None and f.until is not None and f.since >= f.until:
        raise _bad("to", "the end of the time range must be after its start")
    return SightingSearch(
        pattern=pattern, since=f.since, until=f.until,
        cameras=_cameras(ctx, f.camera, f.group), color=f.color, plate_type=f.plate_type,
        after=decode_cursor(f.cursor) if f.cursor else None, limit=f.limit)


def row_json(ctx: Context, row: SightingRow) -> dict[str, Any]:
    view = ctx.cameras.view(row.camera_id)
    base = f"/api/sightings/{quote(row.sighting_id, safe='')}/evidence"
    return {
        "sighting_id": row.sighting_id, "plate": row.plate, "plate_raw": row.plate_raw,
        "color": row.color, "plate_type": row.plate_type, "confidence": row.confidence,
        "seen_at": row.seen_at, "last_seen": row.last_seen, "camera_id": row.camera_id,
        "camera_name": view.camera.name if view else row.camera_id,
        "snapshot_url": f"{base}/snapshot" if row.snapshot else None,
        "plate_url": f"{base}/plate" if row.plate_crop else None,
    }


@router.get("/search", response_model=SearchPage,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def search(_who: Monitor, ctx: Ctx, f: Annotated[Filters, Query()]) -> Any:
    """Sightings matching all filters, newest first, one page at a time (keyset cursor);
    ``format=csv``: every match (up to 100,000) as a CSV file."""
    query = _search(ctx, f)
    if f.format == "csv":
        return await run_in_threadpool(_csv, ctx, query)
    found, more = await run_in_threadpool(ctx.store().search_sightings, query)
    return {"pattern": query.pattern.text if query.pattern else None,
            "items": [row_json(ctx, r) for r in found], "limit": query.limit,
            "has_more": more, "next_cursor": encode_cursor(found[-1]) if more else None}


def _csv(ctx: Context, query: SightingSearch) -> Response:
    """All matches as CSV (UTF-8 with a BOM, so Excel and WPS read the Chinese), cells
    escaped against formula injection (alerts/csv_cells.py)."""
    rows, truncated = _all_rows(ctx, query)
    zone = ZoneInfo(ctx.settings.timezone)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        seen = datetime.fromtimestamp(r.seen_at, zone).isoformat(timespec="seconds")
        view = ctx.cameras.view(r.camera_id)
        cells = (seen, r.plate, r.plate_raw, r.color, r.plate_type, f"{r.confidence:.3f}",
                 r.camera_id, view.camera.name if view else r.camera_id, r.sighting_id,
                 r.snapshot or "")
        writer.writerow([escape_cell(c) for c in cells])
    headers = {"Content-Disposition": 'attachment; filename="sightings.csv"',
               "X-Vigil-Rows": str(len(rows)), "X-Vigil-Truncated": str(truncated).lower()}
    return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=headers)


def _all_rows(ctx: Context, query: SightingSearch) -> tuple[list[SightingRow], bool]:
    store = ctx.store()
    rows: list[SightingRow] = []
    after = query.after
    while True:
        want = min(CSV_PAGE, CSV_MAX - len(rows))
        page = SightingSearch(query.pattern, query.since, query.until, query.cameras,
                              query.color, query.plate_type, after, want)
        found, more = store.search_sightings(page)
        rows += found
        if not more:
            return rows, False
        if len(rows) >= CSV_MAX:
            return rows, True
        after = (found[-1].seen_at, found[-1].sighting_id)


@router.get("/{sighting_id}/evidence/{kind}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}}, 404: {}})
def evidence(sighting_id: str, kind: Literal["snapshot", "plate"], _who: Monitor,
             ctx: Ctx) -> Response:
    """A sighting's snapshot or plate crop (the search table's thumbnails); 404 when the
    sighting, its ref or the file is gone (retention removes old evidence)."""
    refs = None if "\x00" in sighting_id else ctx.store().sighting_evidence(sighting_id)
    ref = None if refs is None else refs[0 if kind == "snapshot" else 1]
    path = contained(ctx.settings.evidence_dir, ref) if ref else None
    return serve_file(path, f"{kind} for sighting {sighting_id}", "private, max-age=3600")
