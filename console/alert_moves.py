"""The blocking half of the alert routes: compute, store and audit moves (run in the
thread pool; :mod:`console.routes_alerts` publishes what they return).

One alert at a time, always: a bulk request or a handover is a loop over the same single
move a button does — its own conditional UPDATE, its own audit row, its own timeline entry
and event — so a conflict on one alert (someone else signed it a moment ago) is reported
for that alert and the others go through. There is no "all or nothing": an operator who
signs nine repeats wants the eight that are still free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.context import Context
from console.errors import AlertConflict
from console.identity import Principal, Role, at_least
from console.schemas_alerts import HandoverIn
from console.views import alert_json
from core.errors import RequestError, TransitionError
from core.lifecycle import Action, Feedback, HolderChange, transition
from core.messages import AlertTransition, TransitionKind
from core.store import AlertRecord, NotFoundError
from core.store.records import HolderResult


def require_alert(ctx: Context, alert_id: str) -> AlertRecord:
    record = ctx.store().get_alert(alert_id)
    if record is None:
        raise NotFoundError(f"alert {alert_id}")
    return record


def _conflict(ctx: Context, alert_id: str, exc: TransitionError) -> AlertConflict:
    now = ctx.store().get_alert(alert_id)
    return AlertConflict(exc, now.alert.state.value if now else None,
                         now.claimed_by if now else None)


@dataclass(frozen=True, slots=True)
class Move:
    """One operator move on one alert; ``bulk`` marks its audit row as part of a bulk
    request."""

    alert_id: str
    action: Action
    note: str | Feedback = ""
    bulk: bool = False


def apply_move(ctx: Context, who: Principal, move: Move
               ) -> tuple[AlertRecord, AlertTransition | None]:
    """Compute, store and audit one move (blocking)."""
    alert_id, action, note = move.alert_id, move.action, move.note
    store = ctx.store()
    record = require_alert(ctx, alert_id)
    try:
        step = transition(record.case, action, who.name, ctx.clock.now(), note)
        stored = store.append_transition(step, record.case)
    except TransitionError as exc:
        raise _conflict(ctx, alert_id, exc) from exc
    done = step.transition
    if done is not None:
        detail: dict[str, Any] = {"from": done.from_state.value, "to": done.to_state.value,
                                  "note": done.note}
        if move.bulk:
            detail["bulk"] = True
        store.audit(who.name, f"alert.{action.value}", f"alert:{alert_id}", detail)
    return stored, done


def failure(alert_id: str, exc: AlertConflict | NotFoundError) -> dict[str, Any]:
    """A per-alert outcome of a bulk request that did not go through."""
    if isinstance(exc, NotFoundError):
        return {"alert_id": alert_id, "status": 404, "detail": str(exc), "state": None,
                "claimed_by": None, "alert": None}
    return {"alert_id": alert_id, "status": 409, "detail": str(exc), "state": exc.state,
            "claimed_by": exc.claimed_by, "alert": None}


def apply_many(ctx: Context, who: Principal, ids: list[str], action: Action, note: str
               ) -> tuple[list[dict[str, Any]], list[AlertTransition]]:
    """Every id in turn; returns one outcome per id (in order) and the entries stored."""
    results: list[dict[str, Any]] = []
    done: list[AlertTransition] = []
    for alert_id in ids:
        try:
            record, tr = apply_move(ctx, who, Move(alert_id, action, note, bulk=True))
        except (AlertConflict, NotFoundError) as exc:
            results.append(failure(alert_id, exc))
            continue
        if tr is not None:
            done.append(tr)
        results.append({"alert_id": alert_id, "status": 200, "detail": None,
                        "state": record.alert.state.value, "claimed_by": record.claimed_by,
                        "alert": alert_json(record, ctx.settings.sla)})
    return results, done


def _check_user(ctx: Context, username: str) -> None:
    """The new holder must be a console user who can sign in (an alert given to a disabled
    or unknown name would be stuck again)."""
    user = ctx.store().get_user(username)
    if user is None or user.disabled:
        raise RequestError([("to", f"no enabled console user {username!r}")])


def change_holder(ctx: Context, who: Principal, alert_id: str,
                  change: HolderChange) -> HolderResult:
    """Reassign one alert and audit it (``alert.reassign`` / ``alert.handover``)."""
    _check_user(ctx, change.to)
    require_alert(ctx, alert_id)
    try:
        result = ctx.store().change_holder(alert_id, change)
    except TransitionError as exc:
        raise _conflict(ctx, alert_id, exc) from exc
    tr = result.transition
    if tr is not None:
        ctx.store().audit(who.name, f"alert.{change.kind}", f"alert:{alert_id}", {
            "from": result.previous, "to": change.to, "reason": change.reason,
            "state": tr.to_state.value})
    return result


def hand_over(ctx: Context, who: Principal, holder: str, body: HandoverIn
              ) -> tuple[list[str], list[dict[str, Any]], list[AlertTransition]]:
    """Every unfinished alert ``holder`` holds goes to ``body.to``, one at a time; one that
    was moved on or reassigned meanwhile is reported (409) and left alone."""
    _check_user(ctx, body.to)
    store = ctx.store()
    privileged = at_least(who.role, Role.SUPERVISOR)
    moved: list[str] = []
    failed: list[dict[str, Any]] = []
    done: list[AlertTransition] = []
    for record in store.held_by(holder):
        alert_id = record.alert.alert_id
        change = HolderChange(body.to, who.name, ctx.clock.now(), privileged,
                              TransitionKind.HANDOVER, body.reason, expected_holder=holder)
        try:
            result = change_holder(ctx, who, alert_id, change)
        except (AlertConflict, NotFoundError) as exc:
            failed.append(failure(alert_id, exc))
            continue
        moved.append(alert_id)
        if result.transition is not None:
            done.append(result.transition)
    store.audit(who.name, "alerts.handover", f"user:{holder}",
                {"to": body.to, "moved": len(moved), "failed": len(failed),
                 "reason": body.reason})
    return moved, failed, done
