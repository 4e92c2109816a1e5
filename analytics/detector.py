"""Object detection: ``Detector.detect(frame) -> list[Detection]`` (docs/architecture.md, rule 2).

``YoloxDetector`` runs YOLOX-nano (COCO, 416×416, see shared/models/README.md) through ONNX
Runtime. The pre- and post-processing are plain functions so they are unit-tested on
hand-made tensors without the model:

* :func:`letterbox` — resize keeping aspect, pad bottom/right with 114 (as YOLOX was
  trained), BGR 0–255 float, NCHW.
* :func:`grid_decode` — the anchor-free head: centre = (raw + cell) × stride,
  size = exp(raw) × stride, score = objectness × class probability.
* :func:`postprocess` — keep the six traffic/person classes, threshold, per-class NMS,
  undo the letterbox scale (and the ROI offset).

``FakeDetector`` replays scripted detections per frame number so later stages are tested
without a model. :data:`DETECTORS` is the explicit registry chosen by ``detector: onnx|fake``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from analytics.geometry import clip_box, nms
from core.errors import ModelError
from core.messages import Box, Detection, Frame

log = logging.getLogger(__name__)

COCO_LABELS: dict[int, str] = {
    0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 5: "bus", 7: "truck",
}
"""The COCO classes Vigil reports; every other class is dropped in post-processing."""
LABELS = frozenset(COCO_LABELS.values())
STRIDES = (8, 16, 32)
PAD_VALUE = 114
MODEL_NAME = "yolox_nano.onnx"

F32 = npt.NDArray[np.float32]


class Detector(Protocol):
    """One verb: find objects in a frame. Implementations never mutate the frame."""

    def detect(self, frame: Frame) -> list[Detection]:
        """Detections in ``frame`` pixel coordinates, best score first per class."""
        ...


class Model(Protocol):
    """What the detector needs from a loaded model (``analytics.runtime.OnnxModel``)."""

    def run(self, tensor: F32) -> Sequence[F32]:
        """Run on one ``[1, 3, S, S]`` tensor; the first output is YOLOX's ``[1, N, 85]``."""
        ...


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """Per-camera detection settings.

    ``roi`` is normalised ``(x1, y1, x2, y2)`` (0..1 of the frame): only that part is fed to
    the model, which both saves time and lets small, far objects use more input pixels.
    ``classes`` ``None`` means every label in :data:`LABELS`. ``score_threshold`` is low by
    default because the tracker follows: ByteTrack continues tracks through low-score
    (partly hidden) boxes and decides itself what is confident enough to start a track.
    """

    score_threshold: float = 0.1
    nms_iou: float = 0.45
    classes: frozenset[str] | None = None
    roi: Box | None = None
    input_size: int = 416

    def __post_init__(self) -> None:
        unknown = set(self.classes or ()) - LABELS
        if unknown:
            raise ValueError(f"unknown detector classes {sorted(unknown)}; "
                             f"choose from {sorted(LABELS)}")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValueError(f"score_threshold {self.score_threshold} must be within 0..1")
        if not 0.0 < self.nms_iou <= 1.0:
            raise ValueError(f"nms_iou {self.nms_iou} must be within (0, 1]")
        if self.input_size <= 0 or self.input_size % 32:
            raise ValueError(f"input_size {self.input_size} must be a positive multiple of 32 "
                             "(the largest YOLOX stride)")
        if self.roi is not None:
            x1, y1, x2, y2 = self.roi
            if not 0.0 <= x1 < x2 <= 1.0 or not 0.0 <= y1 < y2 <= 1.0:
                raise ValueError(f"roi {self.roi} must be normalised x1 < x2, y1 < y2 in 0..1")


def letterbox(image: npt.NDArray[np.uint8], size: int) -> tuple[F32, float]:
    """``image`` (H×W×3 BGR) → (``[1, 3, size, size]`` float32 tensor, scale ratio).

    The image is scaled by ``ratio = min(size/H, size/W)`` and placed top-left on a 114-grey
    square; padding top-left (not centred) means undoing it is a single division.
    """
    height, width = image.shape[:2]
    ratio = min(size / height, size / width)
    new_w, new_h = max(1, round(width * ratio)), max(1, round(height * ratio))
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    canvas[:new_h, :new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32)
    return np.ascontiguousarray(tensor), ratio


@functools.lru_cache(maxsize=8)
def make_grid(size: int, strides: tuple[int, ...] = STRIDES) -> tuple[F32, F32]:
    """Cell offsets (N×2, x then y, row-major per stride) and the stride of each cell (N×1).

    Cached: the grid depends only on the input size, and rebuilding it per frame would cost
    about as much as the rest of the post-processing.
    """
    cells: list[F32] = []
    steps: list[F32] = []
    for stride in strides:
        cols = rows = size // stride
        ys, xs = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        cells.append(np.stack((xs, ys), axis=-1).reshape(-1, 2).astype(np.float32))
        steps.append(np.full((rows * cols, 1), stride, dtype=np.float32))
    return np.concatenate(cells), np.concatenate(steps)


def grid_decode(raw: F32, size: int, strides: tuple[int, ...] = STRIDES) -> tuple[F32, F32]:
    """YOLOX head output (N×(5+C)) → boxes (N×4, x1 y1 x2 y2 in input pixels), scores (N×C).

    ``scores = objectness × class probability`` (both already sigmoid-activated in this
    export), so one threshold serves every class.
    """
    cells, steps = make_grid(size, strides)
    if raw.shape[0] != cells.shape[0]:
        raise ModelError(f"YOLOX output has {raw.shape[0]} cells, expected {cells.shape[0]} "
                         f"for input {size}: is the model a {size}×{size} export?")
    centres = (raw[:, 0:2] + cells) * steps
    sizes = np.exp(np.minimum(raw[:, 2:4], 20.0)) * steps
    boxes = np.concatenate((centres - sizes / 2, centres + sizes / 2), axis=1)
    scores = raw[:, 4:5] * raw[:, 5:]
    return boxes.astype(np.float32), scores.astype(np.float32)


@dataclass(frozen=True, slots=True)
class Placement:
    """How model-input pixels map back to frame pixels: ``frame = input / ratio + offset``."""

    ratio: float
    offset: tuple[float, float]
    frame_size: tuple[int, int]


def postprocess(boxes: F32, scores: F32, place: Placement,
                options: DetectorOptions) -> list[Detection]:
    """Threshold, per-class NMS and map back to frame pixels; only :data:`COCO_LABELS`."""
    wanted = options.classes if options.classes is not None else LABELS
    out: list[Detection] = []
    dx, dy = place.offset
    for class_id, label in COCO_LABELS.items():
        if label not in wanted or class_id >= scores.shape[1]:
            continue
        class_scores = scores[:, class_id]
        idx = np.flatnonzero(class_scores >= options.score_threshold)
        if idx.size == 0:
            continue
        kept = idx[nms(boxes[idx], class_scores[idx], options.nms_iou)]
        for i in kept:
            x1, y1, x2, y2 = (float(v) / place.ratio for v in boxes[i])
            box = clip_box((x1 + dx, y1 + dy, x2 + dx, y2 + dy), place.frame_size)
            if box[2] > box[0] and box[3] > box[1]:
                out.append(Detection(label, float(class_scores[i]), box))
    return out


def roi_pixels(roi: Box | None, frame_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Normalised ROI → integer pixel crop ``(x1, y1, x2, y2)``; ``None`` is the whole frame."""
    width, height = frame_size
    if roi is None:
        return 0, 0, width, height
    x1, y1, x2, y2 = roi
    px1, py1 = int(x1 * width), int(y1 * height)
    return px1, py1, max(px1 + 1, round(x2 * width)), max(py1 + 1, round(y2 * height))


class YoloxDetector:
    """YOLOX-nano through ONNX Runtime; one loaded model may serve many cameras.

    Build one detector per camera with that camera's :class:`DetectorOptions`, passing the
    same model: the session is the expensive part (memory, threads), options are not.
    """

    def __init__(self, model: Model, options: DetectorOptions | None = None) -> None:
        self.model = model
        self.options = options or DetectorOptions()

    def detect(self, frame: Frame) -> list[Detection]:
        """Persons and vehicles in ``frame`` (pixel boxes); the frame is not modified."""
        height, width = frame.image.shape[:2]
        x1, y1, x2, y2 = roi_pixels(self.options.roi, (width, height))
        tensor, ratio = letterbox(frame.image[y1:y2, x1:x2], self.options.input_size)
        raw = np.asarray(self.model.run(tensor)[0], dtype=np.float32)
        boxes, scores = grid_decode(raw.reshape(raw.shape[-2], raw.shape[-1]),
                                    self.options.input_size)
        place = Placement(ratio, (float(x1), float(y1)), (width, height))
        return postprocess(boxes, scores, place, self.options)

    def with_options(self, options: DetectorOptions) -> YoloxDetector:
        """A detector for another camera sharing this one's model (and session)."""
        return YoloxDetector(self.model, options)


def load_yolox(model_dir: Path, options: DetectorOptions | None = None) -> YoloxDetector:
    """A :class:`YoloxDetector` for the model pack's ``yolox_nano.onnx`` in ``model_dir``.

    The file is checked against the manifest (:func:`analytics.modelpack.resolve`) and the
    session is built and warmed up by :func:`analytics.runtime.load_model` (one intra-op
    thread, no spinning); a missing or wrong file raises ``ModelError`` at start-up.
    """
    from analytics import modelpack, runtime

    options = options or DetectorOptions()
    path = modelpack.resolve(Path(model_dir), MODEL_NAME)
    log.info("loading detector model %s", path)
    size = options.input_size
    return YoloxDetector(runtime.load_model(path, shape=(1, 3, size, size)), options)


class FakeDetector:
    """Replays ``script[frame.seq]`` (empty when absent): a detector twin for tests.

    ``calls`` counts ``detect`` calls so motion-gate wiring can be checked.
    """

    def __init__(self, script: Mapping[int, Sequence[Detection]] | None = None,
                 options: DetectorOptions | None = None) -> None:
        self._script = dict(script or {})
        self.options = options or DetectorOptions()
        self.calls = 0

    def detect(self, frame: Frame) -> list[Detection]:
        """The scripted detections for this frame that pass the options' class/score filter."""
        self.calls += 1
        wanted = self.options.classes if self.options.classes is not None else LABELS
        return [d for d in self._script.get(frame.seq, ())
                if d.label in wanted and d.score >= self.options.score_threshold]


def _fake(model_dir: Path, options: DetectorOptions | None = None) -> Detector:
    return FakeDetector(None, options)


DetectorFactory = Callable[[Path, DetectorOptions | None], Detector]
DETECTORS: dict[str, DetectorFactory] = {"onnx": load_yolox, "fake": _fake}
"""``detector:`` setting → factory ``(model_dir, options) -> Detector``."""


def build_detector(kind: str, model_dir: Path,
                   options: DetectorOptions | None = None) -> Detector:
    """The detector named ``kind``; an unknown name fails with the valid choices."""
    try:
        factory = DETECTORS[kind]
    except KeyError:
        raise ModelError(f"unknown detector '{kind}': choose one of "
                         f"{', '.join(sorted(DETECTORS))}") from None
    return factory(model_dir, options)

