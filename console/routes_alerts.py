"""Alerts: list, detail, the operator's moves (签收 / 处置 / 反馈 / close / 误报) and evidence.

A move is applied exactly as docs/alerts.md prescribes: compute the step with
:func:`core.lifecycle.transition`, store it with a conditional UPDATE
(:meth:`~core.store.Store.append_transition`), audit it, then publish the transition on the
bus (the SLA tracker and the other consoles follow it there). The WebSocket does not wait
for the bus: the hub reads the event log, which the store wrote in the same transaction.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, FiniteFloat
from starlette.concurrency import run_in_threadpool

from console.auth import Monitor
from console.context import Context, Ctx
from console.errors import AlertConflict
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
from console.views import alert_json, dispatch_json, evidence_ref, timeline_json
from core import topics
from core.errors import RetryableError, TransitionError
from core.lifecycle import Action, Feedback, transition
from core.messages import AlertState, AlertTransition
from core.store import AlertQuery, AlertRecord, NotFoundError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/alerts", responses=ERRORS, tags=["alerts"])
MOVE: dict[int | str, dict[str, Any]] = {404: {"description": "no such alert"},
        409: {"description": "refused: `detail` says why, `claimed_by` who holds the alert"}}


class AlertFilter(BaseModel):
    state: AlertState | None = None
    level: int | None = Field(None, ge=1, le=4)
    camera_id: str | None = Field(None, max_length=128)
    since: FiniteFloat | None = Field(None, description="raised_at >= since (POSIX s)")
    until: FiniteFloat | None = Field(None, description="raised_at < until (POSIX s)")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("", response_model=AlertPage)
def list_alerts(_who: Monitor, ctx: Ctx, q: Annotated[AlertFilter, Query()]) -> dict[str, Any]:
    """Alerts matching the filters, newest first, one page at a time."""
    query = AlertQuery(q.state, q.level, q.camera_id, q.since, q.until, q.limit + 1, q.offset)
    records = ctx.store().list_alerts(query)
    sla = ctx.settings.sla
    return {"items": [alert_json(r, sla) for r in records[:q.limit]], "limit": q.limit,
            "offset": q.offset, "has_more": len(records) > q.limit}


@router.get("/{alert_id}", response_model=AlertDetail, responses={404: {}})
def get_alert(alert_id: str, who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """The alert, its timeline and (dispatcher and admin only) its 110 deliveries."""
    store = ctx.store()
    record = _require(ctx, alert_id)
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


@router.get("/{alert_id}/evidence/{kind}", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}, 404: {}})
def evidence(alert_id: str, kind: Literal["snapshot", "plate", "clip"], _who: Monitor,
             ctx: Ctx) -> Response:
    """The alert's snapshot, plate crop or clip, from the evidence dir (refs outside it are
    refused as missing)."""
    ref = evidence_ref(_require(ctx, alert_id).alert, kind)
    path = contained(ctx.settings.evidence_dir, ref) if ref else None
    return serve_file(path, f"{kind} for alert {alert_id}", "private, max-age=3600")


def _require(ctx: Context, alert_id: str) -> AlertRecord:
    record = ctx.store().get_alert(alert_id)
    if record is None:
        raise NotFoundError(f"alert {alert_id}")
    return record


async def _move(ctx: Context, who: Principal, alert_id: str, action: Action,
                note: str | Feedback) -> dict[str, Any]:
    record, done = await run_in_threadpool(_apply, ctx, who, alert_id, action, note)
    if done is not None and ctx.bus is not None:
        try:
            await ctx.bus.publish(topics.ALERT_TRANSITIONS, done)
        except RetryableError as exc:  # stored and audited; the hub polls the event log
            log.warning("alert %s: %s stored but not published: %s", alert_id, action, exc)
    if ctx.hub is not None:
        ctx.hub.wake()
    return alert_json(record, ctx.settings.sla)


def _apply(ctx: Context, who: Principal, alert_id: str, action: Action,
           note: str | Feedback) -> tuple[AlertRecord, AlertTransition | None]:
    """Compute, store and audit one move (blocking; run in the thread pool)."""
    store = ctx.store()
    record = _require(ctx, alert_id)
    try:
        step = transition(record.case, action, who.name, ctx.clock.now(), note)
        stored = store.append_transition(step, record.case)
    except TransitionError as exc:
        now = store.get_alert(alert_id)
        raise AlertConflict(exc, now.alert.state.value if now else None,
                            now.claimed_by if now else None) from exc
    done = step.transition
    if done is not None:
        store.audit(who.name, f"alert.{action.value}", f"alert:{alert_id}",
                    {"from": done.from_state.value, "to": done.to_state.value,
                     "note": done.note})
    return stored, done
