"""``vigil run --role all|worker|hub``: one node, or one part of a cluster on Redis.

* ``all`` (the default) is the embedded single node of :mod:`vigil.run`, unchanged.
* ``worker`` ingests and analyses the cameras it holds leases for (core/cluster/): every
  tick it renews its leases, reads the camera catalogue the hubs publish, and drives
  :meth:`ingest.node.IngestNode.apply` with exactly the cameras it holds. Sightings, events
  and camera statuses go to the shared Redis bus. No console, no store; its own /metrics
  on ``--bind`` (vigil/worker_metrics.py).
* ``hub`` (vigil/hub.py) runs the console, publishes the camera catalogue, and runs the
  alert service (rules, SLA timers, dispatch, retention) while it holds the alerting lease.

Both cluster roles need a bus every node can reach (``redis://``) and a store every hub
shares (``postgresql://``); anything else is refused at start with the file, key and fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import redis

from console.registry import CameraRegistry
from core import topics
from core.bus import open_bus
from core.cluster import AgentOptions, CameraAgent, CatalogueEntry, member_id, redis_client
from core.config import LoadedConfig, load_config
from core.config.models import Camera, Service
from core.errors import ConfigError
from core.messages import CameraStatus
from ingest.node import IngestNode, camera_cost
from vigil.demo import prepare_demo
from vigil.publisher import BusPublisher
from vigil.run import analysis_spec, check_models, check_text_font, run_node
from vigil.worker_metrics import DEFAULT_BIND, serve_metrics

log = logging.getLogger(__name__)
Role = Literal["all", "worker", "hub"]
ROLES: tuple[Role, ...] = ("all", "worker", "hub")


def cluster_problems(role: Role, service: Service, config_dir: Path) -> list[str]:
    """Why ``service`` cannot run ``role`` in a cluster: one line per key, with the fix."""
    if role == "all":
        return []
    where = config_dir / "service.yaml"
    problems = []
    if not service.bus.startswith(("redis://", "rediss://")):
        problems.append(
            f"{where}: bus: --role {role} needs the bus every node shares; set "
            f"`bus: redis://HOST:6379/0` (now {service.bus.split('://')[0]}://)")
    if not service.store.startswith("postgresql"):
        problems.append(
            f"{where}: store: --role {role} needs the store every hub shares; set "
            f"`store: postgresql://USER:PASSWORD@HOST/DB` (now {service.store.split(':')[0]})")
    return problems


def cost_of(config_json: str) -> float:
    """A catalogue entry's cost in capacity units (ingest/node.py :func:`camera_cost`)."""
    return camera_cost(Camera.model_validate_json(config_json))


async def run_role(role: Role, config_dir: Path, bind: str | None,
                   capacity: float | None = None) -> int:
    """Entry point of ``vigil run``; ``all`` is :func:`vigil.run.run_node` itself."""
    if role == "all":
        return await run_node(config_dir, bind)
    loaded = load_config(config_dir)  # fail early, before anything starts
    problems = cluster_problems(role, loaded.service, config_dir)
    if problems:
        raise ConfigError(problems)
    if role == "worker":
        return await run_worker(loaded, capacity, bind or DEFAULT_BIND)
    from vigil.hub import run_hub

    return await run_hub(config_dir, loaded, bind)


def stop_event() -> asyncio.Event:
    """Set by SIGINT or SIGTERM, so the role shuts down in order (leases released)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@dataclass
class WorkerLoop:
    """One worker's tick: lease bookkeeping in the agent, cameras in the ingest node."""

    agent: CameraAgent
    ingest: IngestNode
    model_dir: Path
    cameras: CameraRegistry
    """The held cameras and their newest statuses, for this worker's /metrics."""
    applied: dict[str, str] = field(default_factory=dict)
    parsed: dict[str, Camera] = field(default_factory=dict)
    models_checked: bool = False

    def tick(self) -> None:
        """Release last tick's handovers (their cameras were stopped a tick ago), step,
        then run exactly the held cameras. Redis errors fence: see CameraAgent.fence."""
        now = time.monotonic()
        try:
            self.agent.hand_over()
            view = self.agent.step(now)
        except redis.RedisError as exc:
            log.warning("cluster: tick failed (%s); holding %d cameras", exc,
                        len(self.agent.held))
            if self.agent.fence(now):
                self.run({})
            return
        self.run(view)

    def run(self, view: dict[str, CatalogueEntry]) -> None:
        wanted = {camera: entry.config_hash for camera, entry in view.items()}
        if wanted == self.applied:
            return
        cameras = [self._camera(camera, view[camera]) for camera in sorted(view)]
        if cameras and not self.models_checked:
            check_models(tuple(cameras), self.model_dir)
            self.models_checked = True
        prepare_demo(cameras)
        self.cameras.set_cameras(cameras)  # first, so the new cameras' statuses count
        plan = self.ingest.apply(cameras)
        log.info("cluster: now running %d cameras (%s)", len(cameras), plan)
        self.applied = wanted

    def _camera(self, camera_id: str, entry: CatalogueEntry) -> Camera:
        key = f"{camera_id}:{entry.config_hash}"
        if key not in self.parsed:
            self.parsed[key] = Camera.model_validate_json(entry.config_json)
        return self.parsed[key]


async def run_worker(loaded: LoadedConfig, capacity: float | None, bind: str) -> int:
    """Ingest and analysis for the leased cameras until SIGINT/SIGTERM; /metrics on
    ``bind``."""
    service = loaded.service
    options = AgentOptions(member_id(), service.cluster.capacity if capacity is None
                           else capacity, service.cluster.lease_ttl, service.cluster.tick)
    cameras = CameraRegistry()
    agent = CameraAgent(redis_client(service.bus), service.cluster.name, options, cost_of)
    metrics = serve_metrics(bind, cameras, lambda: len(agent.held), options.capacity)
    bus = await open_bus(service.bus)
    publisher = BusPublisher(bus, asyncio.get_running_loop())
    publisher.start()
    check_text_font()

    def report(status: CameraStatus) -> None:
        cameras.apply(status)
        publisher.submit(topics.CAMERA_STATUS, status)

    ingest = IngestNode(report, workers=service.workers or (os.cpu_count() or 1),
                        consumer=analysis_spec(service))
    loop = WorkerLoop(agent, ingest, Path(service.models.dir), cameras)
    stop = stop_event()
    log.info("worker %s: capacity %s, lease ttl %.1f s, tick %.1f s", options.member,
             options.capacity or "unlimited", options.lease_ttl, options.tick)
    try:
        while not stop.is_set():
            await asyncio.to_thread(loop.tick)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), options.tick)
    finally:
        log.info("worker %s stopping: cameras, then leases, then the publisher",
                 options.member)
        await asyncio.to_thread(ingest.stop)
        try:
            await asyncio.to_thread(agent.leave)
        except redis.RedisError as exc:
            log.warning("could not release leases (%s): they expire by themselves", exc)
        await publisher.stop()
        await bus.close()
        metrics.close()
        log.info("vigil stopped cleanly")
    return 0

