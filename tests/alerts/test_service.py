"""The alert service end to end in one process: bus in, store, bus out, 110 receiver."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx

from alerts.dispatch import Dispatcher
from alerts.lookup import watchlist_lookup
from alerts.rules import RuleEngine
from alerts.rules_loader import parse_rules
from alerts.service import AlertService
from alerts.watchlist import Watchlist
from alerts.watchlist_io import import_csv
from core import topics
from core.bus import MemoryBus
from core.clock import SystemClock
from core.config.dispatch import DispatchConfig
from core.config.models import Camera, Location
from core.messages import Alert, Sighting
from core.store import open_store
from tests.alerts.test_dispatch_receiver import Receiver

CSV = "plate,category,level,reason\n京A12345,stolen,1,2026-11 盗抢车辆\n"
RULES = "rules:\n  - {id: hit, kind: watchlist, level: 2, cooldown: 60}\n"
SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"


def camera() -> Camera:
    return Camera(id="gate-3", name="人民路卡口", group="skynet", url="rtsp://h/s",
                  location=Location(lon=106.38, lat=39.02, address="大武口区人民路"))


async def wait_for(check: object, timeout: float = 10.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < end:
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_a_watchlisted_sighting_becomes_a_stored_pushed_dispatched_alert(
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}", clock)
    bus = MemoryBus()
    watchlist = Watchlist(import_csv(CSV, "w.csv"))
    cams = {"gate-3": camera()}
    engine = RuleEngine(parse_rules(RULES, "rules.yaml", cams), cams,
                        watchlist_lookup(lambda: watchlist), clock)
    receiver = Receiver(SECRET, clock)
    await receiver.start()
    config = DispatchConfig.model_validate({
        "evidence": {"public_base_url": "http://vigil.local"},
        "targets": [{"name": "110", "url": receiver.url, "secret": SECRET}]})
    service = AlertService(store, bus, engine, clock)
    service.dispatcher = Dispatcher(store, config, clock, httpx.AsyncClient())
    await service.start(tick_interval=0.2)
    try:
        now = clock.now()
        seen = Sighting(uuid.uuid4().hex, "gate-3", "京A12345", "京A·12345", "ordinary_7",
                        "blue", 0.97, now - 1, now)
        other = Sighting(uuid.uuid4().hex, "gate-3", "京B67890", "京B67890", "ordinary_7",
                         "blue", 0.97, now - 1, now)
        await bus.publish(topics.SIGHTINGS, seen)
        await bus.publish(topics.SIGHTINGS, other)
        pushed = await bus.read(topics.ALERTS, "probe", "p", block=5.0)
        assert [type(d.message) for d in pushed] == [Alert]
        alert = pushed[0].message
        assert isinstance(alert, Alert)
        assert (alert.subject, alert.level, alert.camera_name) == ("京A12345", 1, "人民路卡口")
        await wait_for(lambda: (r := store.get_alert(alert.alert_id)) and r.pushed_at)
        assert [s.plate for s in store.trajectory("京A12345", now - 10, now + 10)] == ["京A12345"]
        await wait_for(lambda: len(receiver.processed) == 1)
        body = json.loads(next(iter(receiver.bodies.values())))
        assert body["alert_id"] == alert.alert_id and receiver.bad_signatures == 0
    finally:
        await service.stop()
        await receiver.stop()
