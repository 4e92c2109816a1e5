"""One camera's analytics: ``Frame`` in, ``Sighting``/``SceneEvent`` out.

The frame's journey (docs/architecture.md)::

    motion gate → detector → tracker ──→ zones / lines / dwell / crowd → SceneEvent
               → plate finder (whole frame) → plate tracker → reads due → consensus → Sighting
    every frame → tamper → SceneEvent(kind="tamper")

A worker process calls :func:`~analytics.pipeline_parts.load_parts` once, builds one
:class:`CameraPipeline` per camera, calls :meth:`CameraPipeline.process` for each decoded
frame and :meth:`CameraPipeline.flush` when the stream ends (or the camera is removed).
Everything here is synchronous; time is always ``frame.captured_at``.

**Motion gate.** When nothing moves the detector is skipped. The tracker is then left
alone while objects are visible (a car stopped at a barrier keeps its track: nothing moved,
so its last box is still right, and its plate is still read on schedule), and fed an empty
frame when nothing is visible, so tracks that left the picture end and their plate passes
are finalised without waiting for the next periodic detector run. A camera's
``detect_fps`` caps the detector further while something moves (frames in between are
treated like quiet ones); the plate search below is not capped by it, so a node can spend
its CPU on plates (README, "Node capacity").

**Plates** are found over the whole frame on every gated frame (at most every
``reads.find_interval`` s: every third frame at 25 fps, every frame at 10 fps or less), in
vehicle mode as in
checkpoint mode (``plates`` without ``vehicles``), and the plate boxes are tracked; the
recogniser reads the plate tracks due a read by :class:`~analytics.pipeline_reads.
ReadSchedule`, each plate at most once per frame. In vehicle mode a plate inside a tracked
vehicle's box gets that box in its evidence; it is never a condition for reading: reading
only inside confirmed vehicle tracks lost the few frames a fast car is in view at 5 fps
(3 of 24 passes read in the field check, 4 of 10 in ``bench/low_rate.py``). Reads go to
:class:`~analytics.consensus.PlateConsensus`, which emits the early and final sightings
of each pass (one confident read is enough for the early one) and merges a plate track
that split from its pass. The frame holding the heaviest read of a pass is kept (a
reference; frames are read-only) for its evidence picture, only while an
:class:`~analytics.evidence.EvidenceWriter` is configured.

**Low rates.** Both trackers associate by predicted position when a fast object's boxes
no longer overlap between frames 200 ms apart (``TrackerOptions.reach``,
:mod:`analytics.tracker_reach`), and plate tracks count from their first box
(``min_hits`` 1): at 5 fps a car crossing in 1.5 s is in 7 analysed frames, too few to
spend three on confirming a track.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from analytics.appearance import describe
from analytics.consensus import (
    ConsensusOptions,
    Emission,
    PassStage,
    PlateConsensus,
    WeightedRead,
)
from analytics.detector import Detector
from analytics.evidence import EvidenceOptions, EvidenceWriter, Overlay, clip_window
from analytics.motion import MotionGate, MotionOptions
from analytics.pipeline_parts import (
    SCENE_KINDS,
    VEHICLE_LABELS,
    PipelineParts,
    PlateSource,
    checkpoint_mode,
    needs_detector,
    needs_plates,
)
from analytics.pipeline_reads import (
    PLATE_LABEL,
    ReadOptions,
    ReadSchedule,
    StageTimes,
    assign_boxes,
    plate_detections,
    plate_read,
    vehicle_of,
)
from analytics.scene import SceneAnalyzer, SceneOptions
from analytics.tamper import TamperDetector, TamperOptions
from analytics.tracker import Tracker, TrackerOptions
from core.config.models import Camera
from core.messages import Box, Evidence, Frame, PlateRead, SceneEvent, Sighting, Track

log = logging.getLogger(__name__)

Output = Sighting | SceneEvent
VEHICLE_REACH = tuple((label, 8.0) for label in sorted(VEHICLE_LABELS))
"""Vehicles cross a picture at up to ~5 of their own widths a second (a car in view 1 s);
8 leaves room for a missed frame (:mod:`analytics.tracker_reach`)."""
PLATE_REACH = ((PLATE_LABEL, 15.0),)
"""A plate is about half as wide as its car, so it moves twice as many of its widths."""


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """Per-stage settings; the defaults suit 10–25 fps sub-streams."""

    motion_gate: bool = True
    appearance: bool = True
    """Colour descriptors of each detection for the object tracker (ids survive crossings
    and short occlusions better; ~0.04 ms per box, bench/detector.py). Computed here, in
    the worker that owns the pixels; the tracker only sees vectors."""
    motion: MotionOptions = field(default_factory=MotionOptions)
    tracker: TrackerOptions = field(
        default_factory=lambda: TrackerOptions(reach=VEHICLE_REACH))
    plate_tracker: TrackerOptions = field(
        default_factory=lambda: TrackerOptions(min_hits=1, reach=PLATE_REACH))
    reads: ReadOptions = field(default_factory=ReadOptions)
    consensus: ConsensusOptions = field(default_factory=ConsensusOptions)
    scene: SceneOptions = field(default_factory=SceneOptions)
    tamper: TamperOptions = field(default_factory=TamperOptions)
    evidence: EvidenceOptions = field(default_factory=EvidenceOptions)


@dataclass(frozen=True, slots=True)
class _Best:
    """The heaviest read of a track so far: where to take its evidence picture from."""

    weight: float
    seq: int
    plate_box: Box
    vehicle_box: Box | None
    frame: Frame | None


class CameraPipeline:
    """Analytics of one camera (module docstring). Not thread-safe: one thread per camera."""

    def __init__(self, camera: Camera, parts: PipelineParts,
                 evidence: EvidenceWriter | None = None,
                 options: PipelineOptions | None = None) -> None:
        self.camera = camera
        self.options = options or PipelineOptions()
        self.evidence = evidence
        opts = self.options
        self._detector: Detector | None = (
            parts.detector_for(camera) if needs_detector(camera) else None)
        self._reader: PlateSource | None = (
            parts.plate_reader(camera) if needs_plates(camera) else None)
        self._checkpoint = checkpoint_mode(camera)
        self._gate = MotionGate(opts.motion) if opts.motion_gate else None
        self._tracker = Tracker(camera.id, opts.tracker)
        self._plate_tracker = Tracker(camera.id, opts.plate_tracker)
        self._consensus = PlateConsensus(camera.id, opts.consensus)
        self._schedule = ReadSchedule(opts.reads)
        self._scene_kinds = {SCENE_KINDS[a] for a in camera.analytics if a in SCENE_KINDS}
        self._scene: SceneAnalyzer | None = None
        self._tamper = (TamperDetector(camera.id, opts.tamper)
                        if "tamper" in camera.analytics else None)
        self._visible: list[Track] = []
        self._plates_visible: list[Track] = []
        self._last_quiet_read: float | None = None
        self._last_find: float | None = None
        self._last_warm: float | None = None
        self._warm_until = float("-inf")
        self._last_detect: float | None = None
        self._best: dict[int, _Best] = {}
        self.times = StageTimes()

    def process(self, frame: Frame) -> list[Output]:
        """Analyse one frame; the sightings and scene events it caused (often none)."""
        self.times.frames += 1
        run = self._gate_says_run(frame)
        tracks = self._track(frame, run)
        out: list[Output] = []
        if self._reader is not None:
            out += self._read_plates(frame, run, tracks, self._reader)
        out += self._finish_passes(frame)
        out += self._scene_events(frame, tracks)
        if self._tamper is not None:
            with self.times.measure("tamper"):
                found = self._tamper.update(frame)
            out += [self._event_evidence(frame, e, []) for e in found]
        return out

    def flush(self, at: float) -> list[Output]:
        """End of stream at time ``at``: the final sighting of every open plate pass."""
        with self.times.measure("consensus"):
            emissions = self._consensus.flush(at)
        out: list[Output] = [self._sighting(e, None) for e in emissions]
        self._prune_best()
        return out

    def stats(self) -> dict[str, int]:
        """State sizes and counters, for metrics."""
        return {"tracks": self._tracker.active_count,
                "plate_tracks": self._plate_tracker.active_count,
                "passes": self._consensus.active_count,
                "motion_skipped": self._gate.skipped if self._gate is not None else 0,
                "frames_held": len(self._best),
                "frames": self.times.frames}

    def _gate_says_run(self, frame: Frame) -> bool:
        if self._gate is None or (self._detector is None and not self._checkpoint):
            return True
        with self.times.measure("motion"):
            return self._gate.check(frame).run

    def _detector_due(self, at: float) -> bool:
        """Whether the detector may run at ``at`` under the camera's ``detect_fps``."""
        rate = self.camera.detect_fps
        last = self._last_detect
        if rate is not None and last is not None and at - last < 1.0 / rate - 1e-6:
            return False
        self._last_detect = at
        return True

    def _track(self, frame: Frame, run: bool) -> list[Track]:
        """Detector + tracker when the gate runs (and ``detect_fps`` allows); otherwise the
        still-visible tracks, as on a quiet frame."""
        if self._detector is None:
            return []
        at = frame.captured_at
        if run and self._detector_due(at):
            with self.times.measure("detect"):
                detections = self._detector.detect(frame)
            with self.times.measure("track"):
                looks = (describe(frame.image, [d.box for d in detections])
                         if self.options.appearance else None)
                self._visible = self._tracker.update(detections, at, looks)
        elif not self._visible:
            with self.times.measure("track"):
                self._tracker.update([], at)
        return self._visible

    def _read_plates(self, frame: Frame, run: bool, vehicles: list[Track],
                     reader: PlateSource) -> list[Output]:
        """Plates over the whole frame, their boxes tracked, those due a read read.

        When the gate is quiet, plates still in view are looked for every
        ``reads.interval`` seconds (a car waiting at a barrier) and an empty picture lets
        plate tracks end."""
        at = frame.captured_at
        if not run:
            if not self._plates_visible:
                with self.times.measure("track"):
                    self._plate_tracker.update([], at)
                return []
            last = self._last_quiet_read
            if last is not None and at - last < self.options.reads.interval:
                return []
            self._last_quiet_read = at
        elif (self._last_find is not None
              and at - self._last_find < self.options.reads.find_interval - 1e-6):
            return []
        self._last_find = at
        with self.times.measure("plate"):
            found = reader.find(frame.image)
            if not found and run and self._warm_look_due(at):
                found = reader.find(frame.image, warm=True)
                if found:  # a white or black plate in view: look warm on every frame
                    self._warm_until = at + self.options.reads.warm_hold
        with self.times.measure("track"):
            tracks = self._plate_tracker.update(plate_detections(found), at)
        self._plates_visible = tracks
        due = [(i, track) for i, track in assign_boxes([p.box for p in found], tracks)
               if self._schedule.take(track.track_id, at,
                                      self._consensus.stage(track.track_id))]
        if not due:
            return []
        with self.times.measure("plate"):
            results = reader.read_found(frame.image, [found[i] for i, _ in due])
        owner = {found[i].box: track.track_id for i, track in due}
        out: list[Output] = []
        for result in results:
            read = plate_read(result, owner[result.box], frame.seq)
            if read is not None:
                out += self._add_read(frame, read, vehicle_of(read.box, vehicles))
        return out

    def _warm_look_due(self, at: float) -> bool:
        """Whether a moving frame in which the plain search found no plate gets a second
        search in the warmed picture (white and black plates, analytics.plates.warmed);
        at most one per ``reads.warm_interval`` s, because it costs a whole search, but on
        every such frame for ``reads.warm_hold`` s after one found a plate (so its track
        gets a box each frame while it is in view)."""
        interval = self.options.reads.warm_interval
        last = self._last_warm
        if interval <= 0:
            return False
        if at >= self._warm_until and last is not None and at - last < interval - 1e-6:
            return False
        self._last_warm = at
        return True

    def _add_read(self, frame: Frame, read: PlateRead, vehicle_box: Box | None) -> list[Output]:
        if self._consensus.stage(read.track_id) is PassStage.CLOSED:
            return []  # a plate still in view after its final (max duration): nothing new
        with self.times.measure("consensus"):
            emissions = self._consensus.add(read, frame.captured_at)
        key = self._consensus.pass_of(read.track_id)  # a split track joins its pass
        weight = WeightedRead(read, frame.captured_at).weight
        best = self._best.get(key)
        if best is None or weight > best.weight:
            kept = frame if self.evidence is not None else None
            self._best[key] = _Best(weight, frame.seq, read.box, vehicle_box, kept)
        return [self._sighting(e, frame) for e in emissions]

    def _finish_passes(self, frame: Frame) -> list[Output]:
        """Finals of ended plate tracks and of passes that ran too long or went idle. Both
        trackers' ended lists are drained every frame, plates or not, to stay bounded
        (vehicle tracks own no pass: their ids are another tracker's)."""
        self._tracker.ended()
        ended = self._plate_tracker.ended()
        if self._reader is None:
            return []
        with self.times.measure("consensus"):
            emissions: list[Emission] = []
            for track in ended:
                self._schedule.forget(track.track_id)
                emissions += self._consensus.end(track.track_id, track.last_seen)
            emissions += self._consensus.expire(frame.captured_at)
        out: list[Output] = [self._sighting(e, frame) for e in emissions]
        self._prune_best()
        return out

    def _prune_best(self) -> None:
        """Passes closed without a sighting keep no frame (bounds the frames held)."""
        for track_id in [t for t in self._best
                         if self._consensus.stage(t) not in (PassStage.READING, PassStage.EARLY)]:
            del self._best[track_id]

    def _sighting(self, emission: Emission, frame: Frame | None) -> Sighting:
        """The emitted sighting with its evidence (written when a writer is configured)."""
        sighting = emission.sighting
        best = self._best.get(emission.track_id)
        if sighting.final:
            self._best.pop(emission.track_id, None)
        if best is None:
            best = _Best(0.0, emission.best.frame_seq, emission.best.box, None, frame)
        picture = best.frame
        if self.evidence is not None and picture is not None:
            with self.times.measure("evidence"):
                evidence = self.evidence.sighting(picture, sighting, best.plate_box,
                                                  best.vehicle_box)
        else:
            clip_from, clip_to = clip_window(sighting.first_seen, sighting.last_seen,
                                             self.options.evidence)
            evidence = Evidence(clip_from=clip_from, clip_to=clip_to, frame_seq=best.seq,
                                box=best.plate_box)
        return dataclasses.replace(sighting, evidence=evidence)

    def _scene_events(self, frame: Frame, tracks: list[Track]) -> list[Output]:
        if not self._scene_kinds:
            return []
        height, width = frame.image.shape[:2]
        if self._scene is None or self._scene.frame_size != (width, height):
            self._scene = SceneAnalyzer(self.camera.id, self.camera.zones, self.camera.lines,
                                        (width, height), self.options.scene)
        with self.times.measure("scene"):
            found = self._scene.update(tracks, frame.captured_at)
        boxes = {t.track_id: t.box for t in tracks}
        return [self._event_evidence(frame, e, [boxes[i] for i in e.track_ids if i in boxes])
                for e in found if e.kind in self._scene_kinds]

    def _event_evidence(self, frame: Frame, event: SceneEvent, boxes: list[Box]) -> SceneEvent:
        """``event`` with its snapshot written (when configured) and its clip widened."""
        if self.evidence is not None:
            overlay = Overlay(self.camera.zones, self.camera.lines, event.zone, tuple(boxes))
            with self.times.measure("evidence"):
                evidence = self.evidence.event(frame, event, overlay)
        else:
            first = event.evidence.clip_from if event.evidence.clip_from is not None \
                else event.at
            last = event.evidence.clip_to if event.evidence.clip_to is not None else event.at
            clip_from, clip_to = clip_window(first, last, self.options.evidence)
            evidence = dataclasses.replace(event.evidence, clip_from=clip_from,
                                           clip_to=clip_to, frame_seq=frame.seq)
        return dataclasses.replace(event, evidence=evidence)
