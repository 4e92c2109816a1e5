"""The tracker's low-rate stage: match by predicted position when boxes no longer overlap.

At 5 analysed frames a second a car crossing a D1 picture in 1.5 s moves 120 px between
frames, two thirds of its own width, and its plate moves more than its own width. IoU
association then fails exactly where it matters: a new (tentative) track has no velocity
yet, so its predicted box is where the car *was*, the IoU with where it *is* stays below
``tentative_iou`` and the track is never confirmed; a plate box never overlaps itself at
all. This stage runs after the IoU stages, on the tracks and confident detections they
left over, and pairs them when

* the labels are equal and the label has a reach (``TrackerOptions.reach``, in box sizes
  per second: how fast such an object can plausibly cross the picture),
* the detection's centre lies within ``reach × box size × time since the track's last
  update`` of the track's predicted centre (the predicted position uses the track's
  velocity once it has one; a young track is taken where it was last seen),
* the track was updated at most ``reach_gap`` seconds ago (one or two missed low-rate
  frames, not an occlusion), and the box sizes differ by less than ``SIZE_RATIO``,
* and, when both sides have a colour descriptor, they look alike (``appearance_gate``).

Among feasible pairs the nearest (relative to its reach) wins, by optimal assignment.
Without ``reach`` entries (the default) the tracker is plain ByteTrack.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analytics.assignment import INFEASIBLE, min_cost_assignment

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SIZE_RATIO = 1.5
"""Largest width or height ratio between a track's box and a detection it may reach: an
object does not grow or shrink by half within a few hundred milliseconds."""


def reach_pairs(predicted: FloatArray, boxes: FloatArray, reach: FloatArray,
                allowed: BoolArray) -> list[tuple[int, int]]:
    """Pairs (track row, detection row) matched by distance (module docstring).

    ``predicted``: tracks' predicted boxes (cx, cy, w, h), T×4; ``boxes``: detections
    (cx, cy, w, h), D×4; ``reach``: each track's reach in pixels now (T); ``allowed``: T×D
    pairs the caller permits (same label, look alike)."""
    if predicted.shape[0] == 0 or boxes.shape[0] == 0:
        return []
    gap = np.linalg.norm(predicted[:, None, :2] - boxes[None, :, :2], axis=2)
    width = boxes[None, :, 2] / np.maximum(predicted[:, None, 2], 1e-6)
    height = boxes[None, :, 3] / np.maximum(predicted[:, None, 3], 1e-6)
    similar = ((width < SIZE_RATIO) & (width > 1 / SIZE_RATIO)
               & (height < SIZE_RATIO) & (height > 1 / SIZE_RATIO))
    near = gap <= reach[:, None]
    feasible = allowed & similar & near
    cost = np.where(feasible, gap / np.maximum(reach[:, None], 1e-6), INFEASIBLE)
    return [(t, d) for t, d in min_cost_assignment(cost) if feasible[t, d]]
