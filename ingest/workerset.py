"""The cameras one process runs, and the diff that makes hot reload touch only what changed.

A camera is restarted only when a field that ingest reads changed (URLs, transport,
credentials, enabled, ingest options); a change to its name, zones, analytics or schedule
keeps the stream running and just replaces the stored ``Camera``. A camera's ``FrameSlot``
survives its restarts, so an in-process consumer holding it keeps receiving frames, and so
does its ``AnalysisMeter``, so its counters stay monotonic (only ``max_fps`` is re-read).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.clock import Clock
from core.config.models import Camera
from ingest.consumer import FrameConsumer
from ingest.shedding import AnalysisMeter
from ingest.slot import FrameSlot
from ingest.worker import CameraWorker, StatusSink

log = logging.getLogger(__name__)

STOP_BUDGET = 2.0
"""Seconds all stopping workers get together (they are stopped in parallel)."""


def ingest_key(camera: Camera) -> tuple[object, ...]:
    """The fields whose change needs a reconnect."""
    return (camera.url, camera.evidence_url, camera.transport, camera.username,
            camera.password, camera.enabled, camera.ingest)


@dataclass(frozen=True, slots=True)
class Plan:
    """Camera ids to start, stop, restart, and keep running, in a stable order."""

    start: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.start or self.stop or self.restart)


def plan_changes(running: Mapping[str, Camera], wanted: Sequence[Camera]) -> Plan:
    """What to do to go from ``running`` to ``wanted``; duplicate ids are refused."""
    by_id = unique(wanted)
    start = tuple(sorted(cid for cid in by_id if cid not in running))
    stop = tuple(sorted(cid for cid in running if cid not in by_id))
    both = sorted(cid for cid in by_id if cid in running)
    restart = tuple(cid for cid in both if ingest_key(running[cid]) != ingest_key(by_id[cid]))
    keep = tuple(cid for cid in both if cid not in restart)
    return Plan(start=start, stop=stop, restart=restart, keep=keep)


def unique(cameras: Sequence[Camera]) -> dict[str, Camera]:
    by_id: dict[str, Camera] = {}
    for camera in cameras:
        if camera.id in by_id:
            raise ValueError(f"camera id {camera.id!r} appears twice")
        by_id[camera.id] = camera
    return by_id


class WorkerSet:
    """``CameraWorker`` threads in this process, kept equal to the last ``apply``."""

    def __init__(self, on_status: StatusSink, clock: Clock | None = None,
                 consumer: FrameConsumer | None = None) -> None:
        self._on_status = on_status
        self._clock = clock
        self._consumer = consumer
        self._lock = threading.Lock()
        self._workers: dict[str, CameraWorker] = {}
        self._slots: dict[str, FrameSlot] = {}
        self._meters: dict[str, AnalysisMeter] = {}

    def apply(self, cameras: Sequence[Camera]) -> Plan:
        """Start, stop and restart workers so exactly ``cameras`` run; returns the plan."""
        with self._lock:
            running = {cid: w.camera for cid, w in self._workers.items()}
            plan = plan_changes(running, cameras)
            wanted = unique(cameras)
            leaving = [self._workers.pop(cid) for cid in (*plan.stop, *plan.restart)]
            self._tell_stopped([w.camera.id for w in leaving])
            _stop_all(leaving)
            for cid in plan.stop:
                self._slots.pop(cid).close()
                self._meters.pop(cid, None)
            for cid in (*plan.start, *plan.restart):
                self._start(wanted[cid])
            for cid in plan.keep:
                self._update(self._workers[cid], wanted[cid])
        if plan:
            log.info("ingest: start %s, stop %s, restart %s, unchanged %d",
                     list(plan.start), list(plan.stop), list(plan.restart), len(plan.keep))
        return plan

    def _start(self, camera: Camera) -> None:
        slot = self._slots.setdefault(camera.id, FrameSlot())
        meter = self._meters.get(camera.id)
        if meter is None:
            meter = self._meters[camera.id] = AnalysisMeter(camera.ingest.max_fps, self._clock)
        else:
            meter.configure(camera.ingest.max_fps)
        worker = CameraWorker(camera, self._on_status, self._clock, slot, meter)
        self._workers[camera.id] = worker
        worker.start()
        self._tell(lambda c: c.camera_started(worker), camera.id)

    def _tell(self, call: Callable[[FrameConsumer], None], camera_id: str) -> None:
        """A consumer failure is logged and never stops the cameras of this process."""
        if self._consumer is None:
            return
        try:
            call(self._consumer)
        except Exception:
            log.exception("camera %s: frame consumer failed", camera_id)

    def _update(self, worker: CameraWorker, camera: Camera) -> None:
        """Same stream, other settings (zones, analytics): the stream keeps running and the
        consumer restarts its work for that camera with the new settings."""
        if worker.camera == camera:
            return
        worker.camera = camera
        self._tell(lambda c: c.camera_stopped(camera.id), camera.id)
        self._tell(lambda c: c.camera_started(worker), camera.id)

    def _tell_stopped(self, camera_ids: Sequence[str]) -> None:
        for camera_id in camera_ids:
            self._tell(functools.partial(_stopped, camera_id=camera_id), camera_id)

    def worker(self, camera_id: str) -> CameraWorker | None:
        with self._lock:
            return self._workers.get(camera_id)

    def camera_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._workers)

    def stop(self) -> None:
        """Stop every worker (in parallel) and close their slots."""
        with self._lock:
            leaving = list(self._workers.values())
            self._workers.clear()
            slots = list(self._slots.values())
            self._slots.clear()
            self._meters.clear()
        self._tell_stopped([w.camera.id for w in leaving])
        _stop_all(leaving)
        self._tell(lambda c: c.close(), "*")
        for slot in slots:
            slot.close()


def _stopped(consumer: FrameConsumer, camera_id: str) -> None:
    consumer.camera_stopped(camera_id)


def _stop_all(workers: Sequence[CameraWorker]) -> None:
    """Signal all, then join all against one shared deadline."""
    for worker in workers:
        worker.request_stop()
    end = time.monotonic() + STOP_BUDGET
    for worker in workers:
        worker.join(max(0.1, end - time.monotonic()))
