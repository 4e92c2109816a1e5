"""Appearance in the tracker: colour descriptors, look-alike association, re-identification.

The tracker takes descriptors as plain vectors, so most cases use hand-made ones ("red
coat", "blue coat"); the descriptor itself is checked on drawn pictures.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from analytics.appearance import DIMS, describe, distance
from analytics.tracker import Tracker
from core.messages import Detection, Track

FPS = 10.0
FloatArray = npt.NDArray[np.float64]


def _det(cx: float, cy: float = 100.0, score: float = 0.9) -> Detection:
    return Detection("person", score, (cx - 10, cy - 25, cx + 10, cy + 25))


def _look(bin_: int) -> FloatArray:
    """A descriptor with all its weight in one bin of each half (a plain-coloured person)."""
    out = np.zeros(DIMS)
    out[bin_] = out[DIMS // 2 + bin_] = 0.5
    return out


RED, BLUE, GREEN = _look(0), _look(5), _look(3)


def _run(tracker: Tracker, frames: list[list[tuple[Detection, FloatArray]]],
         with_looks: bool) -> list[list[Track]]:
    out = []
    for i, frame in enumerate(frames):
        looks = np.array([f for _, f in frame]).reshape(len(frame), DIMS) if with_looks \
            else None
        out.append(tracker.update([d for d, _ in frame], i / FPS, looks))
    return out


def _id_near(tracks: list[Track], x: float) -> int:
    return min(tracks, key=lambda t: abs((t.box[0] + t.box[2]) / 2 - x)).track_id


def _meet_and_turn_back() -> list[list[tuple[Detection, FloatArray]]]:
    """Red walks right, blue walks left; they meet, stand together, and both turn back.

    Motion alone predicts that they carry on past each other, so a boxes-only tracker
    hands each one the other's id when they separate."""
    frames = [[(_det(100 + 10 * i), RED), (_det(220 - 10 * i), BLUE)] for i in range(6)]
    frames += [[(_det(155), RED), (_det(165), BLUE)] for _ in range(3)]
    frames += [[(_det(155 - 10 * i), RED), (_det(165 + 10 * i), BLUE)] for i in range(1, 9)]
    return frames


def test_people_who_meet_and_turn_back_keep_their_ids_by_colour() -> None:
    out = _run(Tracker("cam"), _meet_and_turn_back(), with_looks=True)
    red_id, blue_id = _id_near(out[4], 140), _id_near(out[4], 180)
    assert red_id != blue_id
    assert _id_near(out[-1], 75) == red_id
    assert _id_near(out[-1], 245) == blue_id


def test_boxes_only_swap_ids_in_the_same_scene() -> None:
    """The case above is hard for motion: without descriptors the ids are swapped (so the
    appearance test really exercises appearance)."""
    out = _run(Tracker("cam"), _meet_and_turn_back(), with_looks=False)
    assert _id_near(out[-1], 75) == _id_near(out[4], 180)


def _hidden_then_back(look_back: FloatArray) -> list[list[tuple[Detection, FloatArray]]]:
    """Walks right at 8 px/frame, hidden 0.6 s, reappears having slowed down: 20 px
    behind where the motion model expects it, so the boxes no longer overlap."""
    visible = [[(_det(50 + 8 * i), RED)] for i in range(10)]
    hidden: list[list[tuple[Detection, FloatArray]]] = [[] for _ in range(6)]
    expected = 50 + 8 * 16
    back = [[(_det(expected - 20 + 4 * i), look_back)] for i in range(5)]
    return visible + hidden + back


def test_briefly_hidden_person_gets_the_same_id_back() -> None:
    out = _run(Tracker("cam"), _hidden_then_back(RED), with_looks=True)
    before, after = out[9], out[16]
    assert len(before) == 1 and len(after) == 1
    assert after[0].track_id == before[0].track_id
    assert {t.track_id for frame in out for t in frame} == {before[0].track_id}


def test_without_descriptors_the_returning_person_is_renumbered() -> None:
    out = _run(Tracker("cam"), _hidden_then_back(RED), with_looks=False)
    assert len({t.track_id for frame in out for t in frame}) == 2


def test_someone_who_looks_different_does_not_take_the_lost_id() -> None:
    out = _run(Tracker("cam"), _hidden_then_back(GREEN), with_looks=True)
    first = out[9][0].track_id
    assert all(t.track_id != first for frame in out[16:] for t in frame)


def test_descriptor_count_must_match_detections() -> None:
    with pytest.raises(ValueError, match="descriptors"):
        Tracker("cam").update([_det(10)], 0.0, np.zeros((2, DIMS)))


def test_descriptor_tells_colours_apart_and_ignores_boxes_off_picture() -> None:
    image = np.full((120, 160, 3), 90, dtype=np.uint8)  # grey background
    image[10:60, 10:40] = (0, 0, 200)     # red top (BGR)
    image[60:110, 10:40] = (120, 60, 20)  # navy trousers
    image[10:60, 60:90] = (200, 0, 0)     # blue top
    image[60:110, 60:90] = (120, 60, 20)
    image[10:60, 110:140] = (0, 0, 190)   # another red top, slightly darker
    image[60:110, 110:140] = (120, 60, 20)
    boxes = [(10.0, 10.0, 40.0, 110.0), (60.0, 10.0, 90.0, 110.0),
             (110.0, 10.0, 140.0, 110.0), (500.0, 500.0, 540.0, 600.0)]
    looks = describe(image, boxes)
    assert looks.shape == (4, DIMS)
    assert looks[:3].sum(axis=1) == pytest.approx(1.0)
    assert not looks[3].any()  # outside the picture: unknown
    d = distance(looks, looks)
    assert d[0, 2] < 0.1
    assert d[0, 1] > 0.5
    assert d[0, 3] == 0.0  # unknown never vetoes a match
