"""Publishing alerts without ever losing one (the transactional-outbox pattern).

:meth:`AlertPublisher.accept` first commits the alert together with a ``publish_outbox`` row
(:meth:`core.store.Store.insert_alert`, one transaction), then publishes it to
:data:`core.topics.ALERTS`, then removes the outbox row. Whatever crashes when:

* before the commit — the alert was never accepted; the caller did not get a record back and
  must not acknowledge the observation that raised it (it will be evaluated again);
* after the commit — the outbox row survives and :meth:`AlertPublisher.resume` (run on start
  and periodically by :meth:`AlertPublisher.run`) publishes it, in ``seq`` order.

Delivery on the bus is therefore **at least once**: a crash between publishing and removing
the outbox row publishes that alert again after restart. Consumers de-duplicate on
``alert_id`` (the console and dispatch do; the store's ``insert_alert`` is idempotent too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from core import topics
from core.bus import Bus
from core.errors import RetryableError
from core.messages import Alert
from core.ports import OutboxStore
from core.store import AlertRecord
from core.supervise import every
from core.topics import Topic

log = logging.getLogger(__name__)

RESUME_BATCH = 500


class AlertPublisher:
    """Accept alerts durably and get each onto the bus at least once."""

    def __init__(self, store: OutboxStore, bus: Bus, topic: Topic[Alert] = topics.ALERTS) -> None:
        self._store = store
        self._bus = bus
        self._topic = topic
        self._lock = asyncio.Lock()
        self.published = 0
        """Alerts put on the bus by this publisher (a counter for /metrics)."""
        self.publish_failures = 0
        """Bus failures; the alerts involved stay in the outbox until :meth:`resume`."""

    async def accept(self, alert: Alert) -> AlertRecord:
        """Persist ``alert`` (committed when this returns) and try to publish it now.

        A bus failure is logged and counted, not raised: the alert is safe in the outbox and
        :meth:`resume` publishes it later. A store failure *is* raised
        (:class:`~core.errors.RetryableError` when the database is busy or down): the alert
        was not accepted. Accepting the same ``alert_id`` again returns the stored record.
        """
        record = await asyncio.to_thread(self._store.insert_alert, alert)
        async with self._lock:
            # resume() may have published it while we waited for the lock
            fresh = await asyncio.to_thread(self._store.get_alert, alert.alert_id)
            if fresh is not None and fresh.pushed_at is None:
                await self._publish([fresh])
        return record

    async def resume(self) -> int:
        """Publish every committed-but-unpublished alert in ``seq`` order (after a crash or a
        bus outage); returns how many were published. Stops early if the bus fails."""
        total = 0
        async with self._lock:
            while True:
                pending = await asyncio.to_thread(self._store.pending_publish, RESUME_BATCH)
                done = await self._publish(pending) if pending else 0
                total += done
                if done < RESUME_BATCH:
                    break
        if total:
            log.info("published %d alert(s) from the outbox", total)
        return total

    async def run(self, interval: float = 5.0) -> None:
        """Call :meth:`resume` every ``interval`` seconds until cancelled.

        Each round is guarded (:func:`core.supervise.every`): a failure, transient or not,
        is logged and counted and retried on the next round; the loop itself never dies of
        one, since losing it would strand alerts in the outbox.
        """
        await every("alerts.outbox", interval, self.resume)

    async def _publish(self, records: Sequence[AlertRecord]) -> int:
        """Publish in order, then mark what made it; returns how many were published."""
        done: list[str] = []
        try:
            for record in records:
                await self._bus.publish(self._topic, record.alert)
                done.append(record.alert.alert_id)
        except RetryableError as exc:
            self.publish_failures += 1
            log.warning("alert outbox: bus publish failed after %d of %d (%s); kept for resume",
                        len(done), len(records), exc)
        if done:
            await asyncio.to_thread(self._store.mark_published, done)
            self.published += len(done)
        return len(done)
