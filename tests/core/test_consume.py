"""The guarded consumer loop (core/consume.py) on the real local bus: an outage (retryable
errors) delays messages but never parks them; every message is still handled once done."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from core.bus import Delivery, LocalBus, LocalHub
from core.clock import SystemClock
from core.consume import ConsumerSettings, MessageGuard, Subscription, consume
from core.errors import RetryableError
from core.messages import CameraState, CameraStatus
from core.retry import Backoff
from core.store.parked import Poison
from core.topics import Topic

T = Topic("t", CameraStatus)


async def test_an_outage_is_waited_out_and_parks_nothing(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path / "bus.sock")
    await hub.start()
    bus = await LocalBus(hub.path).connect()
    parked: list[Poison] = []
    handled: list[str] = []
    outage = 8  # more failures than max_deliveries: still not the messages' fault

    async def park(poison: Poison) -> None:
        parked.append(poison)

    async def handle(delivery: Delivery[CameraStatus]) -> None:
        nonlocal outage
        if outage > 0:
            outage -= 1
            raise RetryableError("database busy")
        handled.append(delivery.message.camera_id)

    settings = ConsumerSettings(max_deliveries=2, redeliver_after=0.05,
                                backoff=Backoff(base=0.01, cap=0.02))
    guard = MessageGuard("test.outage", park, SystemClock(), settings)
    for n in range(5):
        await bus.publish(T, CameraStatus(f"cam-{n}", CameraState.STREAMING, float(n)))
    task = asyncio.create_task(consume(bus, Subscription(T, "g", "c", count=3, block=0.1),
                                       handle, guard))
    try:
        async with asyncio.timeout(10):
            while len(handled) < 5:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bus.close()
        await hub.stop()
    # each handled once and none parked; the order is not promised (a message whose
    # delivery failed comes back after redeliver_after, possibly behind later ones)
    assert sorted(handled) == [f"cam-{n}" for n in range(5)] and parked == []
