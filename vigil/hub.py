"""``vigil run --role hub``: console, camera catalogue, and the alert service when leading.

Every hub serves the console (REST, WebSocket, metrics) from the shared PostgreSQL store:
each console process follows the ``alerts`` topic in a group of its own and reads events
from the store, so every console delivers every alert with its replay. Every hub publishes
the camera catalogue from its config folder (the same folder on every hub; publishing is
idempotent) so the workers learn the cameras and their config changes.

The alert service (the rule engine on ``sightings``/``events``/``camera.status``, SLA
timers, 110 dispatch, the outbox and evidence retention) runs on **one hub at a time**: the
one holding the ``alerting`` lease (core/cluster/leases.py, same TTL and tick as the
cameras). Why one: the rule engine keeps cool-downs, cloned-plate memory and camera-health
outages in memory, and the SLA tracker keeps timers; spread over two hubs, a consumer group
would evaluate each sighting once but two hubs' cool-downs would each let a repeat through,
and two SLA trackers would each escalate the same alert. When the leader dies its lease
expires (8 s by default) and another hub starts the service: ``restore()`` re-arms SLA
timers of every open alert from the store without repeating an escalation already in the
timeline, and the consumer takes over the dead leader's unacknowledged entries (XAUTOCLAIM),
so nothing is lost. Dispatch rows are leased in the store (``SKIP LOCKED``) as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
import uvicorn

from alerts.sla import SlaTracker
from console.app import server_options
from console.registry import CameraRegistry
from console.tokens import BOOTSTRAP_ENV, TokenBook
from core.bus import Bus, open_bus
from core.clock import SystemClock
from core.cluster import Catalogue, Leases, member_id, redis_client
from core.config import CameraDiff, ConfigWatcher, LoadedConfig
from core.config.models import Camera, Service
from core.store import Store, open_store
from core.supervise import every, start_supervised
from vigil.alerting import Alerting, LoadedConfigRef, build_alerting
from vigil.console_wiring import ConsoleParts, build_app, ensure_demo_login
from vigil.purge import start_retention
from vigil.run import check_bind, own_signals, parse_bind

log = logging.getLogger(__name__)
ALERTING = "alerting"


def catalogue_of(cameras: tuple[Camera, ...] | list[Camera]) -> dict[str, str]:
    return {camera.id: camera.model_dump_json() for camera in cameras}


@dataclass
class Leadership:
    """Holds (or waits for) the alerting lease and starts/stops the alert service."""

    leases: Leases
    member: str
    alerting: Alerting
    service: Service
    store: Store
    token: int | None = None
    renewed_at: float = 0.0
    retention: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        now = time.monotonic()
        try:
            token = await asyncio.to_thread(self.leases.claim, ALERTING, self.member)
        except redis.RedisError as exc:
            log.warning("hub: alerting lease not renewed (%s)", exc)
            if self.token is not None and now - self.renewed_at >= self.leases.ttl:
                await self.resign("no renewal for a whole lease")
            return
        if token is None:
            if self.token is not None:
                await self.resign("lease taken by another hub")
            return
        self.renewed_at = now
        if self.token is None:
            await self.lead(token)

    async def lead(self, token: int) -> None:
        log.info("hub %s: leading alerting (fencing token %d): rules, SLA, dispatch, "
                 "retention run here", self.member, token)
        service = self.alerting.service
        service.sla = SlaTracker(service.sla.settings)  # restore() re-arms from the store
        await service.start()
        self.retention = start_retention(self.service, self.store, SystemClock())
        self.token = token

    async def resign(self, why: str) -> None:
        log.warning("hub %s: stops alerting (%s)", self.member, why)
        self.token = None
        if self.retention is not None:
            self.retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.retention
            self.retention = None
        await self.alerting.service.stop()

    async def run(self, interval: float) -> None:
        """Every ``interval``, guarded (core/supervise.py): an unexpected error in one
        tick is logged and counted, and the next tick still comes."""
        await every("hub.leadership", interval, self.tick)

    async def close(self) -> None:
        if self.token is not None:
            token = self.token
            await self.resign("stopping")
            with contextlib.suppress(redis.RedisError):
                await asyncio.to_thread(self.leases.release, ALERTING, self.member, token)


CATALOGUE_REFRESH = 30.0
"""Seconds between re-publications of the catalogue: repairs it after a Redis restart
without persistence or a failed publication (publishing an unchanged catalogue writes
nothing)."""


class CataloguePublisher:
    """Keeps the Redis camera catalogue equal to this hub's config folder."""

    def __init__(self, catalogue: Catalogue, ref: LoadedConfigRef) -> None:
        self.catalogue = catalogue
        self.ref = ref

    def publish(self) -> None:
        try:
            if self.catalogue.publish(catalogue_of(self.ref.config.cameras)):
                log.info("camera catalogue published: %d cameras", len(self.ref.config.cameras))
        except redis.RedisError as exc:
            log.error("camera catalogue not published (%s); workers keep the old one", exc)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(CATALOGUE_REFRESH)
            await asyncio.to_thread(self.publish)


def on_change(registry: CameraRegistry, ref: LoadedConfigRef, cataloguer: CataloguePublisher
              ) -> Callable[[LoadedConfig, CameraDiff], None]:
    def apply(config: LoadedConfig, diff: CameraDiff) -> None:
        log.info("config reloaded: %d added, %d removed, %d changed",
                 len(diff.added), len(diff.removed), len(diff.changed))
        ref.config = config
        registry.set_cameras(config.cameras)
        cataloguer.publish()

    return apply


def _on_error(problems: list[str]) -> None:
    log.error("config change rejected, the running config stays:\n%s", "\n".join(problems))


@dataclass
class Hub:
    bus: Bus
    store: Store
    watcher: ConfigWatcher
    alerting: Alerting
    leadership: Leadership
    tasks: list[asyncio.Task[None]]


async def start_hub(config_dir: Path, loaded: LoadedConfig, registry: CameraRegistry) -> Hub:
    """Bus, store, catalogue, alerting (not yet started), then the lease loop."""
    service, clock = loaded.service, SystemClock()
    bus = await open_bus(service.bus)
    store = await asyncio.to_thread(open_store, service.store, clock)
    client = redis_client(service.bus)
    ref = LoadedConfigRef(loaded)
    alerting = await build_alerting(config_dir, ref, store, bus, clock)
    cataloguer = CataloguePublisher(Catalogue(client, service.cluster.name), ref)
    watcher = ConfigWatcher(config_dir, on_change=on_change(registry, ref, cataloguer),
                            on_error=_on_error)
    ref.config = watcher.current
    registry.set_cameras(watcher.current.cameras)
    await asyncio.to_thread(cataloguer.publish)
    watcher.start()
    leases = Leases(client, f"{service.cluster.name}:role", service.cluster.lease_ttl)
    leadership = Leadership(leases, member_id(), alerting, service, store)
    tasks = [start_supervised("hub.leadership", lambda: leadership.run(service.cluster.tick)),
             start_supervised("hub.catalogue", cataloguer.run)]
    return Hub(bus, store, watcher, alerting, leadership, tasks)


async def stop_hub(hub: Hub) -> None:
    log.info("stopping: lease loop, alerting, bus")
    hub.watcher.stop()
    for task in hub.tasks:
        task.cancel()
    for task in hub.tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await hub.leadership.close()
    if hub.alerting.task is not None:
        hub.alerting.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await hub.alerting.task
    await hub.bus.close()
    log.info("vigil stopped cleanly")


async def run_hub(config_dir: Path, loaded: LoadedConfig, bind: str | None) -> int:
    """The console until SIGINT/SIGTERM; alerting while this hub holds the lease."""
    host, port = parse_bind(bind or loaded.service.console.bind)
    check_bind(host, port)
    registry = CameraRegistry(loaded.cameras)
    tokens, token, generated = TokenBook.from_env()
    hub = await start_hub(config_dir, loaded, registry)
    parts = ConsoleParts(hub.store, hub.alerting.watchlists, SystemClock())
    app = build_app(registry, tokens, hub.bus, parts, loaded.service)
    await asyncio.to_thread(ensure_demo_login, hub.store)
    if generated:
        log.warning("API token for this run (set %s to choose one): %s", BOOTSTRAP_ENV, token)
    log.info("hub %s: console on http://%s:%d (%d cameras in the catalogue)",
             hub.leadership.member, host, port, len(loaded.cameras))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           ws_per_message_deflate=False, **server_options()))
    own_signals(server)
    try:
        await server.serve()
    finally:
        await stop_hub(hub)
    return 0
