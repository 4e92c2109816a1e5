"""``vigil run``: one node on the embedded defaults.

Order matters: the bus comes up before anything publishes, the console before cameras so
their first statuses are seen, and shutdown runs in reverse. Everything runs in this event
loop except camera decoding, which lives in worker processes (pixels never cross them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from analytics.pipeline_parts import load_parts, parts_needed
from analytics.text import check_font
from console.app import server_options
from console.registry import CameraRegistry
from console.tokens import BOOTSTRAP_ENV, TokenBook
from core import topics
from core.bus import Bus, LocalHub, local_socket_path, open_bus
from core.clock import SystemClock
from core.config import CameraDiff, ConfigWatcher, LoadedConfig, load_config
from core.config.models import Camera, Service
from core.errors import ConfigError, FontError, ModelError
from core.store import Store, open_store
from ingest.consumer import ConsumerSpec
from ingest.node import IngestNode
from vigil.alerting import Alerting, LoadedConfigRef, start_alerting, stop_alerting
from vigil.analysis import make_host
from vigil.console_wiring import ConsoleParts, build_app, ensure_demo_login
from vigil.demo import prepare_demo, warn_no_detector
from vigil.publisher import BusPublisher
from vigil.purge import start_retention

log = logging.getLogger(__name__)


@dataclass
class Node:
    """Everything a running node owns, so shutdown can release it in reverse order."""

    hub: LocalHub | None
    bus: Bus
    store: Store
    publisher: BusPublisher
    ingest: IngestNode
    watcher: ConfigWatcher
    alerting: Alerting
    retention: asyncio.Task[None] | None = None


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    return host or "127.0.0.1", int(port)


def check_bind(host: str, port: int) -> None:
    """Fail before anything starts if the console address is taken (a second ``vigil run``
    is the usual cause), instead of after cameras and workers are up."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError([f"console.bind: {host}:{port} cannot be used ({exc.strerror}); "
                               "is another vigil running? choose one with --bind HOST:PORT"]
                              ) from exc


async def start_bus(url: str) -> tuple[LocalHub | None, Bus]:
    hub = None
    if url.startswith("local://"):
        hub = LocalHub(local_socket_path(url))
        await hub.start()
    return hub, await open_bus(url)


def _on_change(
    ingest: IngestNode, registry: CameraRegistry, ref: LoadedConfigRef
) -> Callable[[LoadedConfig, CameraDiff], None]:
    def apply(config: LoadedConfig, diff: CameraDiff) -> None:
        log.info("config reloaded: %d added, %d removed, %d changed",
                 len(diff.added), len(diff.removed), len(diff.changed))
        if config.service != ref.config.service:
            log.warning("service.yaml changed: restart vigil to apply it")
        ref.config = config
        prepare_demo(config.cameras)
        registry.set_cameras(config.cameras)
        ingest.apply(config.cameras)

    return apply


def check_models(cameras: tuple[Camera, ...], model_dir: Path) -> None:
    """Load once what the cameras' analytics need, so a missing model is reported at
    start-up (naming the file and the install command), not in the middle of a stream.
    Plates and detector are checked apart: the worker turns off only what a missing model
    is needed for, and the demo camera, which reads plates with the PyPI models alone,
    says in one line that its person-in-zone scene is skipped."""
    plates, detector = parts_needed(cameras)
    for part, needed in (("plates", plates), ("detector", detector)):
        if not needed:
            continue
        try:
            load_parts(model_dir, part == "plates", part == "detector")
        except ModelError as exc:
            log.error("%s\ncameras keep streaming; analytics that need this model stay off",
                      exc)
            if part == "detector":
                warn_no_detector(cameras, model_dir)


def check_text_font() -> None:
    """Say at start-up, once, when evidence labels and the demo's plates cannot be drawn in
    Chinese (no CJK font): everything else runs, the labels are left off."""
    try:
        log.debug("text on pictures drawn with %s", check_font())
    except FontError as exc:
        log.error("%s\nevidence pictures get no plate labels until then", exc)


def analysis_spec(service: Service) -> ConsumerSpec:
    """The analytics ingest runs in its worker processes, handed over explicitly: ingest
    never imports analytics, and the factory is a function, not a name to import."""
    return ConsumerSpec(make_host, {"bus": service.bus, "model_dir": service.models.dir,
                                    "plate_detector": service.models.plate_detector,
                                    "plate_recogniser": service.models.plate_recogniser,
                                    "plate_second_opinion": service.models.plate_second_opinion,
                                    "evidence_dir": service.evidence_dir,
                                    "live_dir": service.live_dir})


def _on_error(problems: list[str]) -> None:
    log.error("config change rejected, the running config stays:\n%s", "\n".join(problems))


async def start_node(config_dir: Path, loaded: LoadedConfig, registry: CameraRegistry) -> Node:
    """Bus and store first, then alerting (it must consume before anyone publishes
    observations), then ingest, then the watcher whose current config starts the cameras."""
    service, clock = loaded.service, SystemClock()
    hub, bus = await start_bus(service.bus)
    store = await asyncio.to_thread(open_store, service.store, clock)
    ref = LoadedConfigRef(loaded)
    alerting = await start_alerting(config_dir, ref, store, bus, clock)
    publisher = BusPublisher(bus, asyncio.get_running_loop())
    publisher.start()
    check_models(loaded.cameras, Path(service.models.dir))
    check_text_font()
    ingest = IngestNode(lambda status: publisher.submit(topics.CAMERA_STATUS, status),
                        workers=service.workers or (os.cpu_count() or 1),
                        consumer=analysis_spec(service))
    watcher = ConfigWatcher(config_dir, on_change=_on_change(ingest, registry, ref),
                            on_error=_on_error)
    ref.config = watcher.current
    cameras = watcher.current.cameras
    prepare_demo(cameras)
    registry.set_cameras(cameras)
    ingest.apply(cameras)
    watcher.start()
    retention = start_retention(service, store, clock)
    return Node(hub, bus, store, publisher, ingest, watcher, alerting, retention)


async def stop_node(node: Node) -> None:
    log.info("stopping: cameras, then the publisher (flushing), alerting, bus")
    node.watcher.stop()
    if node.retention is not None:
        node.retention.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await node.retention
    await asyncio.to_thread(node.ingest.stop)
    await node.publisher.stop()
    await stop_alerting(node.alerting)
    await node.bus.close()
    if node.hub is not None:
        await node.hub.stop()
    log.info("vigil stopped cleanly")


def own_signals(server: uvicorn.Server) -> None:
    """SIGINT and SIGTERM end the console server and then let :func:`stop_node` run to the
    end. Without this, uvicorn re-raises the signal it caught once ``serve()`` returns:
    SIGINT then cancels the main task in the middle of the shutdown (pending sightings not
    flushed, a traceback in the log) and SIGTERM — what systemd and ``docker stop`` send —
    kills the process outright. Repeats (uvicorn's re-raise, Ctrl-C reaching the whole
    process group) are ignored: the shutdown is already under way and takes seconds."""
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if not server.should_exit:
            log.info("%s received: stopping", sig.name)
        server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)


async def run_node(config_dir: Path, bind: str | None) -> int:
    loaded = load_config(config_dir)  # fail early, before anything starts
    host, port = parse_bind(bind or loaded.service.console.bind)
    check_bind(host, port)
    registry = CameraRegistry(loaded.cameras)
    tokens, token, generated = TokenBook.from_env()
    node = await start_node(config_dir, loaded, registry)
    parts = ConsoleParts(node.store, node.alerting.watchlists, SystemClock())
    app = build_app(registry, tokens, node.bus, parts, loaded.service)
    await asyncio.to_thread(ensure_demo_login, node.store)
    if generated:
        log.warning("API token for this run (set %s to choose one): %s", BOOTSTRAP_ENV, token)
    log.info("console on http://%s:%d  (%d cameras, bus %s)",
             host, port, len(loaded.cameras), loaded.service.bus.split("://")[0])
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           ws_per_message_deflate=False, **server_options()))
    own_signals(server)
    try:
        await server.serve()
    finally:
        await stop_node(node)
    return 0
