"""Zones, lines, loitering and crowding on synthetic tracks with explicit times."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest

from analytics.geometry import Point, foot_point, point_in_polygon, segments_cross
from analytics.scene import SceneAnalyzer, SceneOptions
from core.config.models import Line, Zone
from core.messages import SceneEvent, Track

SIZE = (200, 100)  # pixels; foot (x, y) normalised = (cx / 200, y2 / 100)
SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.8), (0.2, 0.8)]


def _track(tid: int, foot: Point, label: str = "person", at: float = 0.0) -> Track:
    """A 10×30 px box whose bottom-centre is at normalised ``foot``."""
    x, y = foot[0] * SIZE[0], foot[1] * SIZE[1]
    return Track(tid, "cam", label, (x - 5, y - 30, x + 5, y), 0.0, at)


def _analyzer(zones: Sequence[Zone] = (), lines: Sequence[Line] = ()) -> SceneAnalyzer:
    counter = itertools.count(1)
    return SceneAnalyzer("cam", zones, lines, SIZE,
                         SceneOptions(new_id=lambda: f"ev{next(counter)}"))


def _feed(scene: SceneAnalyzer, steps: Sequence[tuple[float, list[Track]]]) -> list[SceneEvent]:
    events: list[SceneEvent] = []
    for at, tracks in steps:
        events += scene.update(tracks, at)
    return events


INSIDE, OUTSIDE = (0.4, 0.5), (0.9, 0.5)


@pytest.mark.parametrize(("point", "inside"), [
    ((0.3, 0.5), True), ((0.9, 0.5), False), ((0.1, 0.1), False),
    ((0.45, 0.3), False),  # in the notch of the U-shaped polygon below
    ((0.55, 0.3), True), ((0.45, 0.7), True),
])
def test_point_in_concave_polygon(point: Point, inside: bool) -> None:
    u_shape = [(0.2, 0.2), (0.4, 0.2), (0.4, 0.6), (0.5, 0.6), (0.5, 0.2), (0.6, 0.2),
               (0.6, 0.8), (0.2, 0.8)]
    assert point_in_polygon(point, u_shape) is inside


@pytest.mark.parametrize(("p", "q", "crosses"), [
    ((0.5, 0.4), (0.5, 0.6), True),
    ((0.5, 0.6), (0.5, 0.4), True),
    ((0.9, 0.4), (0.9, 0.6), False),   # beyond the segment's end
    ((0.5, 0.4), (0.5, 0.45), False),  # approaches, does not reach
    ((0.5, 0.4), (0.5, 0.5), True),    # ends on the line: counted
    ((0.5, 0.5), (0.5, 0.6), False),   # starts on the line: already counted
])
def test_segments_cross(p: Point, q: Point, crosses: bool) -> None:
    assert segments_cross(p, q, (0.2, 0.5), (0.8, 0.5)) is crosses


def test_foot_point_is_bottom_centre_normalised() -> None:
    assert foot_point((10, 20, 30, 80), (200, 100)) == (0.1, 0.8)


def test_intrusion_after_min_dwell_once_per_visit() -> None:
    scene = _analyzer([Zone(id="yard", polygon=SQUARE, min_dwell=2.0)])
    steps = [(t, [_track(1, INSIDE)]) for t in (0.0, 1.0, 1.9)]
    assert _feed(scene, steps) == []
    events = _feed(scene, [(2.0, [_track(1, INSIDE)]), (3.0, [_track(1, INSIDE)])])
    assert [(e.event_id, e.kind, e.zone, e.track_ids, e.at) for e in events] == [
        ("ev1", "intrusion", "yard", (1,), 2.0)]
    assert (events[0].label, events[0].detail) == ("person", "dwell=2.0")
    assert (events[0].evidence.clip_from, events[0].evidence.clip_to) == (0.0, 2.0)
    # leaves for longer than exit_grace, comes back: a new visit, a new intrusion
    _feed(scene, [(4.0, [_track(1, OUTSIDE)]), (5.5, [_track(1, OUTSIDE)])])
    again = _feed(scene, [(6.0 + t, [_track(1, INSIDE)]) for t in (0.0, 1.0, 2.0)])
    assert [(e.kind, e.at) for e in again] == [("intrusion", 8.0)]


def test_boundary_jitter_within_exit_grace_keeps_the_visit() -> None:
    scene = _analyzer([Zone(id="yard", polygon=SQUARE, min_dwell=3.0)])
    steps = [(0.0, INSIDE), (1.0, INSIDE), (1.5, OUTSIDE), (2.0, INSIDE), (3.0, INSIDE)]
    events = _feed(scene, [(t, [_track(1, p)]) for t, p in steps])
    assert [(e.kind, e.at) for e in events] == [("intrusion", 3.0)]


def test_zone_classes_filter() -> None:
    scene = _analyzer([Zone(id="yard", polygon=SQUARE, classes=["person"])])
    assert _feed(scene, [(0.0, [_track(1, INSIDE, "car")])]) == []
    assert [e.kind for e in _feed(scene, [(0.0, [_track(2, INSIDE)])])] == ["intrusion"]


def test_loitering_once_per_track_per_zone() -> None:
    zone = Zone(id="atm", polygon=SQUARE, loiter_after=10.0)
    scene = _analyzer([zone])
    events = _feed(scene, [(float(t), [_track(7, INSIDE)]) for t in range(0, 13)])
    assert [(e.kind, e.at) for e in events] == [("intrusion", 0.0), ("loitering", 10.0)]
    # out and back in for another 12 s: a new intrusion, but never a second loitering
    _feed(scene, [(13.0, [_track(7, OUTSIDE)]), (15.0, [_track(7, OUTSIDE)])])
    later = _feed(scene, [(16.0 + t, [_track(7, INSIDE)]) for t in range(0, 13)])
    assert [e.kind for e in later] == ["intrusion"]


def test_short_gaps_in_tracking_do_not_reset_dwell() -> None:
    scene = _analyzer([Zone(id="atm", polygon=SQUARE, min_dwell=1e6, loiter_after=10.0)])
    steps = [(float(t), [_track(1, INSIDE)] if t % 4 != 3 else []) for t in range(0, 12)]
    assert [(e.kind, e.at) for e in _feed(scene, steps)] == [("loitering", 10.0)]


@pytest.mark.parametrize(("direction", "moving_down", "expected"), [
    ("both", True, ["a_to_b"]), ("both", False, ["b_to_a"]),
    ("a_to_b", True, ["a_to_b"]), ("a_to_b", False, []),
    ("b_to_a", True, []), ("b_to_a", False, ["b_to_a"]),
])
def test_line_crossing_direction(direction: str, moving_down: bool,
                                 expected: list[str]) -> None:
    line = Line(id="gate", a=(0.2, 0.5), b=(0.8, 0.5), direction=direction)
    scene = _analyzer(lines=[line])
    ys = [0.3, 0.4, 0.45, 0.55, 0.6, 0.7]
    path = ys if moving_down else ys[::-1]
    events = _feed(scene, [(i * 0.1, [_track(3, (0.5, y))]) for i, y in enumerate(path)])
    assert [e.direction for e in events] == expected
    assert all((e.kind, e.zone, e.track_ids, e.label) == ("line_cross", "gate", (3,), "person")
               for e in events)


def test_line_crossing_classes_extent_and_stop_on_line() -> None:
    line = Line(id="gate", a=(0.2, 0.5), b=(0.8, 0.5), classes=["car"])
    scene = _analyzer(lines=[line])
    person = [(0.0, [_track(1, (0.5, 0.4), "person")]), (0.1, [_track(1, (0.5, 0.6), "person")])]
    beside = [(0.0, [_track(2, (0.9, 0.4), "car")]), (0.1, [_track(2, (0.9, 0.6), "car")])]
    assert _feed(scene, person + beside) == []
    stop = [(t, [_track(4, (0.5, y), "car")]) for t, y in
            [(0.0, 0.4), (0.1, 0.5), (0.2, 0.5), (0.3, 0.6)]]
    assert len(_feed(scene, stop)) == 1


def test_crowd_once_per_episode_and_rearms() -> None:
    zone = Zone(id="square", polygon=SQUARE, classes=["car"], crowd_min=3, crowd_for=5.0)
    scene = _analyzer([zone])
    three = [_track(i, (0.3 + 0.05 * i, 0.5)) for i in (1, 2, 3)]
    events = _feed(scene, [(float(t), three) for t in range(0, 8)])
    assert [(e.kind, e.track_ids, e.at) for e in events] == [("crowd", (1, 2, 3), 5.0)]
    assert (events[0].label, events[0].detail) == ("person", "count=3 for=5.0")
    # one leaves (gone for longer than exit_grace): the episode ends and re-arms
    _feed(scene, [(8.0, three[:2]), (9.5, three[:2])])
    again = _feed(scene, [(10.0 + t, three) for t in range(0, 6)])
    assert [(e.kind, e.at) for e in again] == [("crowd", 15.0)]


def test_tracks_unseen_for_forget_after_are_dropped() -> None:
    scene = _analyzer([Zone(id="yard", polygon=SQUARE)],
                      [Line(id="gate", a=(0.2, 0.5), b=(0.8, 0.5))])
    _feed(scene, [(0.0, [_track(1, (0.5, 0.4))])])
    _feed(scene, [(float(t), [_track(2, OUTSIDE)]) for t in range(1, 8)])
    # track 1 reappears on the other side after 8 s: too long ago to call it a crossing
    assert [e.kind for e in _feed(scene, [(8.0, [_track(1, (0.5, 0.6))])])] == ["intrusion"]


def test_bad_frame_size_fails_early() -> None:
    with pytest.raises(ValueError, match="frame_size"):
        SceneAnalyzer("cam", [], [], (0, 100))
