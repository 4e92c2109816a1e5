"""Reading the global alert event log (``alert_events``) for the console WebSocket.

Every alert insert and every timeline entry appends one event (see
:mod:`core.store.event_log`); ``id`` is gap-free and commits in order. A console that has
delivered events up to N asks :meth:`EventStore.events_after` for the rest: the database,
not the bus, is the single source of order, so several console processes behind a load
balancer hand a reconnecting client exactly the same sequence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.store import schema
from core.store.alerts import _entry, _record
from core.store.console_tables import alert_events
from core.store.engine import StoreBase
from core.store.records import AlertRecord, TimelineEntry

_E, _A, _T = alert_events, schema.alerts, schema.alert_timeline


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One row of the event log. ``kind`` is the timeline kind (``raised`` for a new alert,
    ``transition``, ``escalation``, ``dispatch``); ``timeline_seq`` names the entry."""

    id: int
    alert_id: str
    kind: str
    timeline_seq: int
    at: float


@dataclass(frozen=True, slots=True)
class EventDetail:
    """An event with what a client needs to render it: the alert as stored *now* and the
    timeline entry the event is about."""

    event: AlertEvent
    record: AlertRecord
    entry: TimelineEntry


def _event(row: Any) -> AlertEvent:
    return AlertEvent(row.id, row.alert_id, row.kind, row.timeline_seq, row.at)


class EventStore(StoreBase):
    def last_event_id(self) -> int:
        """The newest event id (0 when there is none)."""
        with self.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(_E.c.id))).scalar() or 0)

    def events_after(self, after: int, limit: int = 500) -> list[AlertEvent]:
        """Events with ``id > after``, in id order. Gap-free: if id k is returned, every id
        between ``after`` and k is too."""
        stmt = sa.select(_E).where(_E.c.id > after).order_by(_E.c.id).limit(limit)
        with self.read() as conn:
            return [_event(row) for row in conn.execute(stmt)]

    def event_details_after(self, after: int, limit: int = 500) -> list[EventDetail]:
        """:meth:`events_after` joined with the alerts and timeline entries, in one read
        transaction (three queries, whatever ``limit`` is)."""
        with self.read() as conn:
            events = [_event(row) for row in conn.execute(
                sa.select(_E).where(_E.c.id > after).order_by(_E.c.id).limit(limit))]
            if not events:
                return []
            ids = sorted({e.alert_id for e in events})
            records = {r.alert.alert_id: r for r in (
                _record(row) for row in conn.execute(sa.select(_A).where(_A.c.alert_id.in_(ids))))}
            keys = [(e.alert_id, e.timeline_seq) for e in events]
            stmt = sa.select(_T).where(sa.tuple_(_T.c.alert_id, _T.c.seq).in_(keys))
            entries = {(t.alert_id, t.seq): t for t in (_entry(row) for row in conn.execute(stmt))}
        return [EventDetail(e, records[e.alert_id], entries[(e.alert_id, e.timeline_seq)])
                for e in events]
