"""Motion gate: skip the detector on cameras where nothing moves.

Most surveillance cameras show an empty scene most of the time; running the detector on
every frame of every camera would spend the CPU budget on nothing. The gate keeps a
running-average background of a small grey copy of the frame (~160 px wide, ~0.2 ms),
measures the fraction of pixels that changed, and decides:

* ``motion``   — changed fraction ≥ ``threshold``: run the detector;
* ``periodic`` — nothing moved, but ``period`` seconds passed since the last run: run a
  full check anyway, so a person standing perfectly still is not forgotten;
* ``first``    — the first frame (no background yet): run;
* ``quiet``    — skip.

Time is the frame's ``captured_at`` (data, not a clock), so the policy is testable.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from core.messages import Box, Frame


@dataclass(frozen=True, slots=True)
class MotionOptions:
    """Tuning for :class:`MotionGate`.

    ``pixel_delta`` is the grey-level difference that counts as change (above sensor
    noise and compression shimmer); ``learn_rate`` is the background's per-frame blend
    weight (0.05 ≈ adapts to lighting over ~20 frames); ``min_area`` drops specks smaller
    than this fraction of the small image from the reported boxes.
    """

    threshold: float = 0.002
    period: float = 5.0
    width: int = 160
    pixel_delta: int = 25
    learn_rate: float = 0.05
    min_area: float = 0.0005


@dataclass(frozen=True, slots=True)
class MotionDecision:
    """Whether to run detection on this frame, and why."""

    run: bool
    reason: str
    changed: float
    boxes: tuple[Box, ...]


class MotionGate:
    """Per-camera background model and detection policy (one instance per camera)."""

    def __init__(self, options: MotionOptions | None = None) -> None:
        self.options = options or MotionOptions()
        self._background: npt.NDArray[np.float32] | None = None
        self._last_run: float | None = None
        self.skipped = 0

    def check(self, frame: Frame) -> MotionDecision:
        """Update the background with ``frame`` and decide whether to run the detector."""
        grey, scale = self._small_grey(frame.image)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
            return self._decide(frame.captured_at, "first", 0.0, ())
        mask = self._changed_mask(grey, self._background)
        changed = float(np.count_nonzero(mask)) / mask.size
        cv2.accumulateWeighted(grey, self._background, self.options.learn_rate)
        boxes = _regions(mask, scale, self.options.min_area)
        if changed >= self.options.threshold:
            return self._decide(frame.captured_at, "motion", changed, boxes)
        due = self._last_run is None or frame.captured_at - self._last_run >= self.options.period
        return self._decide(frame.captured_at, "periodic" if due else "quiet", changed, boxes)

    def _decide(self, at: float, reason: str, changed: float,
                boxes: tuple[Box, ...]) -> MotionDecision:
        run = reason != "quiet"
        if run:
            self._last_run = at
        else:
            self.skipped += 1
        return MotionDecision(run, reason, changed, boxes)

    def _small_grey(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], float]:
        """Grey copy ``options.width`` wide, lightly blurred against noise; and the scale."""
        height, width = image.shape[:2]
        scale = width / self.options.width if width > self.options.width else 1.0
        size = (max(1, round(width / scale)), max(1, round(height / scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return np.asarray(cv2.GaussianBlur(grey, (3, 3), 0), dtype=np.uint8), scale

    def _changed_mask(self, grey: npt.NDArray[np.uint8],
                      background: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
        diff = cv2.absdiff(grey.astype(np.float32), background)
        mask = (diff > self.options.pixel_delta).astype(np.uint8)
        opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        return np.asarray(opened, dtype=np.uint8)


def _regions(mask: npt.NDArray[np.uint8], scale: float, min_area: float) -> tuple[Box, ...]:
    """Bounding boxes (full-frame pixels) of connected changed regions, largest first.

    Changed pixels a few pixels apart are grouped (a person's silhouette is rarely one
    solid blob), but each box is tight around the changed pixels themselves.
    """
    grown = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    smallest = min_area * mask.size
    found: list[tuple[int, Box]] = []
    for i in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < smallest:
            continue
        part = (labels[y:y + h, x:x + w] == i) & (mask[y:y + h, x:x + w] > 0)
        ys, xs = np.nonzero(part)
        if xs.size:
            box: Box = (float((x + xs.min()) * scale), float((y + ys.min()) * scale),
                        float((x + xs.max() + 1) * scale), float((y + ys.max() + 1) * scale))
            found.append((int(xs.size), box))
    found.sort(key=lambda item: -item[0])
    return tuple(box for _, box in found)
