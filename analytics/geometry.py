"""Small, pure geometry shared by the detector, tracker and scene rules.

Everything here is a function of its arguments (no state, no I/O) so each piece can be
tested with a table of hand-made cases. Boxes are ``(x1, y1, x2, y2)`` in pixels; scene
rules work on *normalised* points (0..1 of the frame) because zones and lines are
configured that way, independent of the stream resolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.messages import Box

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
Point = tuple[float, float]


def iou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """Intersection over union of every box in ``a`` (N×4) with every box in ``b`` (M×4).

    Degenerate boxes (zero area) have IoU 0 with everything rather than NaN, so callers can
    threshold the matrix without special cases.
    """
    aa = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    bb = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if aa.shape[0] == 0 or bb.shape[0] == 0:
        return np.zeros((aa.shape[0], bb.shape[0]), dtype=np.float64)
    ix1 = np.maximum(aa[:, None, 0], bb[None, :, 0])
    iy1 = np.maximum(aa[:, None, 1], bb[None, :, 1])
    ix2 = np.minimum(aa[:, None, 2], bb[None, :, 2])
    iy2 = np.minimum(aa[:, None, 3], bb[None, :, 3])
    inter = np.clip(ix2 - ix1, 0.0, None) * np.clip(iy2 - iy1, 0.0, None)
    area_a = np.clip(aa[:, 2] - aa[:, 0], 0.0, None) * np.clip(aa[:, 3] - aa[:, 1], 0.0, None)
    area_b = np.clip(bb[:, 2] - bb[:, 0], 0.0, None) * np.clip(bb[:, 3] - bb[:, 1], 0.0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    out: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def nms(boxes: npt.ArrayLike, scores: npt.ArrayLike, iou_threshold: float) -> IntArray:
    """Greedy non-maximum suppression: indices of kept boxes, best score first.

    A box is dropped when it overlaps an already kept, higher-scoring box by more than
    ``iou_threshold``. Ties in score keep the earlier index (stable sort), so results are
    reproducible across runs.
    """
    bx = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    sc = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-sc, kind="stable")
    keep: list[int] = []
    while order.size:
        best = int(order[0])
        keep.append(best)
        if order.size == 1:
            break
        overlaps = iou_matrix(bx[best], bx[order[1:]])[0]
        order = order[1:][overlaps <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def foot_point(box: Box, frame_size: tuple[int, int]) -> Point:
    """Bottom-centre of ``box`` normalised by ``frame_size`` (width, height).

    The feet, not the box centre, are where a person stands on the ground plane that zones
    and lines are drawn on; a tall box's centre may be inside a zone its feet never enter.
    """
    width, height = frame_size
    x1, _, x2, y2 = box
    return ((x1 + x2) / 2.0 / width, y2 / height)


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting; works for concave polygons, any winding order.

    Points exactly on an edge may fall either side; callers that need stability near a
    boundary use a hold time rather than relying on edge cases here.
    """
    x, y = point
    inside = False
    count = len(polygon)
    for i in range(count):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % count]
        if (y1 > y) != (y2 > y):
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


def side(a: Point, b: Point, p: Point) -> float:
    """Cross product (b − a) × (p − a): > 0 when ``p`` is left of a→b in image coordinates.

    Image y grows downwards, so "left" here is the side that appears on the right on screen
    when looking from ``a`` to ``b``; only the sign's change matters to line crossing.
    """
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def segments_cross(p: Point, q: Point, a: Point, b: Point) -> bool:
    """True when the movement p→q crosses segment a–b (touching counts once, at the end).

    The end point ``q`` lying exactly on the line counts, the start point ``p`` does not,
    so a track that stops on the line and then continues is counted once, not twice.
    """
    d1, d2 = side(a, b, p), side(a, b, q)
    if d1 == 0.0 or (d2 != 0.0 and (d1 > 0) == (d2 > 0)):
        return False
    d3, d4 = side(p, q, a), side(p, q, b)
    return (d3 >= 0.0 >= d4) or (d4 >= 0.0 >= d3)


def clip_box(box: Box, frame_size: tuple[int, int]) -> Box:
    """``box`` clipped to the frame (width, height)."""
    width, height = frame_size
    x1, y1, x2, y2 = box
    return (
        min(max(x1, 0.0), float(width)),
        min(max(y1, 0.0), float(height)),
        min(max(x2, 0.0), float(width)),
        min(max(y2, 0.0), float(height)),
    )
