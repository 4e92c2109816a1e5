"""Hub positioning when the hub itself has not read the newest events yet."""

from __future__ import annotations

import asyncio
import json

from console.context import ConsoleSettings
from console.hub import Hub, Subscriber
from console.registry import CameraRegistry
from core.clock import FakeClock
from core.store import open_store
from tests.core.store_support import alert


async def test_a_resume_behind_the_log_replays_even_if_the_hub_lags() -> None:
    """Events committed before the hello but not yet read by the hub (it reads at most every
    ``coalesce`` s) come from the log, flagged ``replay``, once each and in order."""
    clock = FakeClock(1000.0)
    store = open_store("sqlite://", clock)
    hub = Hub(store, CameraRegistry(), ConsoleSettings(), clock)
    await hub.start(None)  # no bus: the hub only polls, so it lags behind these inserts
    try:
        for n in range(5):
            store.insert_alert(alert(n))
        assert hub.last_id == 0
        sub = Subscriber(100)
        await hub.attach(sub, 2, {})
        assert not sub.live  # catching up from the log, not waiting for the hub
        frames: list[dict[str, object]] = []
        async with asyncio.timeout(5):
            while len(frames) < 4:  # hello, then events 3..5
                frames += [json.loads(f) for f in await sub.queue.take(100)]
        events = [(f["id"], f["replay"]) for f in frames if f["kind"] == "alert"]
        assert events == [(3, True), (4, True), (5, True)]
        assert sub.live and sub.cursor == 5
    finally:
        await hub.stop()
        store.close()
