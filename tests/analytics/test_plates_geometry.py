"""Pre/post-processing geometry of plate reading, table-driven, no model needed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from analytics.geometry import nms
from analytics.plates_geometry import (
    expand_quad,
    iou,
    letterbox,
    looks_like_crop,
    order_corners,
    quad_size,
    rectify,
    split_double_row,
)
from core.messages import Box


@pytest.mark.parametrize(("height", "width", "size"), [
    (720, 1280, 320), (1160, 720, 320), (100, 100, 640), (24, 94, 320), (1080, 1920, 640),
])
def test_letterbox_round_trip(height: int, width: int, size: int) -> None:
    image = np.full((height, width, 3), 200, dtype=np.uint8)
    square, frame = letterbox(image, size)
    assert square.shape == (size, size, 3)
    points = np.array([[0, 0], [width, height], [width / 3, height / 2]], dtype=np.float32)
    back = frame.to_source(frame.to_input(points))
    np.testing.assert_allclose(back, points, atol=1e-3)
    # the image is centred: padding splits evenly (within rounding) on the padded axis
    top_left = frame.to_input(np.zeros((1, 2), np.float32))[0]
    bottom_right = frame.to_input(np.array([[width, height]], np.float32))[0]
    assert abs(top_left[0] - (size - bottom_right[0])) <= 1.5
    assert abs(top_left[1] - (size - bottom_right[1])) <= 1.5


def test_letterbox_pads_with_zero_and_keeps_pixels() -> None:
    image = np.full((100, 200, 3), 255, dtype=np.uint8)
    square, frame = letterbox(image, 100)
    assert frame.scale == 0.5 and frame.pad_x == 0 and frame.pad_y == 25
    assert square[:25].max() == 0 and square[75:].max() == 0
    assert square[25:75].min() == 255


@pytest.mark.parametrize(("a", "b", "expected"), [
    ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
    ((0, 0, 10, 10), (5, 0, 15, 10), 50 / 150),
    ((0, 0, 10, 10), (10, 10, 20, 20), 0.0),
    ((0, 0, 10, 10), (2, 2, 4, 4), 4 / 100),
    ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),
])
def test_iou(a: Box, b: Box, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)


@pytest.mark.parametrize(("boxes", "scores", "threshold", "kept"), [
    ([], [], 0.5, []),
    ([[0, 0, 10, 10]], [0.9], 0.5, [0]),
    # heavy overlap: the lower score goes
    ([[0, 0, 10, 10], [1, 0, 11, 10]], [0.8, 0.9], 0.5, [1]),
    # IoU 1/3 is under the threshold: both stay, best first
    ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.5, [0, 1]),
    # ... and over a lower one
    ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.3, [0]),
    # chain: 0 suppresses 1; 2 overlaps only 1, so it survives
    ([[0, 0, 10, 10], [4, 0, 14, 10], [8, 0, 18, 10]], [0.9, 0.8, 0.7], 0.4, [0, 2]),
    # zero-area boxes never divide by zero
    ([[0, 0, 0, 0], [0, 0, 0, 0]], [0.5, 0.4], 0.5, [0, 1]),
])
def test_nms(boxes: list[list[float]], scores: list[float], threshold: float,
             kept: list[int]) -> None:
    result = nms(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
                 threshold)
    assert result.tolist() == kept


ORDERED = np.array([[10, 20], [110, 25], [108, 60], [8, 55]], dtype=np.float32)


def _rotated(angle: float) -> np.ndarray:
    centre = ORDERED.mean(axis=0)
    rad = np.deg2rad(angle)
    rot = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]], np.float32)
    return np.asarray((ORDERED - centre) @ rot.T + centre, dtype=np.float32)


@pytest.mark.parametrize("permutation", [(0, 1, 2, 3), (2, 0, 3, 1), (3, 2, 1, 0), (1, 3, 0, 2)])
@pytest.mark.parametrize("angle", [0, 20, -30, 40, 60, -75])
def test_order_corners_any_input_order_and_tilt(permutation: tuple[int, ...],
                                                angle: float) -> None:
    expected = _rotated(angle)
    got = order_corners(expected[list(permutation)])
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_rectify_recovers_a_warped_plate() -> None:
    flat = np.zeros((40, 120, 3), dtype=np.uint8)
    flat[:, :60] = (0, 0, 255)    # left half red
    flat[:, 60:] = (255, 0, 0)    # right half blue
    src = np.array([[0, 0], [119, 0], [119, 39], [0, 39]], dtype=np.float32)
    quad = np.array([[200, 100], [330, 130], [320, 175], [195, 140]], dtype=np.float32)
    scene = np.asarray(cv2.warpPerspective(flat, cv2.getPerspectiveTransform(src, quad),
                                           (500, 300)), dtype=np.uint8)
    crop = rectify(scene, quad[[2, 0, 3, 1]])  # corner order must not matter
    width, height = quad_size(order_corners(quad))
    assert crop.shape == (height, width, 3)
    assert crop[height // 2, width // 4, 2] > 200 and crop[height // 2, width // 4, 0] < 60
    assert crop[height // 2, 3 * width // 4, 0] > 200 and crop[height // 2, 3 * width // 4, 2] < 60


def test_expand_quad_grows_each_side_by_the_margin() -> None:
    quad = np.array([[0, 0], [100, 0], [100, 30], [0, 30]], dtype=np.float32)
    grown = expand_quad(quad, 0.1)
    np.testing.assert_allclose(grown, [[-10, -3], [110, -3], [110, 33], [-10, 33]], atol=1e-4)
    assert expand_quad(quad, 0.0) is quad


def test_split_double_row_places_rows_side_by_side() -> None:
    crop = np.zeros((120, 200, 3), dtype=np.uint8)
    crop[:50] = 80     # upper row (province + letter)
    crop[50:] = 200    # lower row (serial)
    line = split_double_row(crop)
    lower_h = 120 - round(120 / 3)
    assert line.shape == (lower_h, 400, 3)
    assert line[:, :200].mean() < line[:, 200:].mean()        # upper row on the left
    assert line[lower_h // 2, 300, 0] == 200                 # serial intact on the right


@pytest.mark.parametrize(("shape", "crop"), [
    ((24, 94, 3), True), ((140, 440, 3), True), ((54, 104, 3), False),
    ((720, 1280, 3), False), ((1160, 720, 3), False), ((300, 1000, 3), False),
])
def test_looks_like_crop(shape: tuple[int, int, int], crop: bool) -> None:
    assert looks_like_crop(shape) is crop
