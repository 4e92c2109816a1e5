"""Carry camera statuses from the ingest node's threads onto the bus.

The ingest node reports from its own threads; the bus is async. Statuses go through a
bounded queue (policy: drop the oldest, counted — a newer status supersedes it anyway) to
one publishing task on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core import topics
from core.bus import Bus
from core.errors import BusError
from core.messages import CameraStatus

log = logging.getLogger(__name__)


class StatusPublisher:
    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop, bound: int = 10_000) -> None:
        self._bus = bus
        self._loop = loop
        self._queue: asyncio.Queue[CameraStatus] = asyncio.Queue(bound)
        self.dropped = 0
        self._task: asyncio.Task[None] | None = None

    def submit(self, status: CameraStatus) -> None:
        """Thread-safe; never blocks the caller (a decode or watchdog thread)."""
        self._loop.call_soon_threadsafe(self._put, status)

    def _put(self, status: CameraStatus) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(status)

    def start(self) -> None:
        self._task = asyncio.create_task(self._pump())

    async def _pump(self) -> None:
        while True:
            status = await self._queue.get()
            try:
                await self._bus.publish(topics.CAMERA_STATUS, status)
            except BusError as exc:
                log.warning("camera %s: status not published: %s", status.camera_id, exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
