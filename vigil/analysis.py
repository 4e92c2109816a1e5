"""Analytics inside the ingest worker processes (the frame consumer ``vigil run`` installs).

Built in each worker process by :func:`make_host`: it loads the models its cameras need
once (shared by every camera of the process), runs one :class:`CameraPipeline` thread per
camera that takes the newest frame from the camera's slot, and publishes the sightings
and scene events on the bus. When a pass or event is over, the clip between its
``clip_from`` and ``clip_to`` is cut from the camera's packet ring by remuxing.

A missing model never crashes a stream: the camera keeps streaming, the analytics that
need that model are off (a missing detector leaves checkpoint plates running, so the demo
camera still reads plates without the model pack), and the log names the file and the
install command (``vigil run`` also checks this at start-up, before any camera opens).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import cv2

from analytics.evidence import EvidenceWriter
from analytics.pipeline import CameraPipeline
from analytics.pipeline_parts import (
    DETECTOR_ANALYTICS,
    PipelineParts,
    load_parts,
    needs_detector,
    needs_plates,
    reader_options,
)
from core import topics
from core.clock import Clock, SystemClock
from core.config.models import Camera, ModelOptions
from core.errors import ModelError
from core.messages import Evidence, Frame, SceneEvent, Sighting
from core.topics import Topic
from ingest.worker import CameraWorker
from vigil.publisher import LoopThread

log = logging.getLogger(__name__)
Observed = TypeVar("Observed", Sighting, SceneEvent)
"""What analysis publishes: a sighting or a scene event, each on its own topic."""
CLIP_GRACE = 1.0
"""Seconds after ``clip_to`` before the clip is cut (packets still arriving)."""
LIVE_INTERVAL = 1.0
LIVE_WIDTH = 640


def write_live_jpeg(directory: Path, frame: Frame) -> None:
    height, width = frame.image.shape[:2]
    image: Any = frame.image
    if width > LIVE_WIDTH:
        image = cv2.resize(image, (LIVE_WIDTH, height * LIVE_WIDTH // width),
                           interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 75])
    if not ok:
        return
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{frame.camera_id}.jpg.tmp"
    tmp.write_bytes(data.tobytes())
    tmp.replace(directory / f"{frame.camera_id}.jpg")


def clip_path(evidence: Evidence, key: str, camera_id: str) -> str:
    """The clip beside the snapshot (relative to the evidence dir), named by the sighting or
    event id so the early and the final emission of a pass point at the same file."""
    folder = evidence.snapshot.rsplit("/", 1)[0] if evidence.snapshot else f"{camera_id}/clips"
    return f"{folder}/{key}_clip.mp4"


class _CameraRun:
    """One camera's analysis thread."""

    def __init__(self, host: AnalysisHost, worker: CameraWorker,
                 pipeline: CameraPipeline | None) -> None:
        self.host, self.worker, self.pipeline = host, worker, pipeline
        self.live_at = 0.0
        self.stop = threading.Event()
        self.clips: list[tuple[float, str, float, float]] = []
        self.thread = threading.Thread(target=self._loop, daemon=True,
                                       name=f"analytics-{worker.camera.id}")

    def _loop(self) -> None:
        slot, cid = self.worker.slot, self.worker.camera.id
        while not self.stop.is_set() and slot is not None:
            frame = slot.take(timeout=0.5)
            self.worker.meter.publish_pending = self.host.pending()
            try:
                if frame is not None:
                    self._live(frame)
                outputs = self._analyse(frame) if frame and self.pipeline else []
                for message in outputs:
                    self._emit(message)
                self._cut_due_clips()
            except Exception:  # one bad frame must not end the camera's analytics
                log.exception("camera %s: analytics failed on a frame", cid)
        for message in self.pipeline.flush(self.host.clock.now()) if self.pipeline else []:
            self._emit(message)

    def _analyse(self, frame: Frame) -> list[Sighting | SceneEvent]:
        """Run the pipeline on ``frame`` and tell the camera's meter what it cost (stage
        times are the growth of the pipeline's own ``times`` over this frame), which also
        drives load shedding (ingest/shedding.py)."""
        assert self.pipeline is not None
        meter, times = self.worker.meter, self.pipeline.times.seconds
        before = dict(times)
        meter.begin(frame.captured_at)
        try:
            return list(self.pipeline.process(frame))
        finally:
            meter.end({k: v - before.get(k, 0.0) for k, v in times.items()})

    def _live(self, frame: Frame) -> None:
        """The camera wall's picture: a small JPEG, replaced atomically about once a second."""
        if frame.captured_at - self.live_at < LIVE_INTERVAL:
            return
        self.live_at = frame.captured_at
        write_live_jpeg(self.host.live_dir, frame)

    def _emit(self, message: Sighting | SceneEvent) -> None:
        ev = message.evidence
        key = message.sighting_id if isinstance(message, Sighting) else message.event_id
        start, end = ev.clip_from, ev.clip_to
        if start is not None and end is not None and self.worker.ring is not None:
            clip = ev.clip or clip_path(ev, key, self.worker.camera.id)
            message = replace(message, evidence=replace(ev, clip=clip))
            if not isinstance(message, Sighting) or message.final:
                self.clips.append((end + CLIP_GRACE, clip, start, end))
        if isinstance(message, Sighting):
            self.host.publish(topics.SIGHTINGS, message)
        else:
            self.host.publish(topics.EVENTS, message)

    def _cut_due_clips(self) -> None:
        now = self.host.clock.now()
        due = [c for c in self.clips if c[0] <= now]
        if not due or self.worker.ring is None:
            return
        self.clips = [c for c in self.clips if c[0] > now]
        for _, rel, start, end in due:
            path = self.host.evidence_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.worker.ring.write_clip(path, start, end)
            except (LookupError, OSError) as exc:
                log.warning("camera %s: clip %s not cut: %s", self.worker.camera.id, rel, exc)


class AnalysisHost:
    """The :class:`ingest.consumer.FrameConsumer` of one worker process.

    ``clock`` says when a pass is flushed and a clip is due (docs/architecture.md: "now"
    comes from a Clock); the worker process gets the system clock, a test may hand in a
    :class:`core.clock.FakeClock`."""

    def __init__(self, options: dict[str, Any], clock: Clock | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.model_dir = Path(str(options["model_dir"]))
        self.evidence_dir = Path(str(options["evidence_dir"]))
        self.live_dir = Path(str(options["live_dir"]))
        self._bus_url = str(options["bus"])
        self._detector = str(options.get("detector", "onnx"))
        self._reader = reader_options(ModelOptions.model_validate(
            {key: options[key] for key in ("plate_detector", "plate_recogniser",
                                       "plate_second_opinion")
             if key in options}))
        self._lock = threading.Lock()
        self._bus: LoopThread | None = None
        self._parts = PipelineParts()
        self._failed: set[str] = set()
        self._runs: dict[str, _CameraRun] = {}

    def pending(self) -> int:
        """Messages waiting in this process's bus publisher (0 before the first)."""
        bus = self._bus
        return bus.publisher.pending if bus is not None else 0

    def publish(self, topic: Topic[Observed], message: Observed) -> None:
        with self._lock:
            if self._bus is None:
                self._bus = LoopThread(self._bus_url)
            bus = self._bus
        bus.publisher.submit(topic, message)

    def _load(self, part: str) -> None:
        """Load one part (``plates`` or ``detector``) once per process. A failure is logged
        once and remembered, so the next camera does not retry a missing file."""
        if part in self._failed:
            return
        try:
            loaded = load_parts(self.model_dir, part == "plates", part == "detector",
                                self._detector, self._reader)
        except ModelError as exc:
            self._failed.add(part)
            log.error("analytics that need the %s are off: %s", part, exc)
            return
        self._parts = PipelineParts(loaded.detector or self._parts.detector,
                                    loaded.plates or self._parts.plates)

    def runnable(self, camera: Camera) -> Camera:
        """``camera`` with the analytics whose model could not be loaded left out: a
        missing detector turns off the scene analytics (and vehicle-mode plates, which read
        inside vehicle boxes), not the checkpoint plates of the same camera."""
        if needs_plates(camera) and self._parts.plates is None:
            self._load("plates")
        if needs_detector(camera) and self._parts.detector is None:
            self._load("detector")
        dropped: set[str] = set()
        if needs_plates(camera) and self._parts.plates is None:
            dropped.add("plates")
        if needs_detector(camera) and self._parts.detector is None:
            dropped |= DETECTOR_ANALYTICS
            if "vehicles" in camera.analytics:
                dropped.add("plates")
        off = [a for a in camera.analytics if a in dropped]
        if not off:
            return camera
        keep = [a for a in camera.analytics if a not in dropped]
        log.warning("camera %s: analytics %s off (model missing, see above); %s",
                    camera.id, ",".join(off),
                    f"{','.join(keep)} still running" if keep else "nothing else to run")
        return camera.model_copy(update={"analytics": keep})

    def _pipeline(self, worker: CameraWorker) -> CameraPipeline | None:
        if not worker.camera.analytics:
            return None
        with self._lock:
            camera = self.runnable(worker.camera)
            parts = self._parts
        if not camera.analytics:
            return None
        try:
            pipeline = CameraPipeline(camera, parts, EvidenceWriter(self.evidence_dir))
        except ModelError as exc:
            log.error("camera %s: analytics off: %s", camera.id, exc)
            return None
        log.info("camera %s: analytics %s running", camera.id, ",".join(camera.analytics))
        return pipeline

    def camera_started(self, worker: CameraWorker) -> None:
        if not worker.camera.enabled:
            return
        run = _CameraRun(self, worker, self._pipeline(worker))
        self._runs[worker.camera.id] = run
        run.thread.start()

    def camera_stopped(self, camera_id: str) -> None:
        run = self._runs.pop(camera_id, None)
        if run is not None:
            run.stop.set()
            run.thread.join(5.0)

    def close(self) -> None:
        for camera_id in list(self._runs):
            self.camera_stopped(camera_id)
        if self._bus is not None:
            self._bus.close()


def make_host(options: dict[str, Any]) -> AnalysisHost:
    """The ``ConsumerSpec`` factory ``vigil run`` hands ingest (``vigil.run.analysis_spec``).

    A module-level function on purpose: worker processes are spawned, so the spec reaches
    them pickled, and pickle sends a function as ``vigil.analysis.make_host``, imported
    again in each worker (``ingest.consumer.check_picklable`` refuses anything else).

    OpenCV is held to one thread here, as onnxruntime is (analytics/runtime.py): a worker
    process already runs a decode and an analysis thread per camera, so OpenCV's own
    thread pool only adds hand-offs between threads that compete for the same cores."""
    cv2.setNumThreads(1)
    return AnalysisHost(options)
