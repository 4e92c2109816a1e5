"""Multi-object tracker in the ByteTrack style: detections → tracks with stable ids.

Why ByteTrack: a person half hidden behind a lamp post still produces a *low*-score
detection; discarding it (as a plain score threshold does) breaks the track and gives the
person a new id. ByteTrack associates in two stages:

1. confirmed and lost tracks ↔ high-score detections (IoU ≥ ``match_iou``);
2. remaining confirmed tracks ↔ low-score detections (IoU ≥ ``low_match_iou``) — these
   only *continue* tracks, never start them;
3. tentative tracks ↔ leftover high detections; leftovers ≥ ``new_track_score`` start
   tentative tracks, which are confirmed after ``min_hits`` consecutive hits;
4. for labels with a ``reach`` (vehicles and plates in the camera pipeline): unmatched
   tracks ↔ leftover high detections by predicted *position*, for low frame rates where
   a fast object's boxes no longer overlap (:mod:`analytics.tracker_reach`).

Each track predicts its box with a constant-velocity alpha-beta filter (velocity in pixels
per second, so frame-rate changes and dropped frames are handled by ``dt``). Unmatched
confirmed tracks are *lost* and kept ``max_age`` seconds to be re-found, then ended.
Associations use an optimal assignment (:func:`min_cost_assignment`) on ``1 − IoU``,
only between boxes of the same label.

**Appearance** (optional, :mod:`analytics.appearance`): boxes alone cannot tell which of
two people who cross is which. When ``update`` is given one colour descriptor per
detection, each track keeps a running average of its own, and

* stage 1 adds the appearance distance to ``1 − IoU`` (``appearance_weight``) and refuses
  pairs farther apart than ``appearance_gate``, so when boxes overlap they go to the
  person who looks alike;
* a *re-identification* stage, before tentative tracks, gives a lost track back its id
  when a leftover high-score detection looks like it (distance ≤ ``appearance_gate``) and its
  centre is within half a box height of the predicted one, instead of starting a new
  track: after a detector miss or a short occlusion the predicted box often no longer
  overlaps the person enough for the IoU test.

Low-score detections (stage 2) never use or update appearance: they are mostly partly
hidden people, whose box holds the occluder's colours. Without descriptors the tracker
behaves exactly as ByteTrack.

The tracker is pure: no clock, no I/O, no pixels; ``at`` is the frame's capture time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from analytics.appearance import distance
from analytics.assignment import INFEASIBLE, match, min_cost_assignment
from analytics.geometry import iou_matrix
from analytics.tracker_reach import reach_pairs
from core.messages import Box, Detection, Track

FloatArray = npt.NDArray[np.float64]

__all__ = ["Tracker", "TrackerOptions", "match", "min_cost_assignment"]


@dataclass(frozen=True, slots=True)
class TrackerOptions:
    """ByteTrack thresholds; times in seconds (of ``at``), not frames.

    Appearance (used only when ``update`` gets descriptors): ``appearance_weight`` 1 puts
    the Hellinger distance on the same 0..1 scale as ``1 − IoU``; ``appearance_memory`` is
    the time constant (s) of a track's running descriptor, ~0.9 per frame at 10 fps as in
    DeepSORT/BoT-SORT; ``appearance_gate`` 0.5 is the median distance between two
    different people on PETS S2L1 (the same person, frames apart: median 0.2, 95 % below
    0.5), so it refuses only clearly different people.

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
    appearance_weight: float = 1.0
    appearance_memory: float = 1.0
    appearance_gate: float = 0.5
    reach: tuple[tuple[str, float], ...] = ()
    """Low-rate stage (:mod:`analytics.tracker_reach`): label → box sizes per second."""
    reach_gap: float = 0.5


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
    feature: FloatArray | None = None

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

    def remember(self, feature: FloatArray, dt: float, options: TrackerOptions) -> None:
        """Blend a new descriptor into the track's running average (time constant
        ``appearance_memory`` seconds, so the frame rate does not change the memory)."""
        if not feature.any():
            return
        if self.feature is None:
            self.feature = feature.copy()
            return
        weight = 1.0 - float(np.exp(-max(dt, 0.0) / options.appearance_memory))
        self.feature = (1.0 - weight) * self.feature + weight * feature

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

    def update(self, detections: list[Detection], at: float,
               appearance: FloatArray | None = None) -> list[Track]:
        """Advance to time ``at`` with this frame's detections; returns confirmed tracks
        matched in this frame. A time earlier than the previous call is treated as equal
        (no negative motion), so a clock step cannot corrupt the velocities.

        ``appearance``: optional descriptors, one row per detection
        (:func:`analytics.appearance.describe`); a row of zeros means "unknown"."""
        if appearance is not None and len(appearance) != len(detections):
            raise ValueError(f"{len(appearance)} descriptors for {len(detections)} detections")
        if self._last_at is not None:
            at = max(at, self._last_at)
        self._last_at = at
        opts = self.options
        frame = _Detections(detections, appearance, at)
        high = [i for i, d in enumerate(detections) if d.score >= opts.high_score]
        low = [i for i, d in enumerate(detections)
               if opts.low_score <= d.score < opts.high_score]
        active = [s for s in self._states if s.confirmed]
        tentative = [s for s in self._states if not s.confirmed]
        seen, high_left = self._associate(active, high, frame, opts.match_iou, True)
        tracked = [s for s in active if id(s) not in seen and not s.lost]
        seen |= self._associate(tracked, low, frame, opts.low_match_iou, False)[0]
        missing = [s for s in active if id(s) not in seen]
        found, high_left = self._reidentify(missing, high_left, frame)
        seen |= found
        confirmed_now, high_left = self._associate(tentative, high_left, frame,
                                                   opts.tentative_iou, True)
        seen |= confirmed_now
        reached, high_left = self._reach([s for s in self._states if id(s) not in seen],
                                         high_left, frame)
        seen |= reached
        for state in self._states:
            state.lost = id(state) not in seen
        self._states = [s for s in self._states if s.confirmed or id(s) in seen]
        self._expire(at)
        started = self._start(high_left, frame)
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

    def _start(self, indices: list[int], frame: _Detections) -> list[_State]:
        """Start tentative tracks from unmatched confident detections, within the bound."""
        started: list[_State] = []
        at = frame.at
        for i in sorted(indices, key=lambda i: -frame.detections[i].score):
            det = frame.detections[i]
            if det.score < self.options.new_track_score:
                continue
            if len(self._states) >= self.options.max_tracks and not self._evict_one():
                self.refused += 1
                continue
            state = _State(next(self._ids), det.label, _cxcywh(det.box), at, at, at)
            state.confirmed = self.options.min_hits <= 1
            if frame.features is not None:
                state.remember(frame.features[i], 0.0, self.options)
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

    def _associate(self, states: list[_State], indices: list[int], frame: _Detections,
                   min_iou: float, use_appearance: bool) -> tuple[set[int], list[int]]:
        """Match ``states`` to the detections ``indices`` on IoU (plus appearance when
        asked and known); correct matched states. Returns matched state ids (``id()``)
        and the unmatched detection indices."""
        if not states or not indices:
            return set(), list(indices)
        dets = [frame.detections[i] for i in indices]
        same = np.array([[s.label == d.label for d in dets] for s in states], dtype=bool)
        det_boxes = np.array([d.box for d in dets], dtype=np.float64)
        feats = frame.features[indices] if use_appearance and frame.features is not None \
            else None
        if feats is None:
            pairs = match(_xyxy(states, frame.at), det_boxes, same, min_iou)
        else:
            pairs = self._fused_match(states, (det_boxes, feats), same, frame.at, min_iou)
        for t, d in pairs:
            self._correct(states[t], indices[d], frame, feats is not None)
        used = {d for _, d in pairs}
        return ({id(states[t]) for t, _ in pairs},
                [x for k, x in enumerate(indices) if k not in used])

    def _fused_match(self, states: list[_State], dets: tuple[FloatArray, FloatArray],
                     same: npt.NDArray[np.bool_], at: float,
                     min_iou: float) -> list[tuple[int, int]]:
        """IoU ≥ ``min_iou`` and appearance distance ≤ ``appearance_gate`` (0 when a side
        has no descriptor); cost ``1 − IoU`` plus the weighted distance, so among
        overlapping boxes the look-alike wins, and a box that is clearly someone else is
        refused even when the motion model points at it (people who meet and turn back)."""
        det_boxes, feats = dets
        iou = iou_matrix(_xyxy(states, at), det_boxes)
        app = distance(_features(states, feats.shape[1]), feats)
        feasible = same & (iou >= min_iou) & (app <= self.options.appearance_gate)
        cost = np.where(feasible, 1.0 - iou + self.options.appearance_weight * app, INFEASIBLE)
        return [(t, d) for t, d in min_cost_assignment(cost) if feasible[t, d]]

    def _reidentify(self, states: list[_State], indices: list[int],
                    frame: _Detections) -> tuple[set[int], list[int]]:
        """Lost tracks ↔ leftover high detections whose boxes no longer overlap: matched on
        appearance (≤ ``appearance_gate``) when the detection's centre lies within half a box
        height of the predicted centre. A reach growing with the time lost was tried and
        let lost tracks grab other people and false positives; the fixed reach is the
        "stood still or kept walking behind the pillar" case, which is the common one."""
        opts = self.options
        known = [s for s in states if s.feature is not None]
        if not known or not indices or frame.features is None:
            return set(), list(indices)
        dets = [frame.detections[i] for i in indices]
        feats = frame.features[indices]
        app = distance(_features(known, feats.shape[1]), feats)
        has = np.any(feats, axis=1).reshape(1, -1)
        same = np.array([[s.label == d.label for d in dets] for s in known], dtype=bool)
        predicted = np.stack([s.predicted(frame.at) for s in known])
        centres = np.array([_cxcywh(d.box)[:2] for d in dets])
        gap = np.linalg.norm(predicted[:, None, :2] - centres[None, :, :], axis=2)
        reach = 0.5 * predicted[:, 3]
        feasible = same & has & (app <= opts.appearance_gate) & (gap <= reach[:, None])
        cost = np.where(feasible, app, INFEASIBLE)
        pairs = [(t, d) for t, d in min_cost_assignment(cost) if feasible[t, d]]
        for t, d in pairs:
            self._correct(known[t], indices[d], frame, True)
        used = {d for _, d in pairs}
        return ({id(known[t]) for t, _ in pairs},
                [x for k, x in enumerate(indices) if k not in used])

    def _reach(self, states: list[_State], indices: list[int],
               frame: _Detections) -> tuple[set[int], list[int]]:
        """Tracks ↔ leftover high detections by predicted position, for low frame rates
        (:mod:`analytics.tracker_reach`); matched tracks are corrected as usual."""
        speeds = dict(self.options.reach)
        near = [s for s in states if speeds.get(s.label, 0.0) > 0.0
                and 0.0 < frame.at - s.updated <= self.options.reach_gap]
        if not near or not indices:
            return set(), list(indices)
        dets = [frame.detections[i] for i in indices]
        allowed = np.array([[s.label == d.label for d in dets] for s in near], dtype=bool)
        if frame.features is not None:
            app = distance(_features(near, frame.features.shape[1]), frame.features[indices])
            allowed &= app <= self.options.appearance_gate
        predicted = np.stack([s.predicted(frame.at) for s in near])
        reach = np.array([speeds[s.label] * max(p[2], p[3]) * (frame.at - s.updated)
                          for s, p in zip(near, predicted, strict=True)])
        boxes = np.stack([_cxcywh(d.box) for d in dets])
        pairs = reach_pairs(predicted, boxes, reach, allowed)
        for t, d in pairs:
            self._correct(near[t], indices[d], frame, True)
        used = {d for _, d in pairs}
        return ({id(near[t]) for t, _ in pairs},
                [x for k, x in enumerate(indices) if k not in used])

    def _correct(self, state: _State, index: int, frame: _Detections, learn: bool) -> None:
        """Filter update from detection ``index``; its descriptor joins the track's
        average when ``learn`` (high-score matches only)."""
        dt = frame.at - state.updated
        state.correct(_cxcywh(frame.detections[index].box), frame.at, self.options)
        if learn and frame.features is not None:
            state.remember(frame.features[index], dt, self.options)


@dataclass(frozen=True, slots=True)
class _Detections:
    """One frame's input: detections, their descriptors (or ``None``) and the time."""

    detections: list[Detection]
    features: FloatArray | None
    at: float


def _features(states: list[_State], dims: int) -> FloatArray:
    """Tracks' descriptors as rows; zeros (unknown) for a track without one."""
    return np.stack([s.feature if s.feature is not None else np.zeros(dims) for s in states])
