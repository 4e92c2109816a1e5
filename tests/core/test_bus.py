"""One contract, three backends: memory, local (Unix socket hub) and the real Redis."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import redis

from core.bus import Bus, LocalBus, LocalHub, MemoryBus, open_bus
from core.bus.redis_bus import RedisBus
from core.errors import ConfigError
from core.messages import CameraState, CameraStatus, SceneEvent, SceneKind
from core.topics import Topic
from tests.services import redis_url

REDIS = pytest.param("redis", marks=pytest.mark.redis)
Factory = Callable[[], Awaitable[Bus]]
T = Topic("t", CameraStatus)


def status(n: int) -> CameraStatus:
    return CameraStatus(f"cam-{n}", CameraState.STREAMING, since=float(n))


@pytest.fixture(params=["memory", "local", REDIS])
async def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Factory]:
    """A factory of clients that all talk to one bus (one per "process")."""
    hub: LocalHub | None = None
    clients: list[Bus] = []
    shared = MemoryBus()
    prefix = f"vigiltest:{uuid.uuid4().hex}:"
    if request.param == "local":
        hub = LocalHub(tmp_path / "bus.sock")
        await hub.start()

    async def make() -> Bus:
        client: Bus
        if request.param == "memory":
            client = shared
        elif request.param == "local":
            assert hub is not None
            client = await LocalBus(hub.path).connect()
        else:
            client = RedisBus(redis_url(), maxlen=1000, prefix=prefix)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
    if hub is not None:
        await hub.stop()


async def test_every_group_sees_every_entry_once(backend: Factory) -> None:
    bus = await backend()
    for n in range(5):
        await bus.publish(T, status(n))
    for group in ("rules", "console"):
        got = await bus.read(T, group, "c1", count=10, block=0.1)
        assert [d.message for d in got] == [status(n) for n in range(5)]
        assert await bus.ack(T, group, [d.id for d in got]) == 5
        assert await bus.read(T, group, "c1", count=10, block=0.1) == []


async def test_consumers_in_a_group_share_the_work(backend: Factory) -> None:
    bus = await backend()
    for n in range(6):
        await bus.publish(T, status(n))
    first = await bus.read(T, "g", "a", count=3, block=0.1)
    second = await bus.read(T, "g", "b", count=10, block=0.1)
    assert {d.message.camera_id for d in first + second} == {f"cam-{n}" for n in range(6)}
    assert len(first) == 3 and len(second) == 3


async def test_blocking_read_wakes_on_publish(backend: Factory) -> None:
    reader, writer = await backend(), await backend()
    await reader.read(T, "g", "a", block=0.05)  # creates the group
    waiting = asyncio.create_task(reader.read(T, "g", "a", block=5.0))
    await asyncio.sleep(0.2)
    await writer.publish(T, status(1))
    got = await asyncio.wait_for(waiting, 2.0)
    assert [d.message for d in got] == [status(1)]


async def test_unacked_entries_of_a_dead_consumer_are_reclaimed(
    backend: Factory,
) -> None:
    producer, doomed, survivor = await backend(), await backend(), await backend()
    for n in range(3):
        await producer.publish(T, status(n))
    taken = await doomed.read(T, "g", "doomed", count=3, block=0.1)
    await doomed.ack(T, "g", [taken[0].id])  # one done, two in flight when it "dies"
    await asyncio.sleep(0.15)
    got = await survivor.reclaim(T, "g", "survivor", min_idle=0.1)
    assert [d.message for d in got] == [status(1), status(2)]
    assert await survivor.ack(T, "g", [d.id for d in got]) == 2
    assert await survivor.reclaim(T, "g", "survivor", min_idle=0.0) == []


async def test_local_hub_releases_a_disconnected_consumers_entries(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path / "bus.sock")
    await hub.start()
    try:
        doomed, survivor = await LocalBus(hub.path).connect(), await LocalBus(hub.path).connect()
        await survivor.publish(T, status(1))
        assert len(await doomed.read(T, "g", "doomed", block=0.1)) == 1
        await doomed.close()  # the worker process died
        await asyncio.sleep(0.1)
        got = await survivor.read(T, "g", "survivor", block=1.0)
        assert [(d.message, d.deliveries) for d in got] == [(status(1), 2)]
    finally:
        await hub.stop()


async def test_memory_topic_is_bounded_and_counts_drops() -> None:
    bus = MemoryBus()
    bus.log._maxlen = 3
    for n in range(5):
        await bus.publish(T, status(n))
    assert await bus.dropped(T) == 2
    got = await bus.read(T, "g", "c", count=10, block=0)
    assert [d.message for d in got] == [status(2), status(3), status(4)]


@pytest.mark.redis
async def test_redis_consumer_restarting_with_its_name_gets_its_pending_first() -> None:
    prefix = f"vigiltest:{uuid.uuid4().hex}:"
    first = RedisBus(redis_url(), prefix=prefix)
    await first.publish(T, status(1))
    assert len(await first.read(T, "g", "worker-1", block=0.1)) == 1
    await first.close()
    again = RedisBus(redis_url(), prefix=prefix)
    try:
        got = await again.read(T, "g", "worker-1", block=0.1)
        assert [d.message for d in got] == [status(1)]
    finally:
        await again.close()


def _publish_from_child(path: str, count: int) -> None:
    async def main() -> None:
        bus = await open_bus(f"local://{path}")
        for n in range(count):
            await bus.publish(T, status(n))
        await bus.close()

    asyncio.run(main())


@pytest.mark.slow  # spawns processes
async def test_local_bus_carries_messages_across_processes(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path / "bus.sock")
    await hub.start()
    try:
        child = multiprocessing.get_context("spawn").Process(
            target=_publish_from_child, args=(str(hub.path), 50))
        child.start()
        await asyncio.to_thread(child.join, 30)
        assert child.exitcode == 0
        bus = await open_bus(f"local://{hub.path}")
        got = await bus.read(T, "g", "parent", count=100, block=1.0)
        assert [d.message for d in got] == [status(n) for n in range(50)]
        await bus.close()
    finally:
        await hub.stop()


async def test_an_entry_of_another_class_is_dropped_not_delivered(backend: Factory) -> None:
    """A topic is typed: a reader of ``Topic[CameraStatus]`` gets only statuses; anything
    else (a producer of another version) is acknowledged away instead of coming back."""
    bus = await backend()
    stray = SceneEvent("e-1", "cam-1", SceneKind.TAMPER, None, (), 1.0)
    await bus.publish_by_name(T.name, stray)
    await bus.publish(T, status(1))
    got = await bus.read(T, "g", "c", count=10, block=0.1)
    assert [d.message for d in got] == [status(1)]
    await bus.ack(T, "g", [d.id for d in got])
    assert await bus.reclaim(T, "g", "c", min_idle=0.0) == []


@pytest.mark.redis
async def test_redis_namespace_keeps_two_deployments_apart() -> None:
    """``?namespace=`` prefixes every stream and group: two deployments on one Redis (same
    topic, same group) never see each other's entries; no namespace keeps today's names."""
    prefix = f"vigiltest:{uuid.uuid4().hex}:"
    site_a = RedisBus(f"{redis_url()}?namespace=site-a", prefix=prefix)
    site_b = RedisBus(f"{redis_url()}?namespace=site-b", prefix=prefix)
    plain = RedisBus(redis_url(), prefix=prefix)
    keys = redis.Redis.from_url(redis_url(), decode_responses=True)
    try:
        for n, bus in enumerate((site_a, site_b, plain)):
            await bus.publish(T, status(n))
        for n, bus in enumerate((site_a, site_b, plain)):
            got = await bus.read(T, "rules", "c", count=10, block=0.1)
            assert [d.message for d in got] == [status(n)]
        assert sorted(keys.keys(f"{prefix}*")) == [
            f"{prefix}site-a:t", f"{prefix}site-b:t", f"{prefix}t"]
        groups = {k: [g["name"] for g in keys.xinfo_groups(k)]
                  for k in (f"{prefix}site-a:t", f"{prefix}t")}
        assert groups == {f"{prefix}site-a:t": ["site-a:rules"], f"{prefix}t": ["rules"]}
    finally:
        for bus in (site_a, site_b, plain):
            await bus.close()
        if found := keys.keys(f"{prefix}*"):
            keys.delete(*found)
        keys.close()


@pytest.mark.parametrize("url", ["redis://h/0?namespace=a:b", "redis://h/0?namespace=",
                                 "redis://h/0?namespace=a&namespace=b"])
def test_a_bad_redis_namespace_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="namespace"):
        RedisBus(url)
