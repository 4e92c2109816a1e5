"""Tamper detection on synthetic frames: covered, defocused, turned; hold time; no flapping."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from analytics.tamper import TamperDetector, TamperOptions, compare
from core.messages import Frame, SceneEvent

Image = npt.NDArray[np.uint8]
FPS = 5.0


def _scene(seed: int) -> Image:
    """A textured 'street': random rectangles and lines over a gradient, 320×240."""
    rng = np.random.default_rng(seed)
    image = np.tile(np.linspace(60, 160, 320, dtype=np.uint8), (240, 1))
    image = np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    for _ in range(40):
        x, y = (int(v) for v in rng.integers(0, [300, 220]))
        w, h = (int(v) for v in rng.integers(5, 60, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.rectangle(image, (x, y), (x + w, y + h), colour, -1)
    for _ in range(15):
        p1 = tuple(int(v) for v in rng.integers(0, [320, 240]))
        p2 = tuple(int(v) for v in rng.integers(0, [320, 240]))
        cv2.line(image, p1, p2, (255, 255, 255), 1)
    return image


STREET = _scene(1)


def _black(_: Image) -> Image:
    return np.full_like(STREET, 5)


def _grey_cloth(_: Image) -> Image:
    return np.full_like(STREET, 128)


def _blur(image: Image) -> Image:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), 4.0), dtype=np.uint8)


def _turned(_: Image) -> Image:
    return _scene(2)


def _dusk(image: Image) -> Image:
    return (image * 0.6).astype(np.uint8)


def _detector(hold: float = 2.0, learn_time: float = 60.0,
              adopt_after: float = 600.0) -> TamperDetector:
    counter = itertools.count(1)
    options = TamperOptions(hold=hold, learn_time=learn_time, adopt_after=adopt_after,
                            new_id=lambda: f"t{next(counter)}")
    return TamperDetector("cam", options)


def _play(detector: TamperDetector, plan: list[tuple[float, float, Image]]) -> list[SceneEvent]:
    """Feed frames at FPS for each ``(start, end, image)`` segment of the plan."""
    events: list[SceneEvent] = []
    seq = 0
    for start, end, image in plan:
        for i in range(round((end - start) * FPS)):
            events += detector.update(Frame("cam", seq, start + i / FPS, image))
            seq += 1
    return events


@pytest.mark.parametrize(("tamper", "cause"), [
    (_black, "covered"), (_grey_cloth, "covered"), (_blur, "defocused"), (_turned, "turned"),
])
def test_each_tamper_is_reported_once_after_hold(tamper: Callable[[Image], Image],
                                                 cause: str) -> None:
    detector = _detector(hold=2.0)
    events = _play(detector, [(0.0, 5.0, STREET), (5.0, 15.0, tamper(STREET))])
    assert len(events) == 1, [e.detail for e in events]
    event = events[0]
    assert (event.kind, event.camera_id, event.zone, event.track_ids) == (
        "tamper", "cam", None, ())
    assert event.detail.startswith(f"cause={cause} ")
    assert event.at == pytest.approx(7.0)
    assert event.evidence.clip_from == pytest.approx(5.0)
    assert detector.active == cause


def test_short_glitch_shorter_than_hold_is_ignored() -> None:
    events = _play(_detector(hold=2.0), [(0.0, 5.0, STREET), (5.0, 6.0, _black(STREET)),
                                         (6.0, 12.0, STREET)])
    assert events == []


def test_rearms_only_after_normal_for_hold_then_reports_again() -> None:
    detector = _detector(hold=2.0)
    plan = [(0.0, 5.0, STREET), (5.0, 10.0, _black(STREET)),
            (10.0, 11.0, STREET), (11.0, 15.0, _black(STREET)),   # back too briefly
            (15.0, 20.0, STREET), (20.0, 25.0, _black(STREET))]   # properly re-armed
    events = _play(detector, plan)
    assert [round(e.at, 1) for e in events] == [7.0, 22.0]


def test_slow_lighting_change_is_learnt_not_reported() -> None:
    detector = _detector(hold=2.0, learn_time=5.0)
    plan = [(float(t), float(t + 1), (STREET * (1.0 - 0.02 * t)).astype(np.uint8))
            for t in range(0, 20)]
    assert _play(detector, plan) == []


def test_sudden_dusk_keeps_structure_and_is_not_tamper() -> None:
    assert _play(_detector(), [(0.0, 5.0, STREET), (5.0, 15.0, _dusk(STREET))]) == []


def test_turned_camera_view_is_adopted_after_adopt_after() -> None:
    detector = _detector(hold=2.0, adopt_after=10.0)
    new_view = _turned(STREET)
    events = _play(detector, [(0.0, 5.0, STREET), (5.0, 25.0, new_view)])
    assert [e.detail.split()[0] for e in events] == ["cause=turned"]
    assert detector.active is None  # adopted at 15 s, normal for 2 s: re-armed
    back = _play(detector, [(25.0, 35.0, STREET)])
    assert [e.detail.split()[0] for e in back] == ["cause=turned"]


def test_people_walking_through_are_not_tamper() -> None:
    detector = _detector(hold=1.0)
    events: list[SceneEvent] = []
    for i in range(60):
        image = STREET.copy()
        x = 10 + 5 * i
        cv2.rectangle(image, (x, 80), (x + 25, 200), (30, 30, 30), -1)
        events += detector.update(Frame("cam", i, i / FPS, image))
    assert events == []


def test_hand_over_most_of_the_lens_is_covered() -> None:
    hand = STREET.copy()
    hand[:, :290] = 90  # a flat, lit surface over 90 % of the picture
    events = _play(_detector(), [(0.0, 5.0, STREET), (5.0, 10.0, hand)])
    assert [e.detail.split()[0] for e in events] == ["cause=covered"]


def test_plain_scene_losing_its_one_object_is_not_covered() -> None:
    """A plain car park (painted bay lines) whose one parked car drives away."""
    plain = np.full_like(STREET, 100)
    for x in range(20, 320, 50):
        cv2.line(plain, (x, 0), (x + 30, 239), (230, 230, 230), 2)
    with_car = plain.copy()
    cv2.rectangle(with_car, (120, 80), (200, 160), (240, 240, 240), -1)
    cv2.rectangle(with_car, (140, 95), (180, 120), (20, 20, 20), -1)
    assert _play(_detector(), [(0.0, 5.0, with_car), (5.0, 15.0, plain)]) == []


@pytest.mark.parametrize(("image", "similar", "flattened"), [
    (STREET, 1.0, 0.0), (_black(STREET), 0.0, 1.0), (_dusk(STREET), 1.0, 0.0),
])
def test_compare_blocks(image: Image, similar: float, flattened: float) -> None:
    detector = _detector()
    reference = detector._small_grey(STREET)
    got_similar, got_flattened = compare(detector._small_grey(image), reference)
    assert got_similar == pytest.approx(similar)
    assert got_flattened == pytest.approx(flattened)
