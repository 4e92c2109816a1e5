"""Alerts, their timelines and the publish outbox.

The invariants this file keeps:

* an alert, its first timeline entry and its publish-outbox row are written in ONE
  transaction (:meth:`AlertStore.insert_alert`), so an alert is never published before it is
  durable and never durable without being queued for publishing;
* ``seq`` is allocated as ``max + 1`` while holding the alert-insert lock until commit, so
  numbers are gap-free and commit in order: a console replaying "after seq X" cannot skip an
  alert that committed late (a database sequence would allow exactly that);
* state changes are conditional UPDATEs on the state and holder they were computed from
  (optimistic concurrency): of two operators signing at once exactly one wins.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from core import codec, lifecycle
from core.errors import RetryableError
from core.lifecycle import REASSIGNABLE, Case, HolderChange, Step
from core.messages import (
    Alert,
    AlertState,
    AlertTransition,
    Observation,
    SceneEvent,
    Sighting,
    TransitionKind,
)
from core.store import schema
from core.store.alert_filters import conditions
from core.store.engine import StoreBase
from core.store.event_log import add_alert_event
from core.store.records import (
    AlertQuery,
    AlertRecord,
    HolderResult,
    JsonObject,
    NotFoundError,
    TimelineEntry,
)
from core.store.sql import decode_as, dump_json, load_json

log = logging.getLogger(__name__)

_A, _T, _P = schema.alerts, schema.alert_timeline, schema.publish_outbox
_INSERT_LOCK = 0x56414C54  # "VALT": serialises alert inserts on PostgreSQL
_RACE_ROUNDS = 5
_STAMPS: dict[AlertState, str] = {
    AlertState.SIGNED: "signed_at", AlertState.DISPOSING: "disposed_at",
    AlertState.FEEDBACK: "feedback_at", AlertState.CLOSED: "closed_at",
    AlertState.DISMISSED: "dismissed_at",
}
RAISED = TransitionKind.RAISED
"""Timeline kind of an alert's first entry (written by :meth:`AlertStore.insert_alert`)."""

# Statements built once and executed with parameters: SQLAlchemy then reuses the compiled
# form from its cache after a cheap cache-key lookup, where ``insert().values(row)`` or a
# fresh ``select`` per call builds and keys a new statement every time. That construction
# was about half of the CPU of an alert insert (the alert service commits one alert at a
# time, so this bounds its rate; see bench/console.py).
_BY_ID = sa.select(_A).where(_A.c.alert_id == sa.bindparam("alert_id"))
_MAX_SEQ = sa.select(sa.func.max(_A.c.seq))
_MAX_ENTRY = sa.select(sa.func.max(_T.c.seq)).where(_T.c.alert_id == sa.bindparam("alert_id"))
_INSERT_ALERT, _INSERT_ENTRY, _INSERT_OUTBOX = _A.insert(), _T.insert(), _P.insert()


def observation_id(obs: Observation) -> str:
    """The id of what raised the alert (retention keeps evidence an alert refers to)."""
    if isinstance(obs, Sighting):
        return obs.sighting_id
    if isinstance(obs, SceneEvent):
        return obs.event_id
    return f"{obs.camera_id}@{obs.since}"


def _record(row: Any) -> AlertRecord:
    alert = decode_as(row.body, Alert, f"alert {row.alert_id}")
    return AlertRecord(
        seq=row.seq, alert=replace(alert, state=AlertState(row.state)),
        claimed_by=row.claimed_by, pushed_at=row.pushed_at, signed_at=row.signed_at,
        disposed_at=row.disposed_at, feedback_at=row.feedback_at, closed_at=row.closed_at,
        dismissed_at=row.dismissed_at,
    )


def _entry(row: Any) -> TimelineEntry:
    detail = load_json(row.detail)
    return TimelineEntry(
        row.alert_id, row.seq, row.kind, AlertState(row.from_state), AlertState(row.to_state),
        row.by, row.at, row.note, detail if isinstance(detail, dict) else None,
    )


def _feedback_detail(step: Step) -> JsonObject | None:
    if step.feedback is None:
        return None
    fb = step.feedback
    return {"result": fb.result, "note": fb.note, "attachments": list(fb.attachments)}


class AlertStore(StoreBase):
    def insert_alert(self, alert: Alert) -> AlertRecord:
        """Persist a new alert with its first timeline entry and publish-outbox row, in one
        transaction. Idempotent on ``alert_id``: inserting it again returns the stored record.
        """
        with self.write() as conn:
            self.serialise(conn, _INSERT_LOCK)
            existing = self._get(conn, alert.alert_id)
            if existing is not None:
                return existing
            seq = int(conn.execute(_MAX_SEQ).scalar() or 0) + 1
            conn.execute(_INSERT_ALERT, self._alert_values(alert, seq))
            first = AlertTransition(alert.alert_id, RAISED, alert.state, alert.state,
                                    f"rule:{alert.rule_id}", alert.raised_at,
                                    alert.summary_zh or alert.summary_en)
            self._add_entry(conn, first, None)
            conn.execute(_INSERT_OUTBOX, {"alert_id": alert.alert_id, "seq": seq,
                                          "created_at": self.clock.now()})
        # What was just written, without reading it back and decoding the body again: a
        # new alert has no holder and no workflow stamps yet (the codec round-trips).
        return AlertRecord(seq=seq, alert=alert)

    def _alert_values(self, alert: Alert, seq: int) -> dict[str, Any]:
        return {
            "alert_id": alert.alert_id, "seq": seq, "rule_id": alert.rule_id,
            "level": alert.level, "category": alert.category, "camera_id": alert.camera_id,
            "subject": alert.subject, "observation_id": observation_id(alert.observation),
            "state": alert.state.value, "created_at": alert.raised_at,
            "body": codec.encode(alert).decode("utf-8"), "updated_at": self.clock.now(),
        }

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        with self.read() as conn:
            return self._get(conn, alert_id)

    def alerts_after(self, seq: int, limit: int = 500) -> list[AlertRecord]:
        """Alerts with ``seq`` greater than the given one, in seq order (console replay)."""
        stmt = sa.select(_A).where(_A.c.seq > seq).order_by(_A.c.seq).limit(limit)
        with self.read() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def list_alerts(self, query: AlertQuery) -> list[AlertRecord]:
        """Alerts matching ``query`` (:func:`core.store.alert_filters.conditions`), newest
        first."""
        stmt = (sa.select(_A).where(*conditions(query))
                .order_by(_A.c.created_at.desc(), _A.c.seq.desc())
                .limit(query.limit).offset(query.offset))
        with self.read() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def timeline(self, alert_id: str) -> list[TimelineEntry]:
        stmt = sa.select(_T).where(_T.c.alert_id == alert_id).order_by(_T.c.seq)
        with self.read() as conn:
            return [_entry(row) for row in conn.execute(stmt)]

    def append_transition(self, step: Step, expected: Case) -> AlertRecord:
        """Apply a lifecycle step computed from ``expected``; returns the stored record.

        The UPDATE only matches if the alert still has ``expected``'s state and holder. If
        someone got there first, the same request is re-evaluated against what is stored now:
        a repeat is a no-op success, a conflict raises
        :class:`~core.errors.TransitionError` naming the current state and holder.
        """
        for _ in range(_RACE_ROUNDS):
            if step.transition is None:
                return self._require_now(expected.alert.alert_id)
            tr = step.transition
            current = self._try_apply(step, tr, expected)
            if (current.alert.state, current.claimed_by) == (tr.to_state, step.case.holder):
                return current  # we won, or an identical request did
            note = step.feedback if step.feedback is not None else tr.note
            step = lifecycle.transition(current.case, step.action, tr.by, tr.at, note)
            expected = current.case
        raise RetryableError(f"alert {expected.alert.alert_id}: too much contention, retry")

    def _try_apply(self, step: Step, tr: AlertTransition, expected: Case) -> AlertRecord:
        """One conditional UPDATE; returns the stored record afterwards, whoever won."""
        alert_id = expected.alert.alert_id
        values: dict[str, Any] = {"state": tr.to_state.value, "claimed_by": step.case.holder,
                                  "updated_at": self.clock.now(), _STAMPS[tr.to_state]: tr.at}
        matches = sa.and_(_A.c.alert_id == alert_id,
                          _A.c.state == expected.alert.state.value,
                          _A.c.claimed_by.is_not_distinct_from(expected.holder))
        with self.write() as conn:
            if conn.execute(sa.update(_A).where(matches).values(values)).rowcount == 1:
                self._add_entry(conn, tr, _feedback_detail(step))
            return self._require(conn, alert_id)

    def change_holder(self, alert_id: str, change: HolderChange) -> HolderResult:
        """Give the alert to ``change.to`` (:func:`core.lifecycle.reassign`): a conditional
        UPDATE of the holder on the state and holder it was checked against, plus a timeline
        entry (``detail``: ``from``, ``to``, ``reason``) and its event, in one transaction.

        If the alert changed in between (signed, moved on or reassigned by someone else) the
        request is checked again against what is stored now: giving it to the holder it
        already has is a no-op, anything no longer allowed raises
        :class:`~core.errors.TransitionError` naming the current state and holder.
        """
        for _ in range(_RACE_ROUNDS):
            current = self._require_now(alert_id)
            tr = lifecycle.reassign(current.case, change)
            if tr is None:
                return HolderResult(current, None, current.claimed_by)
            matches = sa.and_(_A.c.alert_id == alert_id,
                              _A.c.state == current.alert.state.value,
                              _A.c.claimed_by.is_not_distinct_from(current.claimed_by))
            values = {"claimed_by": change.to, "updated_at": self.clock.now()}
            with self.write() as conn:
                if conn.execute(sa.update(_A).where(matches).values(values)).rowcount == 1:
                    self._add_entry(conn, tr, {"from": current.claimed_by, "to": change.to,
                                               "reason": change.reason.strip()})
                    return HolderResult(self._require(conn, alert_id), tr, current.claimed_by)
        raise RetryableError(f"alert {alert_id}: too much contention, retry")

    def held_by(self, holder: str, limit: int = 1000) -> list[AlertRecord]:
        """Alerts ``holder`` holds that are not finished (what a handover passes on), oldest
        first."""
        stmt = (sa.select(_A).where(_A.c.claimed_by == holder,
                                    _A.c.state.in_([s.value for s in REASSIGNABLE]))
                .order_by(_A.c.created_at, _A.c.seq).limit(limit))
        with self.read() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def append_event(self, event: AlertTransition, detail: JsonObject | None = None) -> bool:
        """Record an escalation or a dispatch update in the timeline (no state change).

        An escalation is stored only while the alert is still in ``event.from_state``; a stale
        one (the alert moved on meanwhile) is skipped and ``False`` returned.
        """
        if event.kind == TransitionKind.TRANSITION:
            raise ValueError("state changes go through append_transition")
        matches = _A.c.alert_id == event.alert_id
        if event.kind == TransitionKind.ESCALATION:
            matches = sa.and_(matches, _A.c.state == event.from_state.value)
        touch = sa.update(_A).where(matches).values(updated_at=self.clock.now())
        with self.write() as conn:
            if conn.execute(touch).rowcount == 1:  # also locks the row: timeline seq is safe
                self._add_entry(conn, event, detail)
                return True
            self._require(conn, event.alert_id)
        log.info("alert %s: skipped stale %s (no longer %s)",
                 event.alert_id, event.kind, event.from_state)
        return False

    def pending_publish(self, limit: int = 1000) -> list[AlertRecord]:
        """Committed alerts not yet published to the bus, in seq order."""
        stmt = (sa.select(_A).join(_P, _P.c.alert_id == _A.c.alert_id)
                .order_by(_P.c.seq).limit(limit))
        with self.read() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def mark_published(self, alert_ids: Sequence[str]) -> int:
        """Take alerts off the publish outbox and stamp ``pushed_at``; returns rows removed."""
        ids = list(alert_ids)
        if not ids:
            return 0
        with self.write() as conn:
            conn.execute(sa.update(_A).where(_A.c.alert_id.in_(ids), _A.c.pushed_at.is_(None))
                         .values(pushed_at=self.clock.now()))
            return conn.execute(sa.delete(_P).where(_P.c.alert_id.in_(ids))).rowcount

    def _add_entry(self, conn: sa.Connection, tr: AlertTransition,
                   detail: JsonObject | None) -> None:
        last = conn.execute(_MAX_ENTRY, {"alert_id": tr.alert_id}).scalar()
        seq = int(last or 0) + 1
        conn.execute(_INSERT_ENTRY, {
            "alert_id": tr.alert_id, "seq": seq, "kind": tr.kind,
            "from_state": tr.from_state.value, "to_state": tr.to_state.value, "by": tr.by,
            "at": tr.at, "note": tr.note, "detail": None if detail is None else dump_json(detail),
        })
        # Every timeline row is also an event in the global log the console replays from;
        # ids are max + 1 under the alert-insert lock, held until this transaction commits.
        self.serialise(conn, _INSERT_LOCK)
        add_alert_event(conn, tr.alert_id, tr.kind, seq, tr.at)

    @staticmethod
    def _get(conn: sa.Connection, alert_id: str) -> AlertRecord | None:
        row = conn.execute(_BY_ID, {"alert_id": alert_id}).first()
        return None if row is None else _record(row)

    def _require(self, conn: sa.Connection, alert_id: str) -> AlertRecord:
        record = self._get(conn, alert_id)
        if record is None:
            raise NotFoundError(f"alert {alert_id}")
        return record

    def _require_now(self, alert_id: str) -> AlertRecord:
        with self.read() as conn:
            return self._require(conn, alert_id)
