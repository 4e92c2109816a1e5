"""Cameras, live pictures, sightings and trajectories (车辆轨迹), statistics, dispatch."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field, FiniteFloat
from starlette.concurrency import run_in_threadpool

from console.auth import Dispatcher, Monitor
from console.context import Context, Ctx
from console.files import contained, read_body, serve_file
from console.registry import CameraView
from console.schemas import ERRORS, CallbackOut, DispatchOut, RetryOut, RowId
from console.schemas_data import CameraOut, SightingOut, StatsOut, TrajectoryOut
from console.stats import alert_stats, day_start, evidence_use
from console.views import dispatch_json, sighting_json
from core.plates import normalize
from core.store import NotFoundError

router = APIRouter(prefix="/api", responses=ERRORS, tags=["data"])
DAY = 86400.0


@router.get("/cameras", response_model=list[CameraOut], tags=["cameras"])
def list_cameras(_who: Monitor, ctx: Ctx) -> list[dict[str, Any]]:
    return [v.as_json() for v in ctx.cameras.views()]


@router.get("/cameras/{camera_id}", response_model=CameraOut, tags=["cameras"],
            responses={404: {}})
def get_camera(camera_id: str, _who: Monitor, ctx: Ctx) -> dict[str, Any]:
    return _camera(ctx, camera_id).as_json()


@router.get("/cameras/{camera_id}/snapshot.jpg", response_class=Response, tags=["cameras"],
            responses={200: {"content": {"image/jpeg": {}}}, 404: {}})
def snapshot(camera_id: str, _who: Monitor, ctx: Ctx) -> Response:
    """The camera's latest live picture (refreshed about once a second; never cached)."""
    _camera(ctx, camera_id)
    path = contained(ctx.settings.live_dir, f"{camera_id}.jpg")
    return serve_file(path, f"live picture for camera {camera_id}", "no-store")


def _camera(ctx: Context, camera_id: str) -> CameraView:
    view = ctx.cameras.view(camera_id)
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no camera {camera_id!r}")
    return view


class PlateQuery(BaseModel):
    plate: str = Field(min_length=1, max_length=32, description="any spelling; normalised")
    since: FiniteFloat | None = Field(None, description="default: until - 24 h")
    until: FiniteFloat | None = Field(None, description="default: now")
    limit: int = Field(1000, ge=1, le=10_000)


def _sightings(ctx: Context, q: PlateQuery) -> tuple[str, float, float, list[dict[str, Any]]]:
    plate = normalize(q.plate)
    until = ctx.clock.now() if q.until is None else q.until
    since = until - DAY if q.since is None else q.since
    if not plate:
        raise HTTPException(422, [{"loc": ["query", "plate"], "msg": "no plate characters",
                                   "type": "value_error"}])
    found = ctx.store().trajectory(plate, since, until, q.limit)
    return plate, since, until, [sighting_json(s) for s in found]


@router.get("/sightings", response_model=list[SightingOut], tags=["sightings"])
def sightings(_who: Monitor, ctx: Ctx,
              q: Annotated[PlateQuery, Query()]) -> list[dict[str, Any]]:
    """Every pass of one plate in ``[since, until]``, oldest first."""
    return _sightings(ctx, q)[3]


@router.get("/trajectory", response_model=TrajectoryOut, tags=["sightings"])
def trajectory(_who: Monitor, ctx: Ctx, q: Annotated[PlateQuery, Query()]) -> dict[str, Any]:
    """The plate's sightings in time order, each with its camera's position."""
    plate, since, until, found = _sightings(ctx, q)
    places = {cid: _place(ctx, cid) for cid in dict.fromkeys(s["camera_id"] for s in found)}
    points = [{"sighting": s, "camera": places[s["camera_id"]]} for s in found]
    return {"plate": plate, "since": since, "until": until, "points": points,
            "cameras": places}


def _place(ctx: Context, camera_id: str) -> dict[str, Any]:
    view = ctx.cameras.view(camera_id)
    loc = view.camera.location if view else None
    return {"camera_id": camera_id, "name": view.camera.name if view else camera_id,
            "lon": loc.lon if loc else None, "lat": loc.lat if loc else None,
            "crs": loc.crs if loc else None, "address": loc.address if loc else ""}


@router.get("/stats", response_model=StatsOut, tags=["stats"])
def stats(_who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """Today (local midnight in the configured time zone) so far."""
    now = ctx.clock.now()
    start = day_start(now, ctx.settings.timezone)
    times = ctx.store().alert_times(start, now + 1.0)
    cameras = Counter(v.as_json()["state"] for v in ctx.cameras.views())
    return {"day_start": start, "now": now, "timezone": ctx.settings.timezone,
            **alert_stats(times, now, ctx.settings.sla), "cameras": dict(sorted(cameras.items())),
            "evidence": evidence_use()}


@router.get("/dispatch/dead-letters", response_model=list[DispatchOut], tags=["dispatch"])
def dead_letters(_who: Dispatcher, ctx: Ctx,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Deliveries to 110 that were given up on, newest first."""
    return [dispatch_json(d) for d in ctx.store().dead_letters(limit)]


@router.post("/dispatch/dead-letters/{item_id}/retry", response_model=RetryOut,
             tags=["dispatch"], responses={404: {}})
def retry(item_id: RowId, who: Dispatcher, ctx: Ctx) -> dict[str, Any]:
    """Queue a dead letter again, due now."""
    store = ctx.store()
    if not store.retry_dead(item_id):
        raise NotFoundError(f"dead letter {item_id}")
    store.audit(who.name, "dispatch.retry", f"dispatch:{item_id}", None)
    return {"id": item_id, "retried": True}


@router.post("/dispatch/callback", response_model=CallbackOut, tags=["dispatch"],
             responses={401: {"description": "signature did not verify"}, 404: {}, 413: {}})
async def callback(request: Request, ctx: Ctx) -> dict[str, Any]:
    """A status update from 110 dispatch (accepted, dispatched, arrived, feedback, closed).
    No bearer token: the dispatch port verifies the request's signature. A repeat of a
    recorded callback (same ``webhook-id``) answers ``duplicate: true`` and adds nothing."""
    port = ctx.dispatch()
    body = await read_body(request, ctx.settings.max_upload)
    headers = {k.lower(): v for k, v in request.headers.items()}
    receipt = await run_in_threadpool(port.callback, headers, body)
    await run_in_threadpool(ctx.store().audit, "dispatch", "dispatch.callback",
                            f"alert:{receipt.alert_id}",
                            {"webhook_id": headers.get("webhook-id"),
                             "duplicate": receipt.duplicate})
    if ctx.hub is not None and not receipt.duplicate:
        ctx.hub.wake()
    return {"alert_id": receipt.alert_id, "duplicate": receipt.duplicate}

