"""Pure image geometry for plate reading: letterbox, NMS, corner order, rectification,
double-row split.

Kept apart from the model adapters so every step can be tested on hand-made arrays, without
a model file: a wrong letterbox inverse or corner order costs accuracy silently, it does not
crash, so only table-driven tests catch it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from core.messages import Box

UInt8Image = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
Indices = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How an image was scaled and padded into a square model input.

    ``scale`` multiplies source pixels into input pixels; ``pad_x``/``pad_y`` are the left
    and top padding added after scaling (the image is centred).
    """

    scale: float
    pad_x: int
    pad_y: int

    def to_input(self, points: Floats) -> Floats:
        """Source-image ``(..., 2)`` points → model-input points."""
        offset = np.array([self.pad_x, self.pad_y], dtype=np.float32)
        return (points * self.scale + offset).astype(np.float32)

    def to_source(self, points: Floats) -> Floats:
        """Model-input ``(..., 2)`` points → source-image points (the inverse of
        :meth:`to_input`)."""
        offset = np.array([self.pad_x, self.pad_y], dtype=np.float32)
        return ((points - offset) / self.scale).astype(np.float32)


def letterbox(image: UInt8Image, size: int, pad_value: int = 0) -> tuple[UInt8Image, Letterbox]:
    """Scale ``image`` to fit a ``size``x``size`` square keeping its aspect ratio and centre it
    on a ``pad_value`` background (HyperLPR3's detector was trained this way)."""
    height, width = image.shape[:2]
    scale = min(size / height, size / width)
    new_w = max(1, min(size, round(width * scale)))
    new_h = max(1, min(size, round(height * scale)))
    pad_x, pad_y = (size - new_w) // 2, (size - new_h) // 2
    canvas = np.full((size, size, *image.shape[2:]), pad_value, dtype=np.uint8)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w] = resized.reshape(
        canvas[pad_y:pad_y + new_h, pad_x:pad_x + new_w].shape)
    return canvas, Letterbox(scale, pad_x, pad_y)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x1, y1, x2, y2)`` boxes (0 when either is empty)."""
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def order_corners(points: Floats) -> Floats:
    """Four corners as top-left, top-right, bottom-right, bottom-left.

    Detectors name their corners in their own order (or none); rectification needs one.
    Points are sorted clockwise around their centroid; a plate is wider than tall, so the
    longer pair of opposite edges is top and bottom, and going clockwise the top edge is
    the one that runs to the right: the cycle starts there. Sorting by x+y instead breaks
    on tilted plates, which CCPD is full of.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    cycle = pts[np.argsort(angles, kind="stable")]  # clockwise on screen (y points down)
    edges = np.roll(cycle, -1, axis=0) - cycle
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    pair = 0 if lengths[0] + lengths[2] >= lengths[1] + lengths[3] else 1
    start = pair if edges[pair, 0] >= edges[pair + 2, 0] else pair + 2
    return np.roll(cycle, -start, axis=0)


def quad_size(corners: Floats) -> tuple[int, int]:
    """Width and height of the flat crop for ordered corners: the longer of each pair of
    opposite edges, so no pixel row or column is squeezed out."""
    tl, tr, br, bl = corners
    width = max(np.hypot(*(tr - tl)), np.hypot(*(br - bl)))
    height = max(np.hypot(*(bl - tl)), np.hypot(*(br - tr)))
    return max(1, round(float(width))), max(1, round(float(height)))


def expand_quad(corners: Floats, margin: float) -> Floats:
    """Ordered corners pushed out from their centre by ``margin`` of the plate's width
    (horizontally) and height (vertically): detector corners sit on the plate's edge, and
    the recogniser reads the first and last characters better with a little border."""
    if margin <= 0:
        return corners
    tl, tr, br, bl = corners
    across = ((tr - tl) + (br - bl)) / 2
    down = ((bl - tl) + (br - tr)) / 2
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float32)
    shift = signs[:, :1] * across * margin + signs[:, 1:] * down * margin
    return np.asarray(corners + shift, dtype=np.float32)


def rectify(image: UInt8Image, corners: Floats, margin: float = 0.0) -> UInt8Image:
    """Warp the quadrilateral ``corners`` (any order) of ``image`` to a flat, upright crop."""
    quad = expand_quad(order_corners(corners), margin)
    width, height = quad_size(quad)
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                      dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    warped = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(warped, dtype=np.uint8)


UPPER_ROW_END = 5 / 12
LOWER_ROW_START = 1 / 3
"""A double-row plate's upper row (province + letter) fills about the top 5/12; the lower
row (the serial) starts about a third of the way down. The overlap is deliberate: cutting
through a character is worse than reading a sliver of the other row's border."""


def split_double_row(crop: UInt8Image, upper_end: float = UPPER_ROW_END,
                     lower_start: float = LOWER_ROW_START) -> UInt8Image:
    """Place a double-row plate's upper row left of its lower row, as one single-row image.

    The recogniser only reads one line. The upper row is stretched to the lower row's
    height and full width so both parts keep the character height the recogniser expects.
    """
    height, width = crop.shape[:2]
    lower = crop[min(height - 1, round(height * lower_start)):]
    upper = cv2.resize(crop[: max(1, round(height * upper_end))], (width, lower.shape[0]),
                       interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(np.hstack([upper.reshape(lower.shape), lower]), dtype=np.uint8)


def looks_like_crop(shape: tuple[int, ...], min_aspect: float = 2.5,
                    max_height: int = 200) -> bool:
    """True for an image that is a plate already: small and at least 2.5x wider than tall.

    Plate detectors find nothing in a 94x24 crop (there is no context around the plate), so
    a caller given such an image should read it directly. Scenes are rarely that flat and
    never that small.
    """
    height, width = shape[:2]
    return height <= max_height and width >= min_aspect * height
