"""The alerting lease of ``vigil run --role hub`` (vigil/hub.py) on the real Redis: one
hub at a time runs the alert service, a successor takes over after a release or an expiry
with a higher fencing token, and a hub that lost the lease stops its loops and can lead
again later."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from core.bus import open_bus
from core.clock import SystemClock
from core.cluster import Leases
from core.config import load_config
from core.store import open_store
from tests.services import redis_url
from vigil.alerting import LoadedConfigRef, build_alerting
from vigil.hub import ALERTING, Leadership

pytestmark = pytest.mark.redis


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"vigil-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


async def hub(tmp_path: Path, namespace: str, name: str) -> Leadership:
    config = tmp_path / "config"
    (config / "cameras").mkdir(parents=True, exist_ok=True)
    (config / "service.yaml").write_text(
        f"bus: memory://{namespace}\nstore: sqlite:///{tmp_path / 'vigil.db'}\n",
        encoding="utf-8")
    loaded = load_config(config)
    store = open_store(loaded.service.store, SystemClock())
    bus = await open_bus(loaded.service.bus)
    alerting = await build_alerting(config, LoadedConfigRef(loaded), store, bus, SystemClock())
    leases = Leases(redis.Redis.from_url(redis_url()), f"{namespace}:role", 0.5)
    return Leadership(leases, name, alerting, loaded.service, store)


def running(leader: Leadership) -> bool:
    return bool(leader.alerting.service._tasks)


async def test_one_hub_leads_and_another_takes_over(tmp_path: Path, namespace: str) -> None:
    first = await hub(tmp_path, namespace, "hub-1")
    second = await hub(tmp_path, namespace, "hub-2")
    await first.tick()
    await second.tick()
    assert first.token is not None and running(first)
    assert second.token is None and not running(second)

    await first.close()  # a clean stop releases at once
    assert not running(first)
    await second.tick()
    assert second.token is not None and second.token > 1 and running(second)

    silent = second.token  # second stops renewing: its lease runs out
    deadline = time.monotonic() + 10
    while first.leases.holder(ALERTING) is not None:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await first.tick()
    assert first.token is not None and first.token > silent
    await second.tick()  # finds the lease taken: stops its loops
    assert second.token is None and not running(second)

    await first.close()
    await second.tick()  # and can lead again
    assert second.token is not None and running(second)
    await second.close()
    for leader in (first, second):
        if leader.alerting.task is not None:
            leader.alerting.task.cancel()
