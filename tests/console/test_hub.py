"""Hub positioning when the hub itself has not read the newest events yet."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from console.hub import Hub, Subscriber
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
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


async def test_every_alert_envelope_carries_pushed_at() -> None:
    """The ``raised`` event commits with the alert, before the publisher stamps
    ``pushed_at``; an envelope read in between used to say ``pushed_at: null``. It now
    says when this console sent it, and an alert already stamped keeps the store's time."""
    clock = FakeClock(1000.0)
    store = open_store("sqlite://", clock)
    hub = Hub(store, CameraRegistry(), ConsoleSettings(), clock)
    await hub.start(None)
    try:
        sub = Subscriber(100)
        await hub.attach(sub, None, {})
        store.insert_alert(alert(0))  # committed, not yet published: no pushed_at
        store.insert_alert(alert(1))
        store.mark_published([alert(1).alert_id])  # stamped at 1000.0
        clock.advance(2.5)
        hub.wake()
        frames: list[dict[str, Any]] = []
        async with asyncio.timeout(5):
            while len([f for f in frames if f["kind"] == "alert"]) < 2:
                frames += [json.loads(f) for f in await sub.queue.take(100)]
        pushed = {f["data"]["alert_id"]: f["data"]["timestamps"]["pushed_at"]
                  for f in frames if f["kind"] == "alert"}
        assert pushed == {alert(0).alert_id: 1002.5, alert(1).alert_id: 1000.0}
    finally:
        await hub.stop()
        store.close()
