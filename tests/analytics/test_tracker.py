"""Tracker on synthetic tracks with explicit times; the assignment solver against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest

from analytics.tracker import Tracker, TrackerOptions, min_cost_assignment
from core.messages import Detection, Track

FPS = 10.0


def _box(cx: float, cy: float, w: float = 20.0, h: float = 50.0) -> tuple[float, ...]:
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def _det(cx: float, cy: float, score: float = 0.9, label: str = "person") -> Detection:
    x1, y1, x2, y2 = _box(cx, cy)
    return Detection(label, score, (x1, y1, x2, y2))


def _run(tracker: Tracker, frames: list[list[Detection]], t0: float = 0.0) -> list[list[Track]]:
    return [tracker.update(dets, t0 + i / FPS) for i, dets in enumerate(frames)]


def _brute(cost: npt.NDArray[np.float64]) -> float:
    rows, cols = cost.shape
    if rows <= cols:
        return min(float(sum(cost[r, c] for r, c in zip(range(rows), p, strict=True)))
                   for p in itertools.permutations(range(cols), rows))
    return _brute(cost.T)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (5, 2), (4, 4), (6, 6), (3, 6)])
def test_assignment_is_optimal_against_brute_force(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    for _ in range(5):
        cost = rng.random(shape)
        pairs = min_cost_assignment(cost)
        assert len(pairs) == min(shape)
        assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == min(shape)
        assert sum(cost[r, c] for r, c in pairs) == pytest.approx(_brute(cost))


def test_assignment_empty_and_ties() -> None:
    assert min_cost_assignment(np.zeros((0, 3))) == []
    assert min_cost_assignment(np.zeros((2, 2))) in ([(0, 0), (1, 1)], [(0, 1), (1, 0)])


def test_tentative_until_min_hits_then_stable_id() -> None:
    tracker = Tracker("cam", TrackerOptions(min_hits=3))
    out = _run(tracker, [[_det(100 + 5 * i, 100)] for i in range(6)])
    assert [len(tracks) for tracks in out] == [0, 0, 1, 1, 1, 1]
    assert {t.track_id for tracks in out for t in tracks} == {1}
    last = out[-1][0]
    assert (last.camera_id, last.label, last.first_seen) == ("cam", "person", 0.0)
    assert last.last_seen == pytest.approx(0.5)


def test_two_people_crossing_keep_their_ids() -> None:
    """Two people walk towards each other on one row, pass, and go on (constant speed)."""
    tracker = Tracker("cam")
    frames = [[_det(50 + 10 * i, 100), _det(350 - 10 * i, 104)] for i in range(31)]
    out = _run(tracker, frames)
    left_to_right = [next(t for t in tracks if t.box[0] < 200) for tracks in out[3:14]]
    assert {t.track_id for t in left_to_right} == {1}
    ids_at_end = {t.track_id: (t.box[0] + t.box[2]) / 2 for t in out[-1]}
    assert ids_at_end[1] > 300 and ids_at_end[2] < 100


def test_occluded_person_is_refound_by_prediction_not_renumbered() -> None:
    tracker = Tracker("cam")
    visible = [[_det(50 + 8 * i, 100)] for i in range(10)]
    hidden: list[list[Detection]] = [[] for _ in range(8)]  # 0.8 s behind a pillar
    back = [[_det(50 + 8 * i, 100)] for i in range(18, 24)]
    out = _run(tracker, visible + hidden + back)
    assert all(tracks == [] for tracks in out[10:18])
    assert {t.track_id for tracks in out[18:] for t in tracks} == {1}


def test_low_score_detections_continue_but_never_start_tracks() -> None:
    tracker = Tracker("cam")
    strong = [[_det(100 + 4 * i, 100, 0.9)] for i in range(5)]
    weak = [[_det(100 + 4 * i, 100, 0.3)] for i in range(5, 10)]
    out = _run(tracker, strong + weak)
    assert [t.track_id for t in out[-1]] == [1]
    lonely = Tracker("cam")
    assert _run(lonely, [[_det(100, 100, 0.3)]] * 5)[-1] == []
    assert lonely.active_count == 0


def test_labels_never_mix() -> None:
    tracker = Tracker("cam")
    frames = [[_det(100, 100, label="person")]] * 3 + [[_det(100, 100, label="car")]] * 3
    out = _run(tracker, frames)
    assert [(t.track_id, t.label) for t in out[2]] == [(1, "person")]
    assert [(t.track_id, t.label) for t in out[5]] == [(2, "car")]


def test_lost_tracks_end_after_max_age_and_are_handed_over_once() -> None:
    tracker = Tracker("cam", TrackerOptions(max_age=1.0))
    _run(tracker, [[_det(100, 100)]] * 4)
    tracker.update([], 0.9)
    assert tracker.ended() == []
    tracker.update([], 1.3)  # last seen at 0.3: lost for 1.0 s, not more
    assert tracker.ended() == []
    tracker.update([], 1.31)
    ended = tracker.ended()
    assert [t.track_id for t in ended] == [1]
    assert ended[0].last_seen == pytest.approx(0.3)
    assert tracker.ended() == [] and tracker.active_count == 0


def test_state_is_bounded_by_max_tracks() -> None:
    tracker = Tracker("cam", TrackerOptions(max_tracks=3, min_hits=1))
    crowd = [_det(40 * i + 20, 100) for i in range(5)]
    out = tracker.update(crowd, 0.0)
    assert len(out) == 3 and tracker.refused == 2 and tracker.active_count == 3
    tracker.update([], 0.1)  # all three become lost
    fresh = tracker.update([_det(40 * i + 20, 300) for i in range(2)], 0.2)
    assert len(fresh) == 2 and tracker.active_count == 3
    assert len(tracker.ended()) == 2  # the evicted lost tracks are handed over


def test_time_going_backwards_is_treated_as_no_time_passing() -> None:
    tracker = Tracker("cam")
    _run(tracker, [[_det(100 + 5 * i, 100)] for i in range(5)])
    tracks = tracker.update([_det(125, 100)], 0.1)  # a clock step backwards
    assert [t.track_id for t in tracks] == [1]
    assert tracks[0].last_seen == pytest.approx(0.4)


def test_inputs_are_not_mutated_and_outputs_are_new_values() -> None:
    tracker = Tracker("cam", TrackerOptions(min_hits=1))
    dets = [_det(100, 100)]
    first = tracker.update(dets, 0.0)
    second = tracker.update([_det(110, 100)], 0.1)
    assert dets == [_det(100, 100)]
    assert first[0].box != second[0].box and first[0].track_id == second[0].track_id


def _car(cx: float) -> Detection:
    """A 180×130 car box centred at (cx, 200)."""
    return Detection("car", 0.9, (cx - 90, 135.0, cx + 90, 265.0))


def _crossing(tracker: Tracker, step: float, frames: int, rate: float) -> list[list[Track]]:
    return [tracker.update([_car(100 + step * i)], i / rate) for i in range(frames)]


def test_a_fast_car_at_5_fps_is_one_track_with_reach_and_none_without() -> None:
    """At 5 fps a car crossing a D1 picture in 1.5 s moves 117 px (two thirds of its width)
    between frames: IoU 0.2, below ``tentative_iou``. By IoU alone it is never confirmed;
    by predicted position it is one track from its third frame on."""
    plain = _crossing(Tracker("cam"), 117.0, 6, 5.0)
    assert all(tracks == [] for tracks in plain)
    reached = _crossing(Tracker("cam", TrackerOptions(reach=(("car", 8.0),))), 117.0, 6, 5.0)
    assert [len(tracks) for tracks in reached] == [0, 0, 1, 1, 1, 1]
    assert {t.track_id for tracks in reached for t in tracks} == {1}


def test_reach_needs_the_label_a_similar_size_and_a_short_gap() -> None:
    options = TrackerOptions(min_hits=1, reach=(("car", 8.0),))
    tracker = Tracker("cam", options)
    tracker.update([_car(100)], 0.0)
    big = Detection("car", 0.9, (160.0, 80.0, 520.0, 340.0))  # twice the size, near
    assert [t.track_id for t in tracker.update([big], 0.2)] == [2]
    people = Tracker("cam", options)
    people.update([_det(100, 100)], 0.0)
    assert [t.track_id for t in people.update([_det(140, 100)], 0.2)] == [2]  # no reach
    late = Tracker("cam", options)
    late.update([_car(100)], 0.0)
    assert [t.track_id for t in late.update([_car(300)], 0.8)] == [2]  # gap > reach_gap
    near = Tracker("cam", options)
    near.update([_car(100)], 0.0)
    assert [t.track_id for t in near.update([_car(300)], 0.2)] == [1]


def test_reach_gives_each_car_its_nearest_track() -> None:
    tracker = Tracker("cam", TrackerOptions(min_hits=1, reach=(("car", 8.0),)))
    tracker.update([_car(100), _car(600)], 0.0)
    tracks = tracker.update([_car(700), _car(220)], 0.2)
    assert sorted((round(t.box[0] + 90), t.track_id) for t in tracks) == [(220, 1), (700, 2)]
