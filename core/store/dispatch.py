"""The dispatch outbox: bodies waiting to be delivered to 110 / webhook targets.

A row is ``pending`` until a worker reports ``delivered`` or gives up (``dead``, the
dead-letter list the console shows). :meth:`DispatchStore.due_dispatches` *leases* what it
returns (pushes ``next_attempt_at`` forward) so two dispatch workers do not send the same
row at once; a worker that dies mid-delivery leaves the row due again when the lease runs
out. Delivery is therefore at-least-once and receivers de-duplicate on ``webhook_id``.

Each ``mark_*`` call reports the outcome of one attempt and returns ``False`` when the row is
no longer pending (another worker finished it after our lease ran out).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from core.store import schema
from core.store.engine import StoreBase
from core.store.records import DispatchItem, DispatchRequest, DispatchState, NotFoundError
from core.store.sql import insert_ignore

_D = schema.dispatch_outbox
_PENDING = DispatchState.PENDING.value


def _item(row: Any) -> DispatchItem:
    return DispatchItem(
        id=row.id, alert_id=row.alert_id, target=row.target, webhook_id=row.webhook_id,
        body=row.body, content_type=row.content_type, state=DispatchState(row.state),
        attempts=row.attempts, next_attempt_at=row.next_attempt_at, last_error=row.last_error,
        created_at=row.created_at, delivered_at=row.delivered_at,
    )


class DispatchStore(StoreBase):
    def enqueue_dispatch(
        self, request: DispatchRequest, not_before: float | None = None
    ) -> DispatchItem:
        """Queue one delivery (due at ``not_before``, default now). Idempotent on
        ``(target, webhook_id)``: queuing it again returns the existing row unchanged."""
        now = self.clock.now()
        values = {
            "alert_id": request.alert_id, "target": request.target,
            "webhook_id": request.webhook_id, "body": request.body,
            "content_type": request.content_type, "state": _PENDING, "attempts": 0,
            "next_attempt_at": now if not_before is None else not_before, "last_error": "",
            "created_at": now,
        }
        key = sa.and_(_D.c.target == request.target, _D.c.webhook_id == request.webhook_id)
        with self.write() as conn:
            conn.execute(insert_ignore(self.dialect, _D, values))
            return _item(conn.execute(sa.select(_D).where(key)).one())

    def due_dispatches(
        self, now: float, limit: int = 100, lease: float = 60.0
    ) -> list[DispatchItem]:
        """Pending rows due at ``now``, oldest due first, leased for ``lease`` seconds."""
        stmt = (sa.select(_D)
                .where(_D.c.state == _PENDING, _D.c.next_attempt_at <= now)
                .order_by(_D.c.next_attempt_at, _D.c.id).limit(limit)
                .with_for_update(skip_locked=True))  # PostgreSQL; SQLite has one writer anyway
        with self.write() as conn:
            items = [_item(row) for row in conn.execute(stmt)]
            if items and lease > 0:
                conn.execute(sa.update(_D).where(_D.c.id.in_([i.id for i in items]))
                             .values(next_attempt_at=now + lease))
        return items

    def mark_delivered(self, item_id: int) -> bool:
        return self._finish(item_id, state=DispatchState.DELIVERED.value,
                            delivered_at=self.clock.now())

    def mark_failed(self, item_id: int, next_at: float, error: str) -> bool:
        """An attempt failed; try again at ``next_at`` (from :class:`core.retry.Backoff`)."""
        return self._finish(item_id, next_attempt_at=next_at, last_error=error)

    def mark_dead(self, item_id: int, error: str) -> bool:
        """Give up: the row goes to the dead-letter list for a person to look at."""
        return self._finish(item_id, state=DispatchState.DEAD.value, last_error=error)

    def _finish(self, item_id: int, **values: Any) -> bool:
        stmt = (sa.update(_D).where(_D.c.id == item_id, _D.c.state == _PENDING)
                .values(attempts=_D.c.attempts + 1, **values))
        with self.write() as conn:
            if conn.execute(stmt).rowcount == 1:
                return True
            if conn.execute(sa.select(_D.c.id).where(_D.c.id == item_id)).first() is None:
                raise NotFoundError(f"dispatch item {item_id}")
            return False

    def dead_letters(self, limit: int = 100) -> list[DispatchItem]:
        """Deliveries given up on, newest first."""
        stmt = (sa.select(_D).where(_D.c.state == DispatchState.DEAD.value)
                .order_by(_D.c.id.desc()).limit(limit))
        with self.read() as conn:
            return [_item(row) for row in conn.execute(stmt)]

    def count_dead_letters(self) -> int:
        """How many deliveries are dead letters now (the ``/metrics`` gauge)."""
        stmt = (sa.select(sa.func.count()).select_from(_D)
                .where(_D.c.state == DispatchState.DEAD.value))
        with self.read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def retry_dead(self, item_id: int) -> bool:
        """Put a dead letter back in the queue, due now (the console's "retry" button),
        with its attempt count reset: the person fixed the cause, so the delivery gets the
        target's whole retry schedule again rather than one attempt per press (every earlier
        attempt stays in the alert's timeline)."""
        stmt = (sa.update(_D).where(_D.c.id == item_id, _D.c.state == DispatchState.DEAD.value)
                .values(state=_PENDING, next_attempt_at=self.clock.now(), attempts=0))
        with self.write() as conn:
            return conn.execute(stmt).rowcount == 1

    def dispatches_for(self, alert_id: str) -> list[DispatchItem]:
        """Every delivery of one alert (for its detail page)."""
        stmt = sa.select(_D).where(_D.c.alert_id == alert_id).order_by(_D.c.id)
        with self.read() as conn:
            return [_item(row) for row in conn.execute(stmt)]
