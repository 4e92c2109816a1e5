"""Consuming a bus topic so that one bad message cannot stop it (issue 11).

Each entry is read, handed to the handler through a :class:`MessageGuard`, and
acknowledged once handled. When the handler raises:

* :class:`~core.errors.RetryableError` (database busy, bus down): the world is at fault,
  not the message. The failure is logged and counted, the rest of the batch is left
  pending, the loop backs off (:class:`core.retry.Backoff`) and the entries are delivered
  again. Such failures do not count towards parking: an outage must not park good messages.
* anything else: logged with the task, topic, entry id and exception (the traceback once,
  :func:`core.supervise.record_error`), counted on ``vigil_consumer_errors_total{task}``
  and left **unacknowledged**; the loop takes it back from the bus's pending list after
  ``redeliver_after`` seconds and tries again. After ``max_deliveries`` failed deliveries
  of the same entry it is **parked** (:meth:`core.store.Store.park_message`, shown at
  ``GET /api/admin/parked-messages``), counted on ``vigil_dead_letters_total{topic}`` and
  acknowledged, so the entries behind it flow.

Deliveries are counted per entry id in memory and, where the bus keeps its own delivery
count (``memory://``, ``local://``), by that count too (the larger wins), so a restart of
the consumer does not give a poison entry a fresh set of tries. Redis Streams' count is
not read (it would take an ``XPENDING`` per entry), so there a process restart does.

Taking entries back uses :meth:`core.bus.Bus.reclaim` with ``min_idle=redeliver_after``:
it also takes over entries another consumer of the group left pending that long (that
consumer is gone or stuck), which is what reclaiming is for.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from core import codec
from core.bus import Bus, Delivery
from core.clock import Clock
from core.errors import CodecError, RetryableError
from core.messages import WireMessage
from core.ports import ParkingStore
from core.retry import Backoff
from core.store.parked import Poison
from core.supervise import STATS, pause, record_error, stopped
from core.topics import Topic

log = logging.getLogger(__name__)
M = TypeVar("M", bound=WireMessage)
Handler = Callable[[Delivery[M]], Awaitable[None]]
"""What a consumer of ``Topic[M]`` does with each entry (generic: ``Handler[Sighting]``)."""
Parker = Callable[[Poison], Awaitable[None]]
MAX_TRACKED = 10_000
"""Failing entries remembered per guard (oldest forgotten first; the bus count remains)."""
RETRY_BACKOFF = Backoff(base=0.5, cap=5.0)
FORGET_AFTER = 600.0
"""Seconds after its last failure that a failing entry that never came back (trimmed from
the topic, acknowledged by another consumer) is forgotten."""


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    max_deliveries: int = 5
    """Failed deliveries of one entry before it is parked (at least 1)."""
    redeliver_after: float = 1.0
    """Seconds a failed entry stays pending before it is delivered again."""
    backoff: Backoff = RETRY_BACKOFF
    """Waits after a retryable failure (bus or database unavailable)."""


@dataclass(frozen=True, slots=True)
class Subscription(Generic[M]):
    """Where a consumer reads: ``topic`` in ``group`` as ``consumer``, ``count`` at a time."""

    topic: Topic[M]
    group: str
    consumer: str
    count: int = 50
    block: float = 1.0


class Verdict(enum.Enum):
    DONE = "done"
    """Handled, or parked: acknowledge it."""
    RETRY = "retry"
    """Failed: leave it pending; it is delivered again after ``redeliver_after``."""
    TRANSIENT = "transient"
    """Retryable failure: leave it (and the rest of the batch) pending and back off."""


def store_parker(store: ParkingStore) -> Parker:
    """Park poison entries in ``store``'s ``parked_messages`` table."""

    async def park(poison: Poison) -> None:
        await asyncio.to_thread(store.park_message, poison)

    return park


def payload(delivery: Delivery[WireMessage]) -> str:
    """The entry as wire JSON (the codec's form of what the bus delivered)."""
    try:
        return codec.encode(delivery.message).decode()
    except CodecError:
        return repr(delivery.message)


@dataclass(slots=True)
class _Failing:
    first_at: float
    count: int = 0
    last_at: float = 0.0


class MessageGuard:
    """Per-message failure handling for one consumer task; keep one per task for its whole
    life (it remembers failing entries across restarts of the loop)."""

    def __init__(self, task: str, park: Parker | None, clock: Clock,
                 settings: ConsumerSettings | None = None) -> None:
        self.task = task
        self.settings = settings or ConsumerSettings()
        self._park = park
        self._clock = clock
        self._failing: dict[str, _Failing] = {}

    @property
    def failing(self) -> bool:
        """Whether entries this guard left pending are waiting to be delivered again."""
        horizon = time.monotonic() - FORGET_AFTER
        for entry_id in [k for k, f in self._failing.items() if f.last_at < horizon]:
            del self._failing[entry_id]
        return bool(self._failing)

    async def run(self, delivery: Delivery[M], handle: Handler[M]) -> Verdict:
        try:
            await handle(delivery)
        except RetryableError as exc:
            record_error(self.task, f"{delivery.topic} entry {delivery.id}", exc)
            return Verdict.TRANSIENT
        except Exception as exc:  # any bug or unexpected value: never the end of the consumer
            return await self._failed(delivery, exc)
        self._failing.pop(delivery.id, None)
        return Verdict.DONE

    async def _failed(self, delivery: Delivery[WireMessage], exc: Exception) -> Verdict:
        failing = self._failing.pop(delivery.id, None) or _Failing(self._clock.now())
        failing.count += 1
        failing.last_at = time.monotonic()
        self._failing[delivery.id] = failing
        if len(self._failing) > MAX_TRACKED:
            self._failing.pop(next(iter(self._failing)))
        attempts = max(failing.count, delivery.deliveries)
        limit = max(1, self.settings.max_deliveries)
        record_error(self.task, f"{delivery.topic} entry {delivery.id} "
                                f"(delivery {attempts} of {limit})", exc)
        if attempts < limit:
            return Verdict.RETRY
        poison = Poison(self.task, delivery.topic, delivery.id, payload(delivery),
                        f"{type(exc).__name__}: {exc}", attempts, failing.first_at)
        return await self._give_up(poison)

    async def _give_up(self, poison: Poison) -> Verdict:
        where = f"{poison.topic} entry {poison.entry_id}"
        if self._park is not None:
            try:
                await self._park(poison)
            except Exception as exc:  # keep it pending; parked on a later delivery
                record_error(self.task, f"parking {where}", exc)
                return Verdict.RETRY
        self._failing.pop(poison.entry_id, None)
        STATS.dead_letters[poison.topic] += 1
        log.error("%s: gave up on %s after %d deliveries (%s); %s", self.task, where,
                  poison.attempts, poison.error,
                  "parked" if self._park is not None else "dropped: no store to park it in")
        return Verdict.DONE


class Consumer(Generic[M]):
    """The read → guard → ack loop of one subscription (see the module doc)."""

    def __init__(self, bus: Bus, sub: Subscription[M], handle: Handler[M],
                 guard: MessageGuard) -> None:
        self.bus, self.sub, self.handle, self.guard = bus, sub, handle, guard
        self._sweep_until = 0.0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until ``stop`` is set; only non-retryable errors of the bus itself escape
        (the supervisor restarts the loop)."""
        self._due()  # own entries left pending by an earlier run are delivered again
        retries = 0
        while not stopped(stop):
            try:
                transient = await self._round()
            except RetryableError as exc:
                record_error(self.guard.task, f"reading {self.sub.topic}", exc)
                transient = True
            if not transient:
                retries = 0
                continue
            await pause(self.guard.settings.backoff.delay(retries), stop)
            retries += 1
            self._due()  # after the pause, so the sweep outlasts it

    def _due(self) -> None:
        """Take pending entries back for a while (long enough for them to become idle)."""
        self._sweep_until = time.monotonic() + 2 * self.guard.settings.redeliver_after + 1.0

    async def _batch(self) -> list[Delivery[M]]:
        sub = self.sub
        if self.guard.failing or time.monotonic() < self._sweep_until:
            again = await self.bus.reclaim(sub.topic, sub.group, sub.consumer,
                                           self.guard.settings.redeliver_after, sub.count)
            if again:
                return again
        block = min(sub.block, self.guard.settings.redeliver_after) if self.guard.failing \
            else sub.block
        return await self.bus.read(sub.topic, sub.group, sub.consumer, sub.count, block)

    async def _round(self) -> bool:
        """One batch; True when it stopped on a retryable failure."""
        for delivery in await self._batch():
            verdict = await self.guard.run(delivery, self.handle)
            if verdict is Verdict.TRANSIENT:
                return True
            if verdict is Verdict.RETRY:
                self._due()
            else:
                await self.bus.ack(self.sub.topic, self.sub.group, [delivery.id])
        return False


async def consume(bus: Bus, sub: Subscription[M], handle: Handler[M], guard: MessageGuard,
                  stop: asyncio.Event | None = None) -> None:
    """Run a :class:`Consumer` (the body a supervisor restarts; ``guard`` outlives it)."""
    await Consumer(bus, sub, handle, guard).run(stop)
