"""Optimal track↔detection assignment (Hungarian) and the IoU matcher built on it.

Separate from :mod:`analytics.tracker` so the solver can be tested against brute force
on its own and reused (``bench/pets.py`` matches ground truth with it).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analytics.geometry import iou_matrix

FloatArray = npt.NDArray[np.float64]
INFEASIBLE = 1e6


def min_cost_assignment(cost: npt.ArrayLike) -> list[tuple[int, int]]:
    """Optimal row↔column assignment minimising total cost (Hungarian, O(n²m)).

    Shortest augmenting paths with row/column potentials; rectangular matrices are handled
    by assigning every row of the shorter side. Returns ``(row, col)`` pairs sorted by row.
    """
    matrix = np.asarray(cost, dtype=np.float64)
    rows, cols = matrix.shape
    if rows == 0 or cols == 0:
        return []
    if rows > cols:
        return sorted((r, c) for c, r in min_cost_assignment(matrix.T))
    u, v = np.zeros(rows + 1), np.zeros(cols + 1)
    owner = np.zeros(cols + 1, dtype=np.intp)  # owner[j] = 1-based row holding column j
    for row in range(1, rows + 1):
        _augment(matrix, row, (u, v), owner)
    return sorted((int(owner[j]) - 1, j - 1) for j in range(1, cols + 1) if owner[j])


def _augment(matrix: FloatArray, row: int, potentials: tuple[FloatArray, FloatArray],
             owner: npt.NDArray[np.intp]) -> None:
    """Add ``row`` to the matching along a shortest augmenting path (updates in place)."""
    u, v = potentials
    cols = matrix.shape[1]
    owner[0] = row
    col = 0
    slack = np.full(cols + 1, np.inf)
    came_from = np.zeros(cols + 1, dtype=np.intp)
    used = np.zeros(cols + 1, dtype=bool)
    while True:
        used[col] = True
        current = owner[col]
        reduced = matrix[current - 1] - u[current] - v[1:]
        free = ~used[1:]
        better = free & (reduced < slack[1:])
        slack[1:][better] = reduced[better]
        came_from[1:][better] = col
        candidates = np.where(free, slack[1:], np.inf)
        nxt = int(np.argmin(candidates)) + 1
        delta = candidates[nxt - 1]
        u[owner[used]] += delta
        v[used] -= delta
        slack[~used] -= delta
        col = nxt
        if owner[col] == 0:
            break
    while col:
        prev = came_from[col]
        owner[col] = owner[prev]
        col = prev


def match(tracks_boxes: FloatArray, det_boxes: FloatArray, same_label: npt.NDArray[np.bool_],
          min_iou: float) -> list[tuple[int, int]]:
    """Track↔detection pairs maximising total IoU, each pair with IoU ≥ ``min_iou``."""
    iou = iou_matrix(tracks_boxes, det_boxes)
    feasible = same_label & (iou >= min_iou)
    cost = np.where(feasible, 1.0 - iou, INFEASIBLE)
    return [(t, d) for t, d in min_cost_assignment(cost) if feasible[t, d]]
