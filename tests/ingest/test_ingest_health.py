"""Picture health on synthetic arrays: frozen, black, blank, degraded, fps, decode time."""

from __future__ import annotations

import numpy as np
import pytest

from core.messages import CameraHealth as H
from ingest.health import DEGRADED_FOR, HealthMonitor, grey_sample, signature
from tests.ingest.ingest_media import Image, background, uniform

RNG = np.random.default_rng(0)


def monitor() -> HealthMonitor:
    return HealthMonitor(frozen_after=2.0, black_level=16.0, blank_stddev=3.0, hold=1.0)


def feed(mon: HealthMonitor, images: list[Image], fps: float = 25.0) -> float:
    t = 0.0
    for img in images:
        mon.observe(img, at=1000.0 + t, arrived=t, decode_ms=2.0)
        t += 1.0 / fps
    return t


def noisy(img: Image, amplitude: int) -> Image:
    noise = RNG.integers(-amplitude, amplitude + 1, img.shape)
    out: Image = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return out


def moving_box(n: int) -> list[Image]:
    out = []
    for i in range(n):
        img = background().copy()
        img[80:120, i * 5 % 280: i * 5 % 280 + 40] = 255
        out.append(img)
    return out


@pytest.mark.parametrize(("name", "images", "expected"), [
    ("moving scene", moving_box(75), H.OK),
    ("frozen picture", [background()] * 75, H.FROZEN),
    ("frozen with encoder noise", [noisy(background(), 3) for _ in range(75)], H.FROZEN),
    ("black", [uniform((3, 3, 3))] * 30, H.BLACK),
    ("black with sensor noise", [noisy(uniform((5, 5, 5)), 4) for _ in range(30)], H.BLACK),
    ("blank blue no-signal screen", [uniform((160, 60, 20))] * 30, H.BLANK),
    ("blank grey", [uniform((128, 128, 128))] * 30, H.BLANK),
    ("short frozen run", [background()] * 25, H.OK),
])
def test_picture_verdicts(name: str, images: list[Image], expected: H) -> None:
    mon = monitor()
    end = feed(mon, images)
    assert mon.health(end) is expected, name


def test_one_dark_frame_does_not_flap_to_black() -> None:
    mon = monitor()
    frames = moving_box(10) + [uniform((0, 0, 0))] * 5 + moving_box(10)
    seen = set()
    t = 0.0
    for img in frames:
        mon.observe(img, at=t, arrived=t, decode_ms=1.0)
        seen.add(mon.health(t))
        t += 0.04
    assert H.BLACK not in seen


def test_slow_drift_is_not_frozen() -> None:
    mon = monitor()
    base = background().astype(np.int16)
    images = [np.clip(base + i // 2, 0, 255).astype(np.uint8) for i in range(100)]
    end = feed(mon, images)
    assert mon.health(end) is H.OK


def test_decode_errors_degrade_for_a_while() -> None:
    mon = monitor()
    feed(mon, moving_box(10))
    mon.note_errors(0, now=0.0)
    assert mon.health(0.4) is H.OK
    mon.note_errors(3, now=1.0)
    assert mon.health(1.1) is H.DEGRADED
    mon.note_errors(3, now=2.0)
    assert mon.health(1.0 + DEGRADED_FOR + 0.1) is H.OK


def test_black_beats_degraded() -> None:
    mon = monitor()
    feed(mon, [uniform((0, 0, 0))] * 30)
    mon.note_errors(5, now=1.0)
    assert mon.health(1.1) is H.BLACK


def test_fps_and_decode_ms() -> None:
    mon = monitor()
    end = feed(mon, moving_box(100), fps=25.0)
    assert mon.fps(end) == pytest.approx(25.0, rel=0.05)
    assert mon.decode_ms == pytest.approx(2.0)
    assert mon.fps(end + 10.0) == 0.0


def test_sample_is_small_for_any_resolution() -> None:
    full_hd = np.zeros((1080, 1920, 3), np.uint8)
    grey = grey_sample(full_hd)
    assert grey.shape[0] <= 60 and grey.shape[1] <= 100
    assert signature(grey).shape == (12, 16)
