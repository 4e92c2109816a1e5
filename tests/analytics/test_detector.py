"""YOLOX pre/post-processing on hand-made tensors, NMS, fake detector and registry."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from analytics.detector import (
    DETECTORS,
    DetectorOptions,
    FakeDetector,
    Placement,
    YoloxDetector,
    build_detector,
    grid_decode,
    letterbox,
    make_grid,
    postprocess,
    roi_pixels,
)
from analytics.geometry import iou_matrix, nms
from core.errors import ModelError
from core.messages import Detection, Frame

F32 = npt.NDArray[np.float32]
CELLS = 52 * 52 + 26 * 26 + 13 * 13


def _frame(image: npt.NDArray[np.uint8], seq: int = 0) -> Frame:
    return Frame("cam", seq, 100.0 + seq, image)


@pytest.mark.parametrize(("height", "width", "ratio", "content"), [
    (360, 480, 416 / 480, (312, 416)),
    (720, 1280, 416 / 1280, (234, 416)),
    (416, 208, 1.0, (416, 208)),
    (100, 100, 4.16, (416, 416)),
])
def test_letterbox_scales_and_pads_top_left(height: int, width: int, ratio: float,
                                            content: tuple[int, int]) -> None:
    image = np.full((height, width, 3), 200, dtype=np.uint8)
    tensor, got = letterbox(image, 416)
    assert tensor.shape == (1, 3, 416, 416) and tensor.dtype == np.float32
    assert got == pytest.approx(ratio)
    rows, cols = content
    assert np.all(tensor[0, :, :rows, :cols] == 200)
    assert np.all(tensor[0, :, rows:, :] == 114)
    assert np.all(tensor[0, :, :, cols:] == 114)


def test_letterbox_keeps_bgr_channel_order_and_0_255_range() -> None:
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    image[..., 0], image[..., 2] = 255, 7
    tensor, _ = letterbox(image, 64)
    assert tensor[0, 0, 0, 0] == 255 and tensor[0, 1, 0, 0] == 0 and tensor[0, 2, 0, 0] == 7


def test_grid_is_row_major_x_then_y_per_stride() -> None:
    cells, steps = make_grid(416)
    assert cells.shape == (CELLS, 2)
    assert cells[:3].tolist() == [[0, 0], [1, 0], [2, 0]]
    assert cells[52].tolist() == [0, 1]
    assert cells[2704].tolist() == [0, 0] and steps[2704, 0] == 16
    assert cells[-1].tolist() == [12, 12] and steps[-1, 0] == 32


def _raw_with(cells: dict[int, tuple[list[float], float, int, float]]) -> F32:
    """An output tensor where ``index → (box raw, objectness, class, class prob)``."""
    raw = np.zeros((CELLS, 85), dtype=np.float32)
    for index, (box, obj, cls, prob) in cells.items():
        raw[index, :4] = box
        raw[index, 4] = obj
        raw[index, 5 + cls] = prob
    return raw


@pytest.mark.parametrize(("index", "box_raw", "expected"), [
    # stride 8, cell x=3 y=2: centre (3.5·8, 2.5·8) = (28, 20), size (4·8, 8·8)
    (2 * 52 + 3, [0.5, 0.5, math.log(4), math.log(8)], (12.0, -12.0, 44.0, 52.0)),
    # stride 16, cell x=1 y=0: centre (16, 0), size 16
    (2704 + 1, [0.0, 0.0, 0.0, 0.0], (8.0, -8.0, 24.0, 8.0)),
    # stride 32, last cell x=12 y=12: centre (12.25·32, 12·32), size (2·32, 32)
    (CELLS - 1, [0.25, 0.0, math.log(2), 0.0], (360.0, 368.0, 424.0, 400.0)),
])
def test_grid_decode_hand_made_cells(index: int, box_raw: list[float],
                                     expected: tuple[float, ...]) -> None:
    raw = _raw_with({index: (box_raw, 0.9, 0, 0.8)})
    boxes, scores = grid_decode(raw, 416)
    assert boxes[index].tolist() == pytest.approx(expected, abs=1e-4)
    assert scores[index, 0] == pytest.approx(0.72)
    assert scores.shape == (CELLS, 80)
    assert np.count_nonzero(scores) == 1


def test_grid_decode_rejects_wrong_cell_count() -> None:
    with pytest.raises(ModelError, match="3549"):
        grid_decode(np.zeros((100, 85), dtype=np.float32), 416)


@pytest.mark.parametrize(("boxes", "scores", "threshold", "kept"), [
    ([], [], 0.5, []),
    ([[0, 0, 10, 10]], [0.3], 0.5, [0]),
    ([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], [0.6, 0.9, 0.7], 0.5, [1, 2]),
    ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.5, [0, 1]),  # IoU 1/3 stays
    ([[0, 0, 10, 10], [5, 0, 15, 10]], [0.9, 0.8], 0.3, [0]),
    ([[0, 0, 10, 10], [0, 0, 10, 10]], [0.5, 0.5], 0.5, [0]),  # tie keeps first
])
def test_nms_table(boxes: list[list[float]], scores: list[float], threshold: float,
                   kept: list[int]) -> None:
    assert nms(boxes, scores, threshold).tolist() == kept


def test_iou_matrix_values_and_degenerate_boxes() -> None:
    iou = iou_matrix([[0, 0, 10, 10], [0, 0, 0, 0]], [[5, 0, 15, 10], [0, 0, 10, 10]])
    assert iou.ravel().tolist() == pytest.approx([1 / 3, 1.0, 0.0, 0.0])
    assert iou_matrix([], [[0, 0, 1, 1]]).shape == (0, 1)


def _scored(rows: list[tuple[list[float], int, float]]) -> tuple[F32, F32]:
    boxes = np.array([b for b, _, _ in rows], dtype=np.float32).reshape(-1, 4)
    scores = np.zeros((len(rows), 80), dtype=np.float32)
    for i, (_, cls, score) in enumerate(rows):
        scores[i, cls] = score
    return boxes, scores


def test_postprocess_undoes_scale_and_offset_and_clips() -> None:
    boxes, scores = _scored([([10, 20, 110, 220], 0, 0.9), ([400, 0, 420, 20], 2, 0.8)])
    place = Placement(0.5, (100.0, 50.0), (640, 480))
    found = postprocess(boxes, scores, place, DetectorOptions())
    # the car lands entirely right of the frame: clipped to zero width and dropped
    assert [(d.label, d.box) for d in found] == [("person", (120.0, 90.0, 320.0, 480.0))]
    assert found[0].score == pytest.approx(0.9)


@pytest.mark.parametrize(("options", "labels"), [
    (DetectorOptions(), ["person", "person", "bus"]),
    (DetectorOptions(score_threshold=0.5), ["person", "bus"]),
    (DetectorOptions(classes=frozenset({"bus"})), ["bus"]),
    (DetectorOptions(nms_iou=0.9), ["person", "person", "person", "bus"]),
])
def test_postprocess_classes_threshold_per_class_nms(options: DetectorOptions,
                                                     labels: list[str]) -> None:
    boxes, scores = _scored([
        ([0, 0, 10, 20], 0, 0.9), ([1, 0, 11, 20], 0, 0.8),   # duplicate person
        ([0, 0, 10, 20], 5, 0.7),                             # bus on the same box: kept
        ([100, 0, 110, 20], 0, 0.4),                          # weaker, separate person
        ([200, 0, 210, 20], 14, 0.99),                        # a bird: never reported
    ])
    found = postprocess(boxes, scores, Placement(1.0, (0.0, 0.0), (640, 480)), options)
    assert sorted(d.label for d in found) == sorted(labels)


@pytest.mark.parametrize(("roi", "size", "expected"), [
    (None, (640, 480), (0, 0, 640, 480)),
    ((0.5, 0.25, 1.0, 0.75), (640, 480), (320, 120, 640, 360)),
])
def test_roi_pixels(roi: tuple[float, float, float, float] | None, size: tuple[int, int],
                    expected: tuple[int, int, int, int]) -> None:
    assert roi_pixels(roi, size) == expected


@pytest.mark.parametrize("kwargs", [
    {"classes": frozenset({"bird"})}, {"score_threshold": 1.5}, {"roi": (0.5, 0.0, 0.4, 1.0)},
    {"nms_iou": 0.0}, {"input_size": 420},
])
def test_options_fail_early(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DetectorOptions(**kwargs)  # type: ignore[arg-type]


class _OneBoxModel:
    """Stands in for the ONNX model: one person at stride-8 cell (3, 2), records input."""

    def __init__(self) -> None:
        self.inputs: list[F32] = []

    def run(self, tensor: F32) -> list[F32]:
        self.inputs.append(tensor)
        raw = _raw_with({2 * 52 + 3: ([0.5, 0.5, math.log(4), math.log(8)], 1.0, 0, 0.9)})
        return [raw[None]]


def test_yolox_detector_end_to_end_with_roi() -> None:
    model = _OneBoxModel()
    image = np.zeros((720, 1280, 3), dtype=np.uint8)
    detector = YoloxDetector(model, DetectorOptions(roi=(0.5, 0.5, 1.0, 1.0)))
    found = detector.detect(_frame(image))
    ratio = 416 / 640  # the ROI is 640×360
    expected = (640 + 12 / ratio, 360 - 12 / ratio, 640 + 44 / ratio, 360 + 52 / ratio)
    assert len(found) == 1 and found[0].label == "person"
    assert found[0].box == pytest.approx(expected)
    assert model.inputs[0].shape == (1, 3, 416, 416)
    assert detector.with_options(DetectorOptions(classes=frozenset({"car"}))).detect(
        _frame(image)) == []


def test_fake_detector_replays_script_and_filters() -> None:
    person = Detection("person", 0.9, (0, 0, 10, 10))
    weak_car = Detection("car", 0.2, (0, 0, 10, 10))
    fake = FakeDetector({3: [person, weak_car]}, DetectorOptions(score_threshold=0.3))
    image = np.zeros((4, 4, 3), dtype=np.uint8)
    assert fake.detect(_frame(image, 1)) == []
    assert fake.detect(_frame(image, 3)) == [person]
    assert fake.calls == 2


def test_registry_is_explicit_and_unknown_names_fail() -> None:
    assert set(DETECTORS) == {"onnx", "fake"}
    assert isinstance(build_detector("fake", Path("nowhere")), FakeDetector)
    with pytest.raises(ModelError, match="fake, onnx"):
        build_detector("yolo9000", Path("nowhere"))
