"""``CameraWorker``: one camera, from its URL to frames in a slot and statuses on a callback.

Threads (all daemon, named ``ingest-<camera>...``):

* the **control** thread owns the lifecycle (:mod:`ingest.lifecycle`). It wakes every
  ``TICK`` s or when a session reports something, and is the only thread that transitions.
  It is also the watchdog: it never touches FFmpeg, so it keeps ticking while a decode
  thread is stuck inside a read, and declares ``stalled`` within ``stall_after`` + ``TICK``.
* one **session** thread per connection attempt (:mod:`ingest.session`) opens the source,
  decodes, puts frames in the slot and feeds the health monitor. A stuck session is
  abandoned, not waited for; the next attempt gets a new thread at once.
* optionally an **evidence** thread (:mod:`ingest.recorder`) when ``evidence_url`` is set.

Reconnects use :class:`core.retry.Backoff` (full jitter, capped at ``backoff_cap``); the
attempt count restarts after ``STABLE_AFTER`` s of streaming, and a refusal (401, 404,
missing file; see :mod:`ingest.errors`) always waits the full cap. A camera never gives up.

Statuses go to ``on_status`` on every transition, on every health change, and every
``STATUS_EVERY`` s so metrics (fps, drops, reconnects, decode_ms, last_frame_at, and the
analysis counters of :class:`ingest.shedding.AnalysisMeter`) stay fresh. Counters in a status
are totals since the camera was first started in this process, never per-interval figures.

Load shedding: before a decoded picture goes into the slot, the camera's ``meter`` may refuse
it (the analysis cannot keep up; see :mod:`ingest.shedding`); the picture is counted as shed,
health and fps still see it, and the decode thread goes on draining the source.
``on_status`` is called from the control thread (and from ``start``/``stop``); it must be
quick and thread-safe, and an exception in it is logged, never fatal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from core.clock import Clock, SystemClock
from core.config.models import Camera
from core.errors import SourceError, SourceTimeout
from core.messages import CameraHealth, CameraState, CameraStatus, Frame
from core.redact import redact_url
from core.retry import Backoff
from ingest.errors import SourceRefused
from ingest.health import HealthMonitor
from ingest.lifecycle import CameraLifecycle
from ingest.recorder import EvidenceRecorder
from ingest.ring import PacketRing
from ingest.session import Session
from ingest.shedding import AnalysisMeter
from ingest.slot import FrameSlot
from ingest.source import Picture, SourceSpec, SourceStats, is_file
from ingest.source_registry import open_source

log = logging.getLogger(__name__)

StatusSink = Callable[[CameraStatus], None]
S = CameraState


class CameraWorker:
    """Runs one camera until ``stop()``. Frames: ``worker.slot.take(timeout)``."""

    TICK = 0.1
    STATUS_EVERY = 2.0
    STABLE_AFTER = 10.0

    def __init__(self, camera: Camera, on_status: StatusSink, clock: Clock | None = None,
                 slot: FrameSlot | None = None, meter: AnalysisMeter | None = None) -> None:
        """``slot`` and ``meter`` outlive the worker when given (the worker set keeps them
        across the camera's restarts, so consumers and counters carry on)."""
        self.camera = camera
        self.slot = slot if slot is not None else FrameSlot()
        self.meter = meter if meter is not None else AnalysisMeter(camera.ingest.max_fps, clock)
        self.stats = SourceStats()
        self.health = HealthMonitor.from_options(camera.ingest)
        self.ring = PacketRing(camera.ingest.ring_seconds) if camera.ingest.ring_seconds else None
        self.reconnects = 0
        self._on_status = on_status
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._backoff = Backoff(camera.ingest.backoff_base, camera.ingest.backoff_cap)
        self._life = CameraLifecycle(camera.id, self._clock, self._changed)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._control: threading.Thread | None = None
        self._session: Session | None = None
        self._recorder: EvidenceRecorder | None = None
        self._attempt = 0
        self._deadline = 0.0
        self._streaming_since = 0.0
        self._seq = 0
        self._last_frame_at: float | None = None
        self._published: tuple[CameraHealth, float] = (CameraHealth.UNKNOWN, 0.0)

    # -- public -------------------------------------------------------------------------

    @property
    def state(self) -> CameraState:
        return self._life.state

    def status(self) -> CameraStatus:
        """A snapshot of the camera's state and metrics."""
        now = self._clock.monotonic()
        life, meter = self._life, self.meter
        return CameraStatus(
            camera_id=self.camera.id, state=life.state, since=life.since, detail=life.detail,
            fps=round(self.health.fps(now), 2), health=self._health(now),
            last_frame_at=self._last_frame_at, reconnects=self.reconnects,
            drops=self.slot.drops, decode_ms=round(self.health.decode_ms, 3),
            analysed=meter.analysed, analysed_fps=round(meter.analysed_fps(), 2),
            target_fps=meter.target_fps, skipped=meter.skipped_before + self.stats.skipped,
            shed=meter.shed, shed_steps=meter.shedder.steps,
            keyframes_only=meter.keyframes_only,
            keyframe_skips=meter.keyframe_skips_before + self.stats.keyframe_skips,
            backlog_s=round(meter.backlog(), 3), stages=meter.stages(),
            publish_pending=meter.publish_pending, worker_pid=os.getpid(),
            lag_s=round(self.stats.lag, 3))

    def start(self) -> None:
        """Start the threads (or publish ``disabled``); returns at once."""
        if self._control is not None or self._life.state is not S.STOPPED:
            raise RuntimeError(f"camera {self.camera.id}: a worker starts only once")
        if not self.camera.enabled:
            self._life.transition(S.DISABLED, "disabled in the configuration")
            return
        self._start_recorder()
        self._control = threading.Thread(target=self._run, name=f"ingest-{self.camera.id}",
                                         daemon=True)
        self._control.start()

    def request_stop(self) -> None:
        """Ask every thread to finish; returns at once (see ``join``)."""
        self._stop.set()
        self._wake.set()
        session = self._session
        if session is not None:
            session.abandon()

    def join(self, timeout: float = 2.0) -> None:
        """Wait (at most ``timeout`` s) for the threads, then publish ``stopped``.

        A session blocked inside FFmpeg is not waited for beyond the budget: it is a
        daemon thread and leaves when FFmpeg's read timeout fires.
        """
        end = time.monotonic() + timeout
        if self._control is not None:
            self._control.join(max(0.05, end - time.monotonic()))
        session = self._session
        if session is not None:
            session.abandon()  # again: the control thread may have started it after stop
            if not session.join(max(0.0, min(0.5, end - time.monotonic()))):
                log.debug("camera %s: decode thread still inside FFmpeg; left behind",
                          self.camera.id)
        if self._recorder is not None:
            self._recorder.stop(max(0.0, end - time.monotonic()))
        if self._life.can(S.STOPPED):
            self._life.transition(S.STOPPED, "stopped")
        self.meter.skipped_before += self.stats.skipped  # the next worker starts from 0
        self.stats.skipped = 0
        self.meter.keyframe_skips_before += self.stats.keyframe_skips
        self.stats.keyframe_skips = 0

    def stop(self, timeout: float = 2.0) -> None:
        self.request_stop()
        self.join(timeout)

    # -- control thread -----------------------------------------------------------------

    def _run(self) -> None:
        self._guarded(self._connect)
        while not self._stop.is_set() and self._life.state is not S.STOPPED:
            self._wake.wait(self.TICK)
            self._wake.clear()
            if not self._stop.is_set():
                self._guarded(self._step)

    def _guarded(self, action: Callable[[], None]) -> None:
        """A bug in one step must not kill the camera: log it and keep ticking."""
        try:
            action()
        except Exception:
            log.exception("camera %s: control step failed", self.camera.id)
            self._stop.wait(1.0)

    def _step(self) -> None:
        now = self._clock.monotonic()
        self.health.note_errors(self.stats.decode_errors, now)
        session = self._session
        state = self._life.state
        if session is not None and state is S.CONNECTING:
            self._step_connecting(now, session)
        elif session is not None and state is S.STREAMING:
            self._step_streaming(now, session)
        elif state is S.BACKOFF and now >= self._deadline:
            self._connect()
        if self._life.state is not S.STOPPED:
            self._publish_if_due(now)

    def _step_connecting(self, now: float, session: Session) -> None:
        if session.frames:
            self._streaming_since = now
            self._life.transition(S.STREAMING, f"first frame after {now - session.started:.2f} s")
        elif session.ended:
            self._after_session(session, now)
        elif now > self._deadline:
            session.abandon()
            self._enter_backoff(SourceTimeout("no picture within "
                                              f"{now - session.started:.1f} s of connecting"))

    def _step_streaming(self, now: float, session: Session) -> None:
        if session.ended:
            self._after_session(session, now)
            return
        silent = now - (session.last_frame or session.started)
        if silent > self.camera.ingest.stall_after:
            session.abandon()
            self._life.transition(S.STALLED, f"no frame for {silent:.1f} s")
            self._enter_backoff(SourceTimeout(f"stalled for {silent:.1f} s"))

    def _after_session(self, session: Session, now: float) -> None:
        if session.error is None:
            self._life.transition(S.STOPPED, "end of file")
            return
        if self._life.state is S.STREAMING:
            if now - self._streaming_since >= self.STABLE_AFTER:
                self._attempt = 0
            if isinstance(session.error, SourceTimeout):
                self._life.transition(S.STALLED, str(session.error))
        self._enter_backoff(session.error)

    def _enter_backoff(self, error: SourceError) -> None:
        if isinstance(error, SourceRefused):
            delay = self._backoff.cap
        else:
            delay = self._backoff.delay(self._attempt)
        self._attempt += 1
        self._deadline = self._clock.monotonic() + delay
        self._life.transition(S.BACKOFF, f"{error}; retry in {delay:.1f} s")

    def _connect(self) -> None:
        if self._stop.is_set():
            return
        spec = SourceSpec.for_camera(self.camera)
        feed = self.ring if self._recorder is None else None
        source = open_source(spec, self._clock, self.stats, feed)
        session = Session(source, spec.url, self._clock, self._on_picture, self._wake.set)
        if self._session is not None:
            self.reconnects += 1
        self.health.reset_picture()
        opts = self.camera.ingest
        self._deadline = self._clock.monotonic() + opts.open_timeout + opts.stall_after
        self._session = session
        self._life.transition(S.CONNECTING, redact_url(spec.url))
        session.start(f"ingest-{self.camera.id}-{self.reconnects}")

    # -- decode thread ------------------------------------------------------------------

    def _on_picture(self, session: Session, picture: Picture) -> None:
        if session.abandoned or session is not self._session:
            return
        self._seq += 1
        self.stats.keyframes_only = self.meter.keyframes_only
        if self.meter.admit(picture.captured_at, self.stats.lag):
            self.slot.put(Frame(self.camera.id, self._seq, picture.captured_at, picture.image))
        self.health.observe(picture.image, picture.captured_at, self._clock.monotonic(),
                            picture.decode_ms)
        self._last_frame_at = picture.captured_at
        if session.frames == 1:
            self._wake.set()

    # -- statuses -----------------------------------------------------------------------

    def _health(self, now: float) -> CameraHealth:
        if self._life.state is S.STREAMING:
            return self.health.health(now)
        return CameraHealth.DEGRADED if self.health.degraded(now) else CameraHealth.UNKNOWN

    def _publish_if_due(self, now: float) -> None:
        health, at = self._published
        if self._health(now) is not health or now - at >= self.STATUS_EVERY:
            self._publish()

    def _changed(self, old: CameraState, new: CameraState, detail: str) -> None:
        self._publish()

    def _publish(self) -> None:
        status = self.status()
        self._published = (status.health, self._clock.monotonic())
        try:
            self._on_status(status)
        except Exception:
            log.exception("camera %s: status sink failed", self.camera.id)

    def _start_recorder(self) -> None:
        url = self.camera.evidence_url
        if self.ring is None or not url:
            return
        if is_file(url):
            log.warning("camera %s: evidence_url is a file; evidence comes from the decoded "
                        "stream instead", self.camera.id)
            return
        spec = SourceSpec.for_camera(self.camera, evidence=True)
        self._recorder = EvidenceRecorder(spec, self.ring, self._clock, self._backoff,
                                          name=f"ingest-{self.camera.id}-evidence")
        self._recorder.start()
