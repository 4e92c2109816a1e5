"""One bad message must not stop alerting (issue 11): a sighting whose evaluation raises,
published between two good ones, on the real buses (memory, local socket hub, Redis) with
the real store and service. The failure is a watchlist lookup that raises for one plate —
a stand-in for a bug that only one value triggers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from alerts.lookup import watchlist_lookup
from alerts.rule_match import WatchlistHit
from alerts.rules import RuleEngine
from alerts.rules_loader import parse_rules
from alerts.service import AlertService
from alerts.watchlist import Watchlist
from alerts.watchlist_io import import_csv
from console.metrics import render
from console.registry import CameraRegistry
from core import codec, topics
from core.bus import Bus, LocalBus, LocalHub, MemoryBus
from core.bus.redis_bus import RedisBus
from core.clock import SystemClock
from core.config.models import Camera
from core.consume import ConsumerSettings
from core.messages import Alert, Sighting
from core.store import Store, open_store
from core.supervise import STATS
from tests.services import redis_url

CSV = "plate,category,level,reason\n京A12345,stolen,1,r\n京B22222,wanted,1,r\n京C33333,stolen,1,r\n"
RULES = "rules:\n  - {id: hit, kind: watchlist, level: 2, cooldown: 60}\n"
POISON = "京A66666"
DELIVERIES = 5


class BuggyLookup:
    """The real watchlist lookup, except that one plate raises (and calls are counted)."""

    def __init__(self, watchlist: Watchlist) -> None:
        self._real = watchlist_lookup(lambda: watchlist)
        self.poison_calls = 0

    def __call__(self, plate: str, camera_id: str, group: str,
                 at: float) -> Sequence[WatchlistHit]:
        if plate == POISON:
            self.poison_calls += 1
            raise RuntimeError(f"lookup bug triggered by {plate}")
        return self._real(plate, camera_id, group, at)


@pytest.fixture(params=["memory", "local", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Bus]:
    hub: LocalHub | None = None
    client: Bus
    if request.param == "memory":
        client = MemoryBus()
    elif request.param == "local":
        hub = LocalHub(tmp_path / "bus.sock")
        await hub.start()
        client = await LocalBus(hub.path).connect()
    else:
        client = RedisBus(redis_url(), maxlen=1000,
                          prefix=f"vigiltest:{uuid.uuid4().hex}:")
    yield client
    await client.close()
    if hub is not None:
        await hub.stop()


def sighting(plate: str) -> Sighting:
    now = SystemClock().now()
    return Sighting(uuid.uuid4().hex, "gate-3", plate, plate, "ordinary_7", "blue", 0.97,
                    now - 1, now)


async def until(check: object, timeout: float = 15.0) -> None:
    end = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < end:
        if callable(check) and check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def build(store: Store, bus: Bus, lookup: BuggyLookup) -> AlertService:
    clock = SystemClock()
    cams = {"gate-3": Camera(id="gate-3", name="Gate", group="g", url="rtsp://h/s")}
    engine = RuleEngine(parse_rules(RULES, "rules.yaml", cams), cams, lookup, clock)
    service = AlertService(store, bus, engine, clock)
    service.consumer_settings = ConsumerSettings(max_deliveries=DELIVERIES,
                                                 redeliver_after=0.05)
    return service


async def alert_subjects(bus: Bus, want: int) -> list[str]:
    got: list[str] = []
    for _ in range(100):
        for delivery in await bus.read(topics.ALERTS, "probe", "p", count=10, block=0.2):
            assert isinstance(delivery.message, Alert)
            got.append(delivery.message.subject)
        if len(got) >= want:
            break
    return got


@pytest.mark.slow  # redelivery rounds on real buses
async def test_a_poison_sighting_is_parked_and_the_good_ones_alert(
        bus: Bus, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'v.db'}", SystemClock())
    lookup = BuggyLookup(Watchlist(import_csv(CSV, "w.csv")))
    errors_before = STATS.errors["alerts.sightings"]
    parked_before = STATS.dead_letters[topics.SIGHTINGS.name]
    service = build(store, bus, lookup)
    await service.start(tick_interval=0.2)
    try:
        for plate in ("京A12345", POISON, "京B22222"):
            await bus.publish(topics.SIGHTINGS, sighting(plate))
        assert sorted(await alert_subjects(bus, 2)) == ["京A12345", "京B22222"]
        await until(lambda: STATS.dead_letters[topics.SIGHTINGS.name] - parked_before == 1)
        (parked,) = store.parked()
        assert (parked.poison.task, parked.poison.topic) == ("alerts.sightings", "sightings")
        assert parked.poison.attempts == DELIVERIES == lookup.poison_calls
        assert parked.poison.error == f"RuntimeError: lookup bug triggered by {POISON}"
        message = codec.decode(parked.poison.payload)
        assert isinstance(message, Sighting) and message.plate == POISON
        assert parked.poison.first_failed_at <= parked.parked_at
        assert STATS.errors["alerts.sightings"] - errors_before == DELIVERIES
        metrics = render(CameraRegistry([])).decode()
        assert 'vigil_consumer_errors_total{task="alerts.sightings"}' in metrics
        assert 'vigil_dead_letters_total{topic="sightings"}' in metrics

        # the poison entry was acknowledged: a restarted service does not see it again
        await service.stop()
        service = build(store, bus, lookup)
        await service.start(tick_interval=0.2)
        await bus.publish(topics.SIGHTINGS, sighting("京C33333"))
        assert await alert_subjects(bus, 1) == ["京C33333"]
        await asyncio.sleep(0.5)  # ten redelivery periods
        assert lookup.poison_calls == DELIVERIES and len(store.parked()) == 1
    finally:
        await service.stop()
        store.close()
