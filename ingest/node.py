"""``IngestNode``: a node's cameras spread over worker processes, hot-reloadable.

* ``workers=None`` (default): one worker process per core; ``workers=N``: N processes;
  ``workers=0``: no processes, every ``CameraWorker`` runs as threads in this process (tests,
  and analytics that need the frames in-process: see :meth:`IngestNode.slot`).
* Processes are started with the ``spawn`` context (no forked FFmpeg/thread state) the
  first time ``apply`` is called. Cameras are placed by load (:func:`place`): a new camera
  goes to the shard with the least estimated cost, a running one stays where it is, so a
  reload never moves a healthy camera to another process. (``crc32(id) % N`` put
  ``cam00``–``cam03`` in one process and split 24 cameras 14/10.)
* Pixels never cross a process. Statuses come back on one bounded multiprocessing queue *per
  shard* (a process killed while writing to a shared queue would leave its lock held and
  silence every other shard) and a pump thread in this process hands them to
  ``status_sink`` (so the sink is called from that thread; in-process mode, from the
  workers' control threads).
* ``apply(cameras)`` diffs against what runs (:func:`ingest.workerset.plan_changes`): only
  new, removed and changed cameras start, stop or restart; it returns the plan.
* A shard process that dies is restarted with its cameras (checked every second); its
  cameras are reported ``stopped`` ("worker process died") until they stream again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue

from core.clock import Clock, SystemClock
from core.config.models import Camera
from core.messages import CameraState, CameraStatus
from ingest.consumer import ConsumerSpec, check_picklable, load_consumer
from ingest.shard import ApplyCameras, Command, ShardSetup, StopShard, shard_main
from ingest.slot import FrameSlot
from ingest.worker import CameraWorker
from ingest.workerset import Plan, WorkerSet, plan_changes, unique

log = logging.getLogger(__name__)

StatusSink = Callable[[CameraStatus], None]
STATUS_QUEUE_SIZE = 10_000
COMMAND_QUEUE_SIZE = 16
JOIN_TIMEOUT = 5.0
PUMP_IDLE = 0.05
"""Seconds the pump sleeps when no shard had anything: bounds status latency, costs ~nil."""


def shard_of(camera_id: str, shards: int) -> int:
    """Stable shard index for a camera id (Python's hash() is salted per process): only the
    tie-break of :func:`place` now."""
    return zlib.crc32(camera_id.encode("utf-8")) % shards


def camera_cost(camera: Camera) -> float:
    """Rough CPU weight of a camera: decoding (1) plus analysis (2) when it has any."""
    return 1.0 + (2.0 if camera.analytics else 0.0)


def place(cameras: Sequence[Camera], shards: int, current: dict[str, int]
          ) -> dict[str, int]:
    """Shard per camera id: those in ``current`` keep their shard; the others, in id order,
    go to the shard with the least total :func:`camera_cost` (ties: fewer cameras, then
    the crc32 choice, then the lowest index)."""
    load = [0.0] * shards
    count = [0] * shards
    out: dict[str, int] = {}
    for camera in cameras:
        index = current.get(camera.id)
        if index is not None and index < shards:
            out[camera.id] = index
            load[index] += camera_cost(camera)
            count[index] += 1
    for camera in sorted((c for c in cameras if c.id not in out), key=lambda c: c.id):
        hashed = shard_of(camera.id, shards)
        index = min(range(shards), key=lambda i: (load[i], count[i], i != hashed, i))
        out[camera.id] = index
        load[index] += camera_cost(camera)
        count[index] += 1
    return out


@dataclass
class _Shard:
    index: int
    process: SpawnProcess
    commands: Queue[Command]
    statuses: Queue[CameraStatus]
    cameras: tuple[Camera, ...] = field(default_factory=tuple)

    def drain(self, limit: int = 500) -> list[CameraStatus]:
        """What this shard has reported, without blocking.

        A shard that exited cleanly flushed its queue before exiting, so what it put last
        (each camera's STOPPED) is still read; one that died may have left half a message
        in the pipe, which would block the read, so nothing is read from it.
        """
        out: list[CameraStatus] = []
        readable = self.process.is_alive() or self.process.exitcode == 0
        while len(out) < limit and readable:
            try:
                out.append(self.statuses.get_nowait())
            except queue.Empty:
                break
            except (EOFError, OSError, ValueError):
                break
        return out

    def close_queues(self) -> None:
        self.commands.close()
        self.statuses.close()

    def send(self, command: Command) -> None:
        try:
            self.commands.put(command, timeout=JOIN_TIMEOUT)
        except queue.Full as exc:
            raise RuntimeError(f"ingest shard {self.index} does not take commands") from exc


class IngestNode:
    """Runs cameras; ``apply`` for (re)configuration, ``stop`` to finish."""

    def __init__(self, status_sink: StatusSink, workers: int | None = None,
                 clock: Clock | None = None, consumer: ConsumerSpec | None = None) -> None:
        """``consumer``: built in every worker process to analyse its cameras' frames."""
        count = (os.cpu_count() or 1) if workers is None else workers
        if count < 0:
            raise ValueError("workers must be >= 0 (0 = in-process threads)")
        self.processes = count
        self._sink = status_sink
        if consumer is not None and count > 0:
            check_picklable(consumer)  # it travels to each spawned worker process
        self._consumer = consumer
        local_consumer = load_consumer(consumer) if consumer and count == 0 else None
        self._local = WorkerSet(status_sink, clock, local_consumer) if count == 0 else None
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._cameras: dict[str, Camera] = {}
        self._placement: dict[str, int] = {}
        self._shards: list[_Shard] = []
        self._pump: threading.Thread | None = None
        self._stopping = threading.Event()
        self.restarts = 0

    def apply(self, cameras: Sequence[Camera]) -> Plan:
        """Make exactly ``cameras`` run; returns what was started, stopped, restarted."""
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("ingest node is stopped")
            plan = plan_changes(self._cameras, cameras)
            self._cameras = unique(cameras)
            if self._local is not None:
                return self._local.apply(cameras)
            self._ensure_started()
            groups: list[list[Camera]] = [[] for _ in self._shards]
            self._placement = place(cameras, self.processes, self._placement)
            for camera in cameras:
                groups[self._placement[camera.id]].append(camera)
            for shard, group in zip(self._shards, groups, strict=True):
                if tuple(group) != shard.cameras:
                    shard.cameras = tuple(group)
                    shard.send(ApplyCameras(shard.cameras))
        return plan

    def worker(self, camera_id: str) -> CameraWorker | None:
        """In-process mode only: the camera's worker (None if it does not run here)."""
        return self._require_local().worker(camera_id)

    def slot(self, camera_id: str) -> FrameSlot | None:
        """In-process mode only: the slot to ``take()`` this camera's newest frame from."""
        worker = self.worker(camera_id)
        return worker.slot if worker is not None else None

    def shard_index(self, camera_id: str) -> int | None:
        """The worker process (shard index) ``camera_id`` runs in; ``None`` in-process or
        when it does not run."""
        with self._lock:
            return self._placement.get(camera_id) if camera_id in self._cameras else None

    def pids(self) -> list[int | None]:
        """Worker process ids by shard index (empty in-process or before the first apply)."""
        with self._lock:
            return [shard.process.pid for shard in self._shards]

    def _require_local(self) -> WorkerSet:
        if self._local is None:
            raise RuntimeError("frames stay in their worker process; use workers=0 to read "
                               "them in this process")
        return self._local

    def stop(self) -> None:
        """Stop every camera and worker process; returns within a few seconds."""
        with self._lock:
            self._stopping.set()
            shards = list(self._shards)
        if self._local is not None:
            self._local.stop()
            return
        for shard in shards:
            if shard.process.is_alive():
                self._try_send(shard, StopShard())
        for shard in shards:
            shard.process.join(JOIN_TIMEOUT)
            if shard.process.is_alive():
                log.warning("ingest shard %d did not stop in time; terminating", shard.index)
                shard.process.terminate()
                shard.process.join(1.0)
        if self._pump is not None:
            self._pump.join(JOIN_TIMEOUT)
        for shard in shards:
            shard.close_queues()

    @staticmethod
    def _try_send(shard: _Shard, command: Command) -> None:
        try:
            shard.send(command)
        except RuntimeError:
            log.warning("ingest shard %d does not take commands", shard.index)

    # -- processes ----------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self._shards:
            return
        self._shards = [self._spawn(i) for i in range(self.processes)]
        self._pump = threading.Thread(target=self._run_pump, name="ingest-status-pump",
                                      daemon=True)
        self._pump.start()

    def _spawn(self, index: int, cameras: tuple[Camera, ...] = ()) -> _Shard:
        commands: Queue[Command] = self._ctx.Queue(COMMAND_QUEUE_SIZE)
        statuses: Queue[CameraStatus] = self._ctx.Queue(STATUS_QUEUE_SIZE)
        process = self._ctx.Process(
            target=shard_main, name=f"vigil-ingest-{index}", daemon=True,
            args=(ShardSetup(index, logging.getLogger().getEffectiveLevel(), self._consumer),
                  commands, statuses))
        process.start()
        shard = _Shard(index, process, commands, statuses, cameras)
        if cameras:
            shard.send(ApplyCameras(cameras))
        return shard

    def _run_pump(self) -> None:
        """Deliver statuses; every second, restart dead shards; end after a clean stop."""
        check_at = time.monotonic() + 1.0
        while True:
            with self._lock:
                shards = list(self._shards)
            # decided before the drain, so the last drain comes after every shard exited
            ended = self._stopping.is_set() and not any(s.process.is_alive() for s in shards)
            delivered = 0
            for shard in shards:
                for status in shard.drain():
                    self._deliver(status)
                    delivered += 1
            if not delivered:
                if ended:
                    return
                time.sleep(PUMP_IDLE)
            if not self._stopping.is_set() and time.monotonic() >= check_at:
                check_at = time.monotonic() + 1.0
                self._revive()

    def _deliver(self, status: CameraStatus) -> None:
        try:
            self._sink(status)
        except Exception:
            log.exception("status sink failed for camera %s", status.camera_id)

    def _revive(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            for i, shard in enumerate(self._shards):
                if shard.process.is_alive():
                    continue
                log.error("ingest shard %d died (exit code %s); restarting it with %d cameras",
                          shard.index, shard.process.exitcode, len(shard.cameras))
                for camera in shard.cameras:
                    self._deliver(CameraStatus(
                        camera.id, CameraState.STOPPED, self._clock.now(),
                        f"worker process died (exit code {shard.process.exitcode}); restarting"))
                shard.close_queues()
                self._shards[i] = self._spawn(shard.index, shard.cameras)
                self.restarts += 1
