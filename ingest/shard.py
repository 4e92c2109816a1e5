"""The body of one ingest worker process (a shard) and the commands it obeys.

A shard runs a :class:`ingest.workerset.WorkerSet` and reads small commands from its own
queue: the full list of cameras it should run (it diffs that against what runs) or stop.
Statuses go back on the node's shared status queue. That queue is bounded; when it is full
a status is dropped (newest dropped, counted and logged): statuses are repeated every few
seconds, so a dropped one is repaired by the next, and a stuck parent must never block a
camera's control thread. Pixels never leave the shard.

A shard exits by itself when its parent process disappears, and ignores SIGINT (Ctrl-C in
a terminal reaches the whole process group; the parent decides how to shut down). An
orphan's exit is bounded (:data:`ORPHAN_GRACE`): in a cluster another worker takes its
cameras over once the dead worker's leases expire, and two processes must never run one
camera, so an orphan may not linger while a camera's analysis thread finishes or its
status queue (whose reader died) refuses to drain.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from dataclasses import dataclass
from multiprocessing.queues import Queue

from core.config.models import Camera
from core.messages import CameraStatus
from ingest.consumer import ConsumerSpec, load_consumer
from ingest.workerset import WorkerSet

log = logging.getLogger(__name__)

ORPHAN_GRACE = 2.0
"""Seconds a shard whose parent died gives its cameras to stop (recordings closed, threads
joined) before it exits regardless. Parent death is noticed within a second (the command
poll), so an orphan is gone within about 3 s, well inside a cluster lease (8 s in tests,
core/cluster). Normally the stop takes about 1 s; a loaded machine once took 7.8 s, which
let a camera's new worker start before the old one had gone (tests/e2e/test_cluster.py)."""


@dataclass(frozen=True, slots=True)
class ApplyCameras:
    """Run exactly these cameras (the shard diffs against what it runs)."""

    cameras: tuple[Camera, ...]


@dataclass(frozen=True, slots=True)
class StopShard:
    """Stop every camera and exit."""


Command = ApplyCameras | StopShard


class StatusOutbox:
    """Puts statuses on the shared queue without ever blocking; counts what it drops."""

    def __init__(self, statuses: Queue[CameraStatus]) -> None:
        self._statuses = statuses
        self.dropped = 0

    def put(self, status: CameraStatus) -> None:
        try:
            self._statuses.put_nowait(status)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 100 == 1:
                log.warning("status queue full: %d statuses dropped so far", self.dropped)


@dataclass(frozen=True, slots=True)
class ShardSetup:
    """What a worker process needs besides its queues (pickled at spawn)."""

    index: int
    log_level: int
    consumer: ConsumerSpec | None = None


def shard_main(setup: ShardSetup, commands: Queue[Command],
               statuses: Queue[CameraStatus]) -> None:
    """Entry point of a worker process (spawned; everything arrives pickled)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=setup.log_level,
                        format="%(asctime)s %(processName)s %(name)s %(levelname)s %(message)s")
    index = setup.index
    outbox = StatusOutbox(statuses)
    consumer = load_consumer(setup.consumer) if setup.consumer is not None else None
    workers = WorkerSet(outbox.put, consumer=consumer)
    log.info("ingest shard %d started", index)
    orphaned = False
    try:
        orphaned = _obey(commands, workers)
    finally:
        if orphaned:
            _exit_after(ORPHAN_GRACE, index)
        workers.stop()
        log.info("ingest shard %d stopped", index)
    if orphaned:
        logging.shutdown()
        os._exit(0)  # no queue feeder join: nobody reads the status queue any more


def _exit_after(grace: float, index: int) -> None:
    """Ends this process ``grace`` seconds from now unless it has ended by then."""
    def give_up() -> None:
        log.error("ingest shard %d: cameras did not stop within %.1f s of the parent's "
                  "death; exiting anyway", index, grace)
        os._exit(1)

    timer = threading.Timer(grace, give_up)
    timer.daemon = True
    timer.start()


def _obey(commands: Queue[Command], workers: WorkerSet) -> bool:
    """Carries out commands until told to stop (``False``) or the parent is gone (``True``)."""
    parent = multiprocessing.parent_process()
    while True:
        try:
            command = commands.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                log.warning("parent process is gone; shard exits within %.1f s",
                            ORPHAN_GRACE)
                return True
            continue
        if isinstance(command, StopShard):
            return False
        try:
            workers.apply(command.cameras)
        except ValueError:
            log.exception("refused camera list")
