"""Motion gate on synthetic frames: quiet scenes cost little, motion and time trigger runs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from analytics.motion import MotionGate, MotionOptions
from core.messages import Frame

W, H = 640, 360


def _scene(seed: int = 1) -> npt.NDArray[np.uint8]:
    """A static textured background with mild sensor noise added per frame by callers."""
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 180, size=(H // 20, W // 20, 3), dtype=np.uint8)
    return np.repeat(np.repeat(base, 20, axis=0), 20, axis=1)


def _frame(image: npt.NDArray[np.uint8], at: float, noise: int = 3) -> Frame:
    rng = np.random.default_rng(int(at * 1000))
    jitter = rng.integers(-noise, noise + 1, size=image.shape)
    noisy = np.clip(image.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
    return Frame("cam", int(at * 10), at, noisy)


def _with_block(image: npt.NDArray[np.uint8], x: int, y: int) -> npt.NDArray[np.uint8]:
    out = image.copy()
    out[y:y + 80, x:x + 30] = 250  # a bright 30×80 "person"
    return out


def test_first_frame_runs_then_static_scene_is_quiet_until_period() -> None:
    gate = MotionGate(MotionOptions(period=5.0))
    scene = _scene()
    reasons = [gate.check(_frame(scene, t / 10)).reason for t in range(0, 60)]
    assert reasons[0] == "first"
    assert reasons[1:50] == ["quiet"] * 49
    assert reasons[50] == "periodic"  # 5 s after the first run
    assert gate.skipped == 58


def test_moving_object_triggers_with_its_box_in_frame_pixels() -> None:
    gate = MotionGate()
    scene = _scene()
    gate.check(_frame(scene, 0.0))
    gate.check(_frame(scene, 0.1))
    decision = gate.check(_frame(_with_block(scene, 400, 200), 0.2))
    assert decision.run and decision.reason == "motion"
    assert decision.changed == pytest.approx(30 * 80 / (W * H), rel=0.5)
    x1, y1, x2, y2 = decision.boxes[0]
    assert abs(x1 - 400) <= 12 and abs(y1 - 200) <= 12
    assert abs(x2 - 430) <= 12 and abs(y2 - 280) <= 12


@pytest.mark.slow  # hundreds of frames
def test_object_that_stops_is_absorbed_and_gate_goes_quiet() -> None:
    gate = MotionGate(MotionOptions(period=1000.0))
    scene = _scene()
    gate.check(_frame(scene, 0.0))
    parked = _with_block(scene, 100, 100)
    reasons = [gate.check(_frame(parked, 0.1 * i)).reason for i in range(1, 120)]
    assert reasons[0] == "motion"
    assert reasons[-1] == "quiet"


@pytest.mark.parametrize(("threshold", "expected"), [(0.001, "motion"), (0.5, "quiet")])
def test_threshold_decides(threshold: float, expected: str) -> None:
    gate = MotionGate(MotionOptions(threshold=threshold, period=1000.0))
    scene = _scene()
    gate.check(_frame(scene, 0.0))
    assert gate.check(_frame(_with_block(scene, 300, 100), 0.1)).reason == expected


def test_resolution_change_restarts_background() -> None:
    gate = MotionGate()
    gate.check(_frame(_scene(), 0.0))
    small = np.zeros((120, 160, 3), dtype=np.uint8)
    assert gate.check(Frame("cam", 1, 0.1, small)).reason == "first"
