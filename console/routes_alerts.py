"""Alerts: the filtered list, detail, the operator's moves (签收 / 处置 / 反馈 / close / 误报),
bulk sign and dismiss, reassign (改派) and handover (交班), and evidence.

A move is applied exactly as docs/alerts.md prescribes: compute the step with
:func:`core.lifecycle.transition`, store it with a conditional UPDATE
(:meth:`~core.store.Store.append_transition`), audit it, then publish the transition on the
bus (the SLA tracker and the other consoles follow it there). The WebSocket does not wait
for the bus: the hub reads the event log, which the store wrote in the same transaction.
Bulk moves and handovers are loops of single moves (console/alert_moves.py): each alert is
stored, audited and published on its own, and one refusal does not stop the rest.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from console.alert_moves import (
    Move,
    apply_many,
    apply_move,
    change_holder,
    hand_over,
    require_alert,
)
from console.auth import Monitor
from console.context import Context, Ctx
from console.files import contained, serve_file
from console.identity import Principal, Role, at_least
from console.schemas import (
    ERRORS,
    AlertDetail,
    AlertOut,
    AlertPage,
    DismissIn,
    FeedbackIn,
    NoteIn,
)
from console.schemas_alerts import (
    AlertFilter,
    AssigneeOut,
    BulkIn,
    BulkOut,
    HandoverIn,
    HandoverOut,
    ReassignIn,
)
from console.views import alert_json, dispatch_json, evidence_ref, timeline_json
from core import topics
from core.errors import RequestError, RetryableError
from core.lifecycle import Action, Feedback, HolderChange
from core.messages import AlertTransition, TransitionKind
from core.store import AlertQuery

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/alerts", responses=ERRORS, tags=["alerts"])
MOVE: dict[int | str, dict[str, Any]] = {404: {"description": "no such alert"},
        409: {"description": "refused: `detail` says why, `claimed_by` who holds the alert"}}


@router.get("", response_model=AlertPage)
def list_alerts(_who: Monitor, ctx: Ctx, q: Annotated[AlertFilter, Query()]) -> dict[str, Any]:
    """Alerts matching the filters, newest first, one page at a time."""
    cameras = _cameras_of(ctx, q)
    if cameras is None:  # asked for cameras or groups that have none
        return {"items": [], "limit": q.limit, "offset": q.offset, "has_more": False}
    query = AlertQuery(
        since=q.since, until=q.until, limit=q.limit + 1, offset=q.offset,
        states=tuple(q.state), levels=tuple(q.level), camera_ids=cameras,
        rule_ids=tuple(q.rule_id), categories=tuple(q.category), claimed_by=q.claimed_by,
        text=q.q or None, text_cameras=_cameras_matching(ctx, q.q) if q.q else ())
    records = ctx.store().list_alerts(query)
    sla = ctx.settings.sla
    return {"items": [alert_json(r, sla) for r in records[:q.limit]], "limit": q.limit,
            "offset": q.offset, "has_more": len(records) > q.limit}


def _cameras_of(ctx: Context, q: AlertFilter) -> tuple[str, ...] | None:
    """The camera ids asked for (``camera_id`` and the cameras of each ``group``); ``()``
    when neither was given, ``None`` when they name no camera at all."""
    if not q.camera_id and not q.group:
        return ()
    groups = set(q.group)
    ids = set(q.camera_id) | {v.camera.id for v in ctx.cameras.views()
                              if v.camera.group in groups}
    return tuple(sorted(ids)) or None


def _cameras_matching(ctx: Context, text: str) -> tuple[str, ...]:
    """Cameras whose name or address contains ``text`` (case-insensitive): the alerts table
    keeps only the camera id, the registry knows the rest."""
    needle = text.casefold()
    found = []
    for view in ctx.cameras.views():
        cam = view.camera
        address = cam.location.address if cam.location else ""
        if needle in cam.name.casefold() or needle in (address or "").casefold():
            found.append(cam.id)
    return tuple(found)


@router.post("/bulk", response_model=BulkOut, responses={422: {}})
async def bulk(body: BulkIn, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """批量签收 / 批量排除: one action on many alerts. Each alert is moved exactly as by its
    own route (conditional update, audit, publish); one that cannot be moved is reported
    with its own status (404, 409) and does not stop the others."""
    action = Action(body.action)
    note = body.reason if action is Action.DISMISS else body.note
    results, done = await run_in_threadpool(apply_many, ctx, who, body.ids, action, note)
    await _announce(ctx, done)
    ok = sum(1 for r in results if r["status"] == 200)
    return {"action": action.value, "done": ok, "failed": len(results) - ok,
            "results": results}


@router.post("/handover", response_model=HandoverOut, responses={403: {}, 422: {}})
async def handover(body: HandoverIn, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """交班: give every unfinished alert ``holder`` (default: you) holds to ``to``. Handing
    over someone else's alerts needs the supervisor role."""
    holder = body.holder or who.name
    if holder != who.name and not at_least(who.role, Role.SUPERVISOR):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "needs role supervisor to hand over "
                            f"another user's alerts (you are {who.role})")
    if holder == body.to:
        raise RequestError([("to", "the alerts' holder already")])
    moved, failed, done = await run_in_threadpool(hand_over, ctx, who, holder, body)
    await _announce(ctx, done)
    return {"holder": holder, "to": body.to, "moved": moved, "failed": failed}


@router.get("/assignees", response_model=list[AssigneeOut])
def assignees(_who: Monitor, ctx: Ctx) -> list[dict[str, Any]]:
    """Who an alert can be given to (reassign, handover): every enabled console user, for
    the page's picker (the users list itself is admin-only and says more)."""
    return [{"username": u.username, "display_name": u.display_name, "role": u.role}
            for u in ctx.store().list_users() if not u.disabled]


@router.get("/{alert_id}", response_model=AlertDetail, responses={404: {}})
def get_alert(alert_id: str, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """The alert, its timeline and (dispatcher and admin only) its 110 deliveries."""
    store = ctx.store()
    record = require_alert(ctx, alert_id)
    dispatch = ([dispatch_json(d) for d in store.dispatches_for(alert_id)]
                if at_least(who.role, Role.DISPATCHER) else None)
    return {"alert": alert_json(record, ctx.settings.sla),
            "timeline": [timeline_json(t) for t in store.timeline(alert_id)],
            "dispatch": dispatch}


@router.post("/{alert_id}/sign", response_model=AlertOut, responses=MOVE)
async def sign(alert_id: str, who: Monitor, ctx: Ctx,
               body: NoteIn | None = None) -> dict[str, Any]:
    """签收: claim the alert. Refused (409) if someone else holds it."""
    return await _move(ctx, who, alert_id, Action.SIGN, body.note if body else "")


@router.post("/{alert_id}/dispose", response_model=AlertOut, responses=MOVE)
async def dispose(alert_id: str, who: Monitor, ctx: Ctx,
                  body: NoteIn | None = None) -> dict[str, Any]:
    """处置: the holder starts handling it."""
    return await _move(ctx, who, alert_id, Action.DISPOSE, body.note if body else "")


@router.post("/{alert_id}/feedback", response_model=AlertOut, responses=MOVE)
async def feedback(alert_id: str, body: FeedbackIn, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """反馈: the holder records the result."""
    note = Feedback(body.result, body.note, tuple(body.attachments))
    return await _move(ctx, who, alert_id, Action.FEEDBACK, note)


@router.post("/{alert_id}/close", response_model=AlertOut, responses=MOVE)
async def close(alert_id: str, who: Monitor, ctx: Ctx,
                body: NoteIn | None = None) -> dict[str, Any]:
    return await _move(ctx, who, alert_id, Action.CLOSE, body.note if body else "")


@router.post("/{alert_id}/dismiss", response_model=AlertOut, responses=MOVE)
async def dismiss(alert_id: str, body: DismissIn, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """误报: a false alarm; the reason is required."""
    return await _move(ctx, who, alert_id, Action.DISMISS, body.reason)


@router.post("/{alert_id}/reassign", response_model=AlertOut, responses=MOVE)
async def reassign(alert_id: str, body: ReassignIn, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """改派: give a signed (disposing, feedback) alert to another user. Its holder may; a
    supervisor or an admin may take anyone's (409 for others, as for every move)."""
    change = HolderChange(body.to, who.name, ctx.clock.now(),
                          at_least(who.role, Role.SUPERVISOR), TransitionKind.REASSIGN,
                          body.reason)
    result = await run_in_threadpool(change_holder, ctx, who, alert_id, change)
    await _announce(ctx, [result.transition] if result.transition else [])
    return alert_json(result.record, ctx.settings.sla)


@router.get("/{alert_id}/evidence/{kind}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}, 404: {}})
def evidence(alert_id: str, kind: Literal["snapshot", "plate", "clip"], _who: Monitor,
             ctx: Ctx) -> Response:
    """The alert's snapshot, plate crop or clip, from the evidence dir (refs outside it are
    refused as missing)."""
    ref = evidence_ref(require_alert(ctx, alert_id).alert, kind)
    path = contained(ctx.settings.evidence_dir, ref) if ref else None
    return serve_file(path, f"{kind} for alert {alert_id}", "private, max-age=3600")


async def _move(ctx: Context, who: Principal, alert_id: str, action: Action,
                note: str | Feedback) -> dict[str, Any]:
    record, done = await run_in_threadpool(apply_move, ctx, who, Move(alert_id, action, note))
    await _announce(ctx, [done] if done is not None else [])
    return alert_json(record, ctx.settings.sla)


async def _announce(ctx: Context, done: list[AlertTransition]) -> None:
    """Publish stored timeline entries and wake the WebSocket hub. A bus failure only
    delays other subscribers: the entries are stored and the hub polls the event log."""
    for tr in done:
        if ctx.bus is None:
            break
        try:
            await ctx.bus.publish(topics.ALERT_TRANSITIONS, tr)
        except RetryableError as exc:
            log.warning("alert %s: %s stored but not published: %s", tr.alert_id, tr.kind, exc)
            break
    if ctx.hub is not None:
        ctx.hub.wake()
