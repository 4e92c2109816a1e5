"""Two console processes behind a load balancer: one database, the Redis bus. A client of
either console sees every alert event, with the same ids, exactly once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI

from console.app import create_app
from console.deps import ConsoleDeps
from console.identity import Principal
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from core.bus.redis_bus import RedisBus
from core.clock import FakeClock
from core.store import open_store
from tests.console.live import open_feed, raise_alert, read_until, serve
from tests.console.support import cameras, make_alert
from tests.services import redis_url

TOKEN = "lb-token"
pytestmark = pytest.mark.redis


def console(db: Path, prefix: str, tmp_path: Path) -> tuple[FastAPI, RedisBus]:
    clock = FakeClock(start=1_700_000_100.0)
    bus = RedisBus(redis_url(), prefix=prefix)
    deps = ConsoleDeps(store=open_store(f"sqlite:///{db}", clock), clock=clock,
                       settings=ConsoleSettings(live_dir=tmp_path / "live",
                                                evidence_dir=tmp_path / "evidence"))
    app = create_app(CameraRegistry(cameras()), TokenBook({TOKEN: Principal("t", "admin")}),
                     bus, deps)
    return app, bus


async def test_both_consoles_push_every_event_with_the_same_ids(tmp_path: Path) -> None:
    db, prefix = tmp_path / "vigil.db", f"vigiltest:{uuid.uuid4().hex}:"
    first, bus_a = console(db, prefix, tmp_path)
    second, bus_b = console(db, prefix, tmp_path)
    producer = RedisBus(redis_url(), prefix=prefix)  # the alert service, on a third node
    store = open_store(f"sqlite:///{db}", FakeClock(start=1_700_000_100.0))
    try:
        async with serve(first) as port_a, serve(second) as port_b:
            ws_a, feed_a = await open_feed(port_a, f"token={TOKEN}&last_id=0")
            ws_b, feed_b = await open_feed(port_b, f"token={TOKEN}&last_id=0")
            for n in range(20):
                await raise_alert(store, producer, make_alert(n))
            await read_until(ws_a, feed_a, 20)
            await read_until(ws_b, feed_b, 20)
            assert feed_a.ids == feed_b.ids == list(range(1, 21))
            await ws_a.close()
            await ws_b.close()
    finally:
        for bus in (bus_a, bus_b, producer):
            await bus.close()
