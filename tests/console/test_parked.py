"""Parked bus messages: the admin-only list, and the console's status feed surviving a
status that makes it raise (real store, real bus, real registry)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx

from console.app import consume_statuses
from console.registry import CameraRegistry
from core import codec, topics
from core.bus import MemoryBus
from core.clock import SystemClock
from core.consume import ConsumerSettings, MessageGuard, Subscription, store_parker
from core.messages import CameraState, CameraStatus
from core.store.parked import Poison
from core.supervise import STATS
from tests.console.support import Rig, cameras


def poison(n: int) -> Poison:
    status = CameraStatus("gate-3", CameraState.STREAMING, since=float(n))
    return Poison("alerts.camera_status", topics.CAMERA_STATUS.name, str(n),
                  codec.encode(status).decode(), "RuntimeError: boom", 5, 1_700_000_000.0 + n)


async def test_admin_sees_parked_messages_newest_first_in_pages(
        rig: Rig, api: httpx.AsyncClient) -> None:
    for n in range(3):
        rig.store.park_message(poison(n))
    reply = await api.get("/api/admin/parked-messages", params={"limit": 2},
                          headers=rig.auth("admin"))
    assert reply.status_code == 200, reply.text
    page = reply.json()
    assert [i["entry_id"] for i in page["items"]] == ["2", "1"] and page["has_more"]
    first = page["items"][0]
    assert (first["task"], first["topic"], first["attempts"]) == (
        "alerts.camera_status", "camera.status", 5)
    assert first["error"] == "RuntimeError: boom" and first["parked_at"] == rig.clock.now()
    assert codec.decode(first["payload"]) == CameraStatus("gate-3", CameraState.STREAMING,
                                                          since=2.0)
    rest = (await api.get("/api/admin/parked-messages", params={"limit": 2, "offset": 2},
                          headers=rig.auth("admin"))).json()
    assert [i["entry_id"] for i in rest["items"]] == ["0"] and not rest["has_more"]


async def test_parked_messages_are_for_admins_only(rig: Rig, api: httpx.AsyncClient) -> None:
    for role in ("monitor", "dispatcher"):
        reply = await api.get("/api/admin/parked-messages", headers=rig.auth(role))
        assert reply.status_code == 403, (role, reply.text)
    assert (await api.get("/api/admin/parked-messages")).status_code == 401


async def test_status_feed_parks_a_status_it_cannot_apply_and_goes_on(rig: Rig) -> None:
    bus = MemoryBus()
    registry = CameraRegistry(cameras())
    applied: list[str] = []

    def hook(status: CameraStatus) -> None:
        if status.detail == "poison":
            raise RuntimeError("hook bug")
        applied.append(status.camera_id)

    guard = MessageGuard("console.statuses", store_parker(rig.store), SystemClock(),
                         ConsumerSettings(max_deliveries=2, redeliver_after=0.05))
    sub = Subscription(topics.CAMERA_STATUS, f"console-{uuid.uuid4().hex}", "console")
    before = STATS.dead_letters[topics.CAMERA_STATUS.name]
    task = asyncio.create_task(consume_statuses(bus, registry, hook, sub, guard))
    try:
        for n, detail in enumerate(("", "poison", "")):
            cid = "gate-3" if n != 2 else "34020000001320000001"
            await bus.publish(topics.CAMERA_STATUS,
                              CameraStatus(cid, CameraState.STREAMING, float(n), detail))
        async with asyncio.timeout(10):
            while STATS.dead_letters[topics.CAMERA_STATUS.name] == before or len(applied) < 2:
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert applied == ["gate-3", "34020000001320000001"]
    (parked,) = rig.store.parked()
    assert (parked.poison.task, parked.poison.attempts) == ("console.statuses", 2)
    assert STATS.dead_letters[topics.CAMERA_STATUS.name] - before == 1
