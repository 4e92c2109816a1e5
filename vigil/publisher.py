"""Carry small typed facts from threads onto the bus.

Camera workers, the status pump and analytics threads report from their own threads; the
bus is async. Messages go through a bounded queue (policy: drop the oldest, counted —
rule 4 for observations) to one publishing task on an event loop. In the main process
that loop is the node's; in a worker process :class:`LoopThread` provides one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any, TypeVar

from core.bus import Bus, open_bus
from core.counters import FLOW
from core.errors import BusError
from core.messages import WireMessage
from core.retry import Backoff
from core.topics import Topic

log = logging.getLogger(__name__)
M = TypeVar("M", bound=WireMessage)
GIVE_UP = 1.0
"""Seconds of failing publishes after which closing stops waiting for the queue to drain."""


class BusPublisher:
    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop, bound: int = 10_000,
                 name: str = "main") -> None:
        """``name`` labels this publisher's queue depth on ``/metrics``
        (``vigil_publisher_queue_depth{process}``)."""
        self._bus = bus
        self.name = name
        self._loop = loop
        self._queue: asyncio.Queue[tuple[Topic[Any], WireMessage]] = asyncio.Queue(bound)
        self.dropped = 0
        self.published = 0
        self.failing_since: float | None = None
        """Loop time of the first failed publish of the current run of failures (None while
        publishing works): how :meth:`LoopThread.close` tells a dead bus from a slow one."""
        self._task: asyncio.Task[None] | None = None

    def submit(self, topic: Topic[M], message: M) -> None:
        """Thread-safe; never blocks the caller (a decode, watchdog or analytics thread)."""
        self._loop.call_soon_threadsafe(self._put, topic, message)

    def _put(self, topic: Topic[Any], message: WireMessage) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped % 100 == 1:
                log.warning("bus publisher queue full: %d messages dropped", self.dropped)
        self._queue.put_nowait((topic, message))

    @property
    def pending(self) -> int:
        """Messages queued and not yet on the bus."""
        return self._queue.qsize()

    def start(self) -> None:
        self._task = self._loop.create_task(self._pump())
        FLOW.publishers[self.name] = lambda: self.pending

    async def _pump(self) -> None:
        failures = 0
        while True:
            topic, message = await self._queue.get()
            while True:
                try:
                    await self._bus.publish(topic, message)
                    self.published += 1
                    failures = 0
                    self.failing_since = None
                    break
                except BusError as exc:
                    failures += 1
                    if self.failing_since is None:
                        self.failing_since = self._loop.time()
                    wait = Backoff(0.2, 5.0).delay(failures)
                    log.warning("publish to %s failed (%s); retrying in %.1fs", topic, exc, wait)
                    await asyncio.sleep(wait)

    async def stop(self) -> None:
        FLOW.publishers.pop(self.name, None)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class LoopThread:
    """An event loop in a daemon thread with a bus publisher on it (for worker processes)."""

    def __init__(self, bus_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="bus-publisher",
                                        daemon=True)
        self._thread.start()
        self.bus = asyncio.run_coroutine_threadsafe(open_bus(bus_url), self.loop).result(30)
        self.publisher = BusPublisher(self.bus, self.loop, name="analysis")
        self.loop.call_soon_threadsafe(self.publisher.start)

    def close(self, timeout: float = 5.0) -> None:
        async def finish() -> None:
            await self._drain(timeout)
            lost = self.publisher.pending
            await self.publisher.stop()
            if lost:
                log.warning("bus publisher closed with %d messages not sent (bus unreachable)",
                            lost)
            try:
                await self.bus.close()
            except (BusError, OSError) as exc:  # a connection its peer already dropped
                log.info("bus connection closed with an error (%s)", exc)

        with contextlib.suppress(TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(finish(), self.loop).result(timeout + 2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)

    async def _drain(self, timeout: float) -> None:
        """Give queued messages a moment to leave before the process exits, but only while
        the bus takes them: once publishing has failed for :data:`GIVE_UP` seconds in a
        row, stop waiting. Why: when the node serving the local bus is killed (kill -9),
        its ingest processes exit by themselves (they watch their parent), and every
        publish fails until the timeout; waiting it out kept an orphaned process, its
        cameras and its files alive ~5 s longer for messages no bus would ever take, and
        on a cluster worker that is time in which the camera's new holder may already run
        it. A bus that fails briefly (a Redis failover) is still waited for."""
        end = self.loop.time() + timeout
        while self.publisher.pending and self.loop.time() < end:
            since = self.publisher.failing_since
            if since is not None and self.loop.time() - since >= GIVE_UP:
                return
            await asyncio.sleep(0.05)
