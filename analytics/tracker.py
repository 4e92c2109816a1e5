"""Multi-object tracker in the ByteTrack style: detections → tracks with stable ids.

Why ByteTrack: a person half hidden behind a lamp post still produces a *low*-score
detection; discarding it (as a plain score threshold does) breaks the track and gives the
person a new id. ByteTrack associates in two stages:

1. confirmed and lost tracks ↔ high-score detections (IoU ≥ ``match_iou``);
2. remaining confirmed tracks ↔ low-score detections (IoU ≥ ``low_match_iou``) — these
   only *continue* tracks, never start them;
3. tentative tracks ↔ leftover high detections; leftovers ≥ ``new_track_score`` start
   tentative tracks, which are confirmed after ``min_hits`` consecutive hits.

Each track predicts its box with a constant-velocity alpha-beta filter (velocity in pixels
per second, so frame-rate changes and dropped frames are handled by ``dt``). Unmatched
confirmed tracks are *lost* and kept ``max_age`` seconds to be re-found, then ended.
Associations use an optimal assignment (:func:`min_cost_assignment`) on ``1 − IoU``,
only between boxes of the same label.

The tracker is pure: no clock, no I/O; ``at`` is the frame's capture time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from analytics.geometry import iou_matrix
from core.messages import Box, Detection, Track

FloatArray = npt.NDArray[np.float64]
INFEASIBLE = 1e6


def min_cost_assignment(cost: npt.ArrayLike) -> list[tuple[int, int]]:
    """Optimal row↔column assignment minimising total cost (Hungarian, O(n²m)).

    Shortest augmenting paths with row/column potentials; rectangular matrices are handled
    by assigning every row of the shorter side. Returns ``(row, col)`` pairs sorted by row.
    """
    matrix = np.asarray(cost, dtype=np.float64)
    rows, cols = matrix.shape
    if rows == 0 or cols == 0:
        return []
    if rows > cols:
        return sorted((r, c) for c, r in min_cost_assignment(matrix.T))
    u, v = np.zeros(rows + 1), np.zeros(cols + 1)
    owner = np.zeros(cols + 1, dtype=np.intp)  # owner[j] = 1-based row holding column j
    for row in range(1, rows + 1):
        _augment(matrix, row, (u, v), owner)
    return sorted((int(owner[j]) - 1, j - 1) for j in range(1, cols + 1) if owner[j])


def _augment(matrix: FloatArray, row: int, potentials: tuple[FloatArray, FloatArray],
             owner: npt.NDArray[np.intp]) -> None:
    """Add ``row`` to the matching along a shortest augmenting path (updates in place)."""
    u, v = potentials
    cols = matrix.shape[1]
    owner[0] = row
    col = 0
    slack = np.full(cols + 1, np.inf)
    came_from = np.zeros(cols + 1, dtype=np.intp)
    used = np.zeros(cols + 1, dtype=bool)
    while True:
        used[col] = True
        current = owner[col]
        reduced = matrix[current - 1] - u[current] - v[1:]
        free = ~used[1:]
        better = free & (reduced < slack[1:])
        slack[1:][better] = reduced[better]
        came_from[1:][better] = col
        candidates = np.where(free, slack[1:], np.inf)
        nxt = int(np.argmin(candidates)) + 1
        delta = candidates[nxt - 1]
        u[owner[used]] += delta
        v[used] -= delta
        slack[~used] -= delta
        col = nxt
        if owner[col] == 0:
            break
    while col:
        prev = came_from[col]
        owner[col] = owner[prev]
        col = prev


def match(tracks_boxes: FloatArray, det_boxes: FloatArray, same_label: npt.NDArray[np.bool_],
          min_iou: float) -> list[tuple[int, int]]:
    """Track↔detection pairs maximising total IoU, each pair with IoU ≥ ``min_iou``."""
    iou = iou_matrix(tracks_boxes, det_boxes)
    feasible = same_label & (iou >= min_iou)
    cost = np.where(feasible, 1.0 - iou, INFEASIBLE)
    return [(t, d) for t, d in min_cost_assignment(cost) if feasible[t, d]]


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """ByteTrack thresholds; times in seconds (of ``at``), not frames.

    ``alpha``/``beta`` are the position/velocity gains of the alpha-beta filter: 0.66 and
    0.07 are the steady-state Kalman gains of ByteTrack's own noise model (position and
    measurement noise h/20, velocity noise h/160 per frame), so the filter behaves like
    ByteTrack's Kalman filter once a track is a few frames old, without its matrices.
    """

    high_score: float = 0.5
    low_score: float = 0.1
    new_track_score: float = 0.6
    match_iou: float = 0.2
    low_match_iou: float = 0.5
    tentative_iou: float = 0.3
    min_hits: int = 3
    max_age: float = 3.0
    max_tracks: int = 256
    alpha: float = 0.66
    beta: float = 0.07


@dataclass(slots=True, eq=False)
class _State:
    """A track's mutable filter state (internal; published as a frozen ``Track``).

    Compared by identity (``eq=False``): two states are never "equal", and comparing
    numpy fields would be ambiguous anyway.
    """

    track_id: int
    label: str
    box: FloatArray  # cx, cy, w, h
    first_seen: float
    last_seen: float
    updated: float
    velocity: FloatArray = field(default_factory=lambda: np.zeros(2))
    hits: int = 1
    confirmed: bool = False
    lost: bool = False

    def predicted(self, at: float) -> FloatArray:
        """Centre moved by velocity × elapsed time; size unchanged."""
        out = self.box.copy()
        out[:2] += self.velocity * max(0.0, at - self.updated)
        return out

    def correct(self, measured: FloatArray, at: float, options: TrackerOptions) -> None:
        """Alpha-beta update of centre/size and velocity from a matched detection."""
        dt = at - self.updated
        prior = self.predicted(at)
        residual = measured - prior
        self.hits += 1
        alpha, beta = _gains(self.hits, options)
        self.box = prior + alpha * residual
        if dt > 0:
            self.velocity = self.velocity + beta * residual[:2] / dt
        self.updated = self.last_seen = at
        if self.hits >= options.min_hits:
            self.confirmed = True

    def as_track(self, camera_id: str) -> Track:
        cx, cy, w, h = (float(x) for x in self.box)
        return Track(self.track_id, camera_id, self.label,
                     (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2),
                     self.first_seen, self.last_seen)


def _gains(measurements: int, options: TrackerOptions) -> tuple[float, float]:
    """Gains for the n-th measurement: the least-squares line fit through all n points
    (α = 2(2n−1)/(n(n+1)), β = 6/(n(n+1))) until that drops below the steady-state gains.

    A young track has no velocity yet; with the steady-state β alone it would need ~15
    frames to learn a walker's speed and would lose anyone occluded early on. The
    expanding-memory start is what a Kalman filter's large initial covariance does too.
    """
    n = measurements
    return (max(options.alpha, 2.0 * (2 * n - 1) / (n * (n + 1))),
            max(options.beta, 6.0 / (n * (n + 1))))


def _cxcywh(box: Box) -> FloatArray:
    x1, y1, x2, y2 = box
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1])


def _xyxy(states: list[_State], at: float) -> FloatArray:
    if not states:
        return np.zeros((0, 4))
    boxes = np.stack([s.predicted(at) for s in states])
    return np.concatenate((boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2), 1)


class Tracker:
    """Per-camera tracker: ``update(detections, at) -> list[Track]`` (confirmed, seen now).

    State is bounded by ``max_tracks``: when full, the oldest lost track is evicted first;
    if every slot is an active track, new detections are not tracked and ``refused``
    counts them. ``ended()`` hands over confirmed tracks that finished since the last call.
    """

    def __init__(self, camera_id: str, options: TrackerOptions | None = None) -> None:
        self.camera_id = camera_id
        self.options = options or TrackerOptions()
        self._states: list[_State] = []
        self._ended: list[Track] = []
        self._ids = itertools.count(1)
        self._last_at: float | None = None
        self.refused = 0

    def update(self, detections: list[Detection], at: float) -> list[Track]:
        """Advance to time ``at`` with this frame's detections; returns confirmed tracks
        matched in this frame. A time earlier than the previous call is treated as equal
        (no negative motion), so a clock step cannot corrupt the velocities."""
        if self._last_at is not None:
            at = max(at, self._last_at)
        self._last_at = at
        opts = self.options
        high = [d for d in detections if d.score >= opts.high_score]
        low = [d for d in detections if opts.low_score <= d.score < opts.high_score]
        active = [s for s in self._states if s.confirmed]
        tentative = [s for s in self._states if not s.confirmed]
        seen, high_left = self._associate(active, high, at, opts.match_iou)
        tracked = [s for s in active if id(s) not in seen and not s.lost]
        seen |= self._associate(tracked, low, at, opts.low_match_iou)[0]
        confirmed_now, high_left = self._associate(tentative, high_left, at, opts.tentative_iou)
        seen |= confirmed_now
        for state in self._states:
            state.lost = id(state) not in seen
        self._states = [s for s in self._states if s.confirmed or id(s) in seen]
        self._expire(at)
        started = self._start(high_left, at)
        return [s.as_track(self.camera_id) for s in self._states
                if s.confirmed and (id(s) in seen or s in started)]

    def ended(self) -> list[Track]:
        """Confirmed tracks that ended (lost longer than ``max_age`` or evicted) since the
        last call; each is handed over once, e.g. to finalise a plate vote."""
        out, self._ended = self._ended, []
        return out

    @property
    def active_count(self) -> int:
        """Tracks currently held (tentative, confirmed and lost): bounded by ``max_tracks``."""
        return len(self._states)

    def _expire(self, at: float) -> None:
        """End lost tracks not seen for more than ``max_age`` seconds."""
        keep: list[_State] = []
        for state in self._states:
            if state.lost and at - state.last_seen > self.options.max_age:
                self._ended.append(state.as_track(self.camera_id))
            else:
                keep.append(state)
        self._states = keep

    def _start(self, detections: list[Detection], at: float) -> list[_State]:
        """Start tentative tracks from unmatched confident detections, within the bound."""
        started: list[_State] = []
        for det in sorted(detections, key=lambda d: -d.score):
            if det.score < self.options.new_track_score:
                continue
            if len(self._states) >= self.options.max_tracks and not self._evict_one():
                self.refused += 1
                continue
            state = _State(next(self._ids), det.label, _cxcywh(det.box), at, at, at)
            state.confirmed = self.options.min_hits <= 1
            self._states.append(state)
            started.append(state)
        return started

    def _evict_one(self) -> bool:
        """Free a slot by ending the lost track seen longest ago; False if none is lost."""
        lost = [s for s in self._states if s.lost]
        if not lost:
            return False
        oldest = min(lost, key=lambda s: s.last_seen)
        self._states.remove(oldest)
        if oldest.confirmed:
            self._ended.append(oldest.as_track(self.camera_id))
        return True

    def _associate(self, states: list[_State], dets: list[Detection], at: float,
                   min_iou: float) -> tuple[set[int], list[Detection]]:
        """Match ``states`` to ``dets``; correct matched states. Returns matched state ids
        (``id()``) and the unmatched detections."""
        if not states or not dets:
            return set(), list(dets)
        same = np.array([[s.label == d.label for d in dets] for s in states], dtype=bool)
        det_boxes = np.array([d.box for d in dets], dtype=np.float64)
        pairs = match(_xyxy(states, at), det_boxes, same, min_iou)
        for t, d in pairs:
            states[t].correct(_cxcywh(dets[d].box), at, self.options)
        used = {d for _, d in pairs}
        return {id(states[t]) for t, _ in pairs}, [x for i, x in enumerate(dets) if i not in used]
