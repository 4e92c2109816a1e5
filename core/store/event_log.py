"""Appending to ``alert_events``, the global, gap-free log of alert events.

Kept apart from :mod:`core.store.events` (which reads the log and needs the alert decoders)
so that :mod:`core.store.alerts` can call :func:`add_alert_event` without an import cycle.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.store.console_tables import alert_events
from core.store.schema import alert_timeline, alerts

_BACKFILL_BATCH = 1000
# Built once, executed with parameters: SQLAlchemy reuses the compiled statement.
_LAST = sa.select(sa.func.max(alert_events.c.id))
_INSERT = alert_events.insert()


def add_alert_event(
    conn: sa.Connection, alert_id: str, kind: str, timeline_seq: int, at: float
) -> int:
    """Append one event and return its id.

    The caller must hold the alert-insert lock for the rest of its transaction (SQLite's
    ``BEGIN IMMEDIATE`` does; on PostgreSQL :meth:`~core.store.engine.StoreBase.serialise`
    with the alert lock key). ``max + 1`` under that lock is what makes ids gap-free and
    committed in order; a database sequence would hand out ids that commit out of order.
    """
    event_id = int(conn.execute(_LAST).scalar() or 0) + 1
    conn.execute(_INSERT, {"id": event_id, "alert_id": alert_id, "kind": kind,
                           "timeline_seq": timeline_seq, "at": at})
    return event_id


def backfill_alert_events(conn: sa.Connection) -> int:
    """Migration 2: one event per timeline row already stored, oldest first.

    Order is (event time, alert seq, timeline seq): the best reconstruction of "when it
    happened" for rows written before the log existed. Returns the number of rows added.
    """
    t = alert_timeline
    stmt = (sa.select(t.c.alert_id, t.c.kind, t.c.seq, t.c.at)
            .join(alerts, alerts.c.alert_id == t.c.alert_id)
            .order_by(t.c.at, alerts.c.seq, t.c.seq))
    rows = conn.execute(stmt).all()
    for start in range(0, len(rows), _BACKFILL_BATCH):
        batch = rows[start:start + _BACKFILL_BATCH]
        conn.execute(alert_events.insert(), [
            {"id": start + i + 1, "alert_id": r.alert_id, "kind": r.kind,
             "timeline_seq": r.seq, "at": r.at}
            for i, r in enumerate(batch)
        ])
    return len(rows)
