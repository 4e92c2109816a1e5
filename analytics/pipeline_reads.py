"""Small pure helpers of the camera pipeline: when to read a plate, which plate belongs to
which track, and how long each stage took.

Reading a plate costs about 13 ms per vehicle box on one core (detector on the box, then
the recogniser), more than the rest of the pipeline per frame. :class:`ReadSchedule` spends
that budget where it helps the vote: a read every ``interval`` seconds until the consensus
is confident (at 25 fps that is every fourth frame, so three agreeing reads take 0.32 s;
at 10 fps every second frame, 0.4 s), every
``confident_interval`` seconds after the early sighting (to refine the final plate), none
once the pass is closed, and at most ``max_attempts`` per track. Time-based, not
frame-based, so a 25 fps and a 10 fps stream spend the same per second of traffic.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from analytics.geometry import iou_matrix
from analytics.plates import PlateResult
from core.messages import Detection, PlateRead, Track

PLATE_LABEL = "plate"
"""The tracker label of plate boxes in checkpoint mode."""
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Plate read budget per track (module docstring); ``max_tracks`` bounds the state."""

    interval: float = 0.15
    confident_interval: float = 0.5
    max_attempts: int = 40
    max_tracks: int = 256


@dataclass(slots=True)
class _Attempts:
    last: float
    count: int


class ReadSchedule:
    """Per-track read attempts; :meth:`take` says whether to read now and records it."""

    def __init__(self, options: ReadOptions | None = None) -> None:
        self.options = options or ReadOptions()
        self._tracks: OrderedDict[int, _Attempts] = OrderedDict()

    def take(self, track_id: int, at: float, stage: str) -> bool:
        """True (and counted) when ``track_id`` is due a read at ``at``; ``stage`` is the
        consensus stage (``new``, ``reading``, ``early``, ``closed``)."""
        if stage == "closed":
            return False
        found = self._tracks.get(track_id)
        if found is None:
            if len(self._tracks) >= self.options.max_tracks:
                self._tracks.popitem(last=False)
            self._tracks[track_id] = _Attempts(at, 1)
            return True
        if found.count >= self.options.max_attempts:
            return False
        gap = self.options.confident_interval if stage == "early" else self.options.interval
        if at - found.last < gap - _EPSILON:
            return False
        found.last, found.count = at, found.count + 1
        self._tracks.move_to_end(track_id)
        return True

    def forget(self, track_id: int) -> None:
        """The track ended: drop its state."""
        self._tracks.pop(track_id, None)


def plate_detections(results: Sequence[PlateResult]) -> list[Detection]:
    """Checkpoint mode: plates found over the frame as detections for the plate tracker."""
    return [Detection(PLATE_LABEL, r.detection_score, r.box) for r in results]


def assign_reads(results: Sequence[PlateResult], tracks: Sequence[Track], frame_seq: int,
                 min_iou: float = 0.3) -> list[PlateRead]:
    """Checkpoint mode: a ``PlateRead`` for each valid plate result, carrying the id of the
    plate track it overlaps most (IoU ≥ ``min_iou``), best overlaps first, each track once.
    Results with no confirmed track yet are dropped (the tracker confirms in 3 frames)."""
    if not results or not tracks:
        return []
    iou = iou_matrix([r.box for r in results], [t.box for t in tracks])
    pairs = sorted(((float(iou[i, j]), i, j) for i, j in zip(*np.nonzero(iou >= min_iou),
                                                             strict=True)), reverse=True)
    used_results: set[int] = set()
    used_tracks: set[int] = set()
    reads: list[PlateRead] = []
    for _, i, j in pairs:
        if i in used_results or j in used_tracks:
            continue
        used_results.add(i)
        used_tracks.add(j)
        plate = results[i].plate
        if plate.valid:
            reads.append(PlateRead(tracks[j].track_id, plate.text, plate.confidence,
                                   plate.char_confidences, plate.color, frame_seq,
                                   results[i].box))
    return reads


class StageTimes:
    """Wall time spent per pipeline stage (seconds) and frames processed: for metrics
    (stable stage names) and ``bench/pipeline.py``. Measuring, not deciding: no decision
    ever reads these."""

    STAGES = ("motion", "detect", "track", "plate", "consensus", "scene", "tamper",
              "evidence")

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(self.STAGES, 0.0)
        self.frames = 0

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Add the time spent inside the ``with`` block to ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started

    def per_frame_ms(self) -> dict[str, float]:
        """Mean milliseconds per processed frame, by stage."""
        frames = max(1, self.frames)
        return {stage: total * 1000 / frames for stage, total in self.seconds.items()}
