"""Scene rules on tracks: zone intrusion, line crossing, loitering and crowding.

``SceneAnalyzer.update(tracks, at) -> list[SceneEvent]`` is pure decision logic: no clock,
no I/O, time is the frame's capture time. Everything works on a track's *foot point* (the
bottom-centre of its box, normalised 0..1 of the frame) because zones and lines are drawn
on the ground, in normalised coordinates that survive a change of stream resolution.

Rules (one instance per camera, fed every analysed frame):

* ``intrusion`` — a track of one of the zone's ``classes`` has been inside for
  ``min_dwell`` seconds; once per visit (leaving and coming back is a new visit).
* ``loitering`` — continuously inside for ``loiter_after`` seconds; once per track per
  zone, ever.
* ``crowd`` — at least ``crowd_min`` persons inside for ``crowd_for`` seconds; once per
  episode, re-armed when the count drops below ``crowd_min``.
* ``line_cross`` — the foot point's movement between two sightings intersects the line
  segment. Direction: ``a_to_b`` means crossing from the left-hand to the right-hand side
  as seen on screen when facing from ``a`` towards ``b`` (for a line drawn left → right,
  that is moving *down* the image); ``b_to_a`` is the opposite. A line configured with one
  direction reports only that one.

Trackers miss people for a frame or two and boxes jitter at a zone's edge, so a visit
ends only after the track has been seen *outside* for ``exit_grace`` seconds, or has not
been seen at all for ``forget_after`` seconds. Events carry the object class in ``label``
and the crossing direction in ``direction``; ``detail`` adds measurements as ``key=value``
pairs (``dwell=12.4``, ``count=5 for=6.0``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from analytics.geometry import Point, foot_point, point_in_polygon, segments_cross, side
from core.config.models import Line, Zone
from core.messages import Evidence, SceneEvent, SceneKind, Track


def _uuid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class SceneOptions:
    """Timing tolerances and the event id factory (inject a counter in tests)."""

    exit_grace: float = 1.0
    forget_after: float = 5.0
    new_id: Callable[[], str] = field(default=_uuid)


@dataclass(frozen=True, slots=True)
class _What:
    """What an event says, apart from who (track ids) and when (evidence)."""

    kind: SceneKind
    zone: str
    label: str
    detail: str = ""
    direction: str = ""


@dataclass(slots=True)
class _Sighting:
    label: str
    foot: Point
    at: float
    box: tuple[float, float, float, float]


@dataclass(slots=True)
class _Visit:
    entered: float
    last_inside: float
    intruded: bool = False


@dataclass(slots=True)
class _Crowd:
    since: float | None = None
    fired: bool = False


class SceneAnalyzer:
    """Per-camera zone/line/loitering/crowd rules over tracks; state is bounded by the
    tracks seen in the last ``forget_after`` seconds."""

    def __init__(self, camera_id: str, zones: Sequence[Zone], lines: Sequence[Line],
                 frame_size: tuple[int, int], options: SceneOptions | None = None) -> None:
        if frame_size[0] <= 0 or frame_size[1] <= 0:
            raise ValueError(f"camera {camera_id}: frame_size {frame_size} must be positive")
        self.camera_id = camera_id
        self.zones = list(zones)
        self.lines = list(lines)
        self.frame_size = frame_size
        self.options = options or SceneOptions()
        self._seen: dict[int, _Sighting] = {}
        self._visits: dict[tuple[int, str], _Visit] = {}
        self._loitered: set[tuple[int, str]] = set()
        self._crowds: dict[str, _Crowd] = {z.id: _Crowd() for z in self.zones}

    def update(self, tracks: Sequence[Track], at: float) -> list[SceneEvent]:
        """Events caused by this frame's ``tracks`` (seen at time ``at``)."""
        events: list[SceneEvent] = []
        current = {t.track_id: self._sighting(t, at) for t in tracks}
        for track in tracks:
            events += self._cross_lines(track, current[track.track_id])
            for zone in self.zones:
                events += self._zone_step(zone, track, current[track.track_id])
        self._seen.update(current)
        self._expire(at)
        for zone in self.zones:
            events += self._crowd_step(zone, at)
        return events

    def _sighting(self, track: Track, at: float) -> _Sighting:
        return _Sighting(track.label, foot_point(track.box, self.frame_size), at, track.box)

    def _event(self, what: _What, track_ids: tuple[int, ...],
               evidence: Evidence) -> SceneEvent:
        """A new event at ``evidence.clip_to`` (the time of the frame that caused it)."""
        at = evidence.clip_to
        if at is None:
            raise ValueError("scene evidence needs clip_to: it is the event time")
        return SceneEvent(self.options.new_id(), self.camera_id, what.kind, what.zone,
                          track_ids, at, evidence, what.detail, what.label, what.direction)

    def _zone_step(self, zone: Zone, track: Track, now: _Sighting) -> list[SceneEvent]:
        """Intrusion and loitering for one track in one zone."""
        if track.label not in zone.classes:
            return []
        key = (track.track_id, zone.id)
        visit = self._visits.get(key)
        if not point_in_polygon(now.foot, zone.polygon):
            if visit is not None and now.at - visit.last_inside > self.options.exit_grace:
                del self._visits[key]
            return []
        if visit is None:
            visit = self._visits[key] = _Visit(now.at, now.at)
        visit.last_inside = now.at
        dwell = now.at - visit.entered
        evidence = Evidence(clip_from=visit.entered, clip_to=now.at, box=track.box)
        detail = f"dwell={dwell:.1f}"
        events: list[SceneEvent] = []
        if not visit.intruded and dwell >= zone.min_dwell:
            visit.intruded = True
            what = _What(SceneKind.INTRUSION, zone.id, track.label, detail)
            events.append(self._event(what, (track.track_id,), evidence))
        if (zone.loiter_after is not None and dwell >= zone.loiter_after
                and key not in self._loitered):
            self._loitered.add(key)
            what = _What(SceneKind.LOITERING, zone.id, track.label, detail)
            events.append(self._event(what, (track.track_id,), evidence))
        return events

    def _cross_lines(self, track: Track, now: _Sighting) -> list[SceneEvent]:
        """Line crossings between this track's previous and current foot point."""
        before = self._seen.get(track.track_id)
        if before is None or now.at - before.at > self.options.forget_after:
            return []
        events: list[SceneEvent] = []
        for line in self.lines:
            if track.label not in line.classes:
                continue
            if not segments_cross(before.foot, now.foot, line.a, line.b):
                continue
            direction = "a_to_b" if side(line.a, line.b, before.foot) < 0 else "b_to_a"
            if line.direction not in ("both", direction):
                continue
            evidence = Evidence(clip_from=before.at, clip_to=now.at, box=track.box)
            what = _What(SceneKind.LINE_CROSS, line.id, track.label, direction=direction)
            events.append(self._event(what, (track.track_id,), evidence))
        return events

    def _crowd_step(self, zone: Zone, at: float) -> list[SceneEvent]:
        """One crowd event per episode of ≥ ``crowd_min`` persons for ``crowd_for`` s."""
        if zone.crowd_min is None:
            return []
        inside = tuple(sorted(
            tid for tid, s in self._seen.items()
            if s.label == "person" and at - s.at <= self.options.exit_grace
            and point_in_polygon(s.foot, zone.polygon)))
        state = self._crowds[zone.id]
        if len(inside) < zone.crowd_min:
            state.since, state.fired = None, False
            return []
        if state.since is None:
            state.since = at
        if state.fired or at - state.since < zone.crowd_for:
            return []
        state.fired = True
        detail = f"count={len(inside)} for={at - state.since:.1f}"
        evidence = Evidence(clip_from=state.since, clip_to=at)
        return [self._event(_What(SceneKind.CROWD, zone.id, "person", detail), inside, evidence)]

    def _expire(self, at: float) -> None:
        """Forget tracks not seen for ``forget_after`` seconds (bounds every map)."""
        gone = {tid for tid, s in self._seen.items()
                if at - s.at > self.options.forget_after}
        if not gone:
            return
        for tid in gone:
            del self._seen[tid]
        self._visits = {k: v for k, v in self._visits.items() if k[0] not in gone}
        self._loitered = {k for k in self._loitered if k[0] not in gone}
