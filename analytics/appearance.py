"""A cheap appearance cue for the tracker: colour histograms of each detection's box.

Why: boxes and motion alone cannot tell apart two people who cross or walk side by side —
their boxes overlap and either assignment fits the motion equally well, so ids swap, and
a swap re-raises loitering and crowd alerts and corrupts line counts. Clothing colour
usually *does* tell them apart. No re-identification network ships in the model pack, so
the cue is a colour histogram, computed in the worker process (the pixels never leave it)
and handed to :meth:`~analytics.tracker.Tracker.update` as plain vectors, which keeps the
tracker pure and testable with hand-made vectors.

The descriptor (:func:`describe`): the box is trimmed (head, feet and the side margins are
mostly background or shared with a neighbour), sampled on a fixed grid and averaged down to
:data:`PATCH` (constant cost whatever the box size, and less pixel noise), converted to HSV
and split into an upper (torso) and a lower (legs) half, because "red coat, jeans" is far
more specific than the colours of both mixed. Each half gets :data:`HUE_BINS` hue bins for
coloured pixels and :data:`GREY_BINS` brightness bins for the greys (hue is noise when
saturation or brightness is low). Each half is normalised to sum 1/2, so a vector sums to 1.

Distance (:func:`distance`): Hellinger, ``sqrt(1 − Σ sqrt(p·q))``, 0 for the same
histogram and 1 for disjoint ones; bounded, so a single threshold means the same thing
for every camera.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from core.messages import Box

FloatArray = npt.NDArray[np.float64]
UInt8Image = npt.NDArray[np.uint8]

PATCH = (12, 24)
"""Width × height the trimmed box is resized to: 64 pixels per half is enough for a
histogram of 12 bins, and a person box is about 1:2.5."""
HUE_BINS = 8
GREY_BINS = 4
DIMS = 2 * (HUE_BINS + GREY_BINS)
TRIM = (0.10, 0.05, 0.05)
"""Fractions cut from each side, the top (head) and the bottom (feet, shadow)."""
MIN_SATURATION = 64
MIN_VALUE = 48
"""Below these (of 255), a pixel counts as grey: its hue is unreliable."""


def describe(image: UInt8Image, boxes: Sequence[Box]) -> FloatArray:
    """One descriptor per box (N×:data:`DIMS`); a row of zeros for a box with no pixels
    in the picture (the tracker then ignores appearance for it)."""
    out = np.zeros((len(boxes), DIMS), dtype=np.float64)
    height, width = image.shape[:2]
    side, top, bottom = TRIM
    for row, (x1, y1, x2, y2) in enumerate(boxes):
        w, h = x2 - x1, y2 - y1
        left = int(max(0.0, x1 + side * w))
        right = int(min(float(width), x2 - side * w))
        upper = int(max(0.0, y1 + top * h))
        lower = int(min(float(height), y2 - bottom * h))
        if right - left < 2 or lower - upper < 2:
            continue
        # Sample a fixed 2× grid of the patch, then average 2×2: the cost is the same for a
        # distant walker and a close car (area-resizing a whole large crop is ~10× dearer).
        rows = np.linspace(upper, lower - 1, 2 * PATCH[1]).astype(np.intp)
        cols = np.linspace(left, right - 1, 2 * PATCH[0]).astype(np.intp)
        patch = cv2.resize(image[np.ix_(rows, cols)], PATCH, interpolation=cv2.INTER_AREA)
        hsv = np.asarray(cv2.cvtColor(patch, cv2.COLOR_BGR2HSV), dtype=np.uint8)
        out[row] = _histogram(hsv)
    return out


def _histogram(hsv: UInt8Image) -> FloatArray:
    """Hue/grey histogram of the upper and of the lower half of an HSV patch."""
    hue = hsv[..., 0].astype(np.intp) * HUE_BINS // 180  # OpenCV hue is 0..179
    grey = HUE_BINS + hsv[..., 2].astype(np.intp) * GREY_BINS // 256
    coloured = (hsv[..., 1] >= MIN_SATURATION) & (hsv[..., 2] >= MIN_VALUE)
    bins = np.where(coloured, hue, grey)
    half = bins.shape[0] // 2
    parts = []
    for part in (bins[:half], bins[half:]):
        counts = np.bincount(part.ravel(), minlength=HUE_BINS + GREY_BINS).astype(np.float64)
        parts.append(counts / (2.0 * counts.sum()))
    return np.concatenate(parts)


def distance(tracks: FloatArray, detections: FloatArray) -> FloatArray:
    """Hellinger distance of every track descriptor to every detection descriptor (T×D).

    Rows of zeros (no descriptor) get distance 0 to everything: "no evidence" must never
    veto a match that the boxes support."""
    if tracks.shape[0] == 0 or detections.shape[0] == 0:
        return np.zeros((tracks.shape[0], detections.shape[0]))
    overlap = np.sqrt(tracks) @ np.sqrt(detections).T
    out: FloatArray = np.sqrt(np.clip(1.0 - overlap, 0.0, 1.0))
    missing = (tracks.sum(axis=1) == 0)[:, None] | (detections.sum(axis=1) == 0)[None, :]
    out[missing] = 0.0
    return out
