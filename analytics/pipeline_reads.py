"""Small pure helpers of the camera pipeline: when to read a plate, which plate belongs to
which track, and how long each stage took.

Finding the plates of a D1 frame costs about 7 ms on one core, reading (recognising) each
found plate about 13 ms more. The pipeline finds plates on every analysed frame and
tracks the boxes, then :class:`ReadSchedule` spends the recogniser where it helps the
vote: a plate track is read every ``interval`` seconds until the consensus is confident
(at 25 fps every fourth frame, so three agreeing reads take 0.32 s; at 5 fps every
frame), every ``confident_interval`` seconds after the early sighting (to refine the final
plate), not at all once its pass is closed, and at most ``max_attempts`` times.
Time-based, not frame-based, so a 25 fps and a 5 fps stream spend alike per second of
traffic, and a low rate loses no read it could have had.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from analytics.consensus import PassStage
from analytics.geometry import iou_matrix
from analytics.plates import PlateResult
from analytics.plates_detect import PlateBox
from core.messages import Box, Detection, PlateRead, Track

PLATE_LABEL = "plate"
"""The tracker label of plate boxes in checkpoint mode."""
_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Plate read budget per track (module docstring); ``max_tracks`` bounds the state."""

    interval: float = 0.15
    find_interval: float = 0.1
    """Least time between two whole-frame plate searches: at 25 fps every third frame (a
    720p search costs about 20 ms), at 10 fps or less every frame."""
    warm_interval: float = 0.5
    """Least time between two second searches in the warmed picture (white and black
    plates the plain search misses; only on moving frames where it found none); 0 = never."""
    warm_hold: float = 1.0
    """After a warm search found a plate, every such frame is searched warm for this long."""
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

    def take(self, track_id: int, at: float, stage: PassStage) -> bool:
        """True (and counted) when ``track_id`` is due a read at ``at``, a track whose
        pass is at ``stage``."""
        if stage is PassStage.CLOSED:
            return False
        found = self._tracks.get(track_id)
        if found is None:
            if len(self._tracks) >= self.options.max_tracks:
                self._tracks.popitem(last=False)
            self._tracks[track_id] = _Attempts(at, 1)
            return True
        if found.count >= self.options.max_attempts:
            return False
        gap = self.options.confident_interval if stage is PassStage.EARLY \
            else self.options.interval
        if at - found.last < gap - _EPSILON:
            return False
        found.last, found.count = at, found.count + 1
        self._tracks.move_to_end(track_id)
        return True

    def forget(self, track_id: int) -> None:
        """The track ended: drop its state."""
        self._tracks.pop(track_id, None)


def plate_detections(found: Sequence[PlateBox]) -> list[Detection]:
    """Plates found over the frame as detections for the plate tracker."""
    return [Detection(PLATE_LABEL, p.score, p.box) for p in found]


def assign_boxes(boxes: Sequence[Box], tracks: Sequence[Track],
                 min_iou: float = 0.3) -> list[tuple[int, Track]]:
    """(box index, track) for each plate box and the track (this frame's, from the plate
    tracker) it overlaps most (IoU ≥ ``min_iou``), best overlaps first, each side once.
    Boxes with no track (not confirmed yet) are left out."""
    if not boxes or not tracks:
        return []
    iou = iou_matrix(list(boxes), [t.box for t in tracks])
    pairs = sorted(((float(iou[i, j]), i, j) for i, j in zip(*np.nonzero(iou >= min_iou),
                                                             strict=True)), reverse=True)
    used_boxes: set[int] = set()
    used_tracks: set[int] = set()
    out: list[tuple[int, Track]] = []
    for _, i, j in pairs:
        if i in used_boxes or j in used_tracks:
            continue
        used_boxes.add(i)
        used_tracks.add(j)
        out.append((int(i), tracks[j]))
    return out


def plate_read(result: PlateResult, track_id: int, frame_seq: int) -> PlateRead | None:
    """The consensus input for one read plate; ``None`` when the text is no valid plate."""
    plate = result.plate
    if not plate.valid:
        return None
    return PlateRead(track_id, plate.text, plate.confidence, plate.char_confidences,
                     plate.color, frame_seq, result.box)


def vehicle_of(plate: Box, vehicles: Sequence[Track]) -> Box | None:
    """The box of the smallest vehicle track whose box holds the plate's centre: the
    vehicle of the evidence picture, when one is tracked (a bonus, not a condition)."""
    cx, cy = (plate[0] + plate[2]) / 2, (plate[1] + plate[3]) / 2
    holding = [t.box for t in vehicles if t.box[0] <= cx <= t.box[2]
               and t.box[1] <= cy <= t.box[3]]
    return min(holding, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])) if holding else None


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
