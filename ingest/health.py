"""Picture health while a camera streams: frozen, black, blank, degraded; fps and decode cost.

Everything is judged on a cheap grey *sample* of each picture (a strided view of about
48 rows, luma by integer weights), never on full frames: a 1080p frame costs the same few
microseconds as a CIF one. Frozen compares a 12x16 block-mean signature of the sample with the
signature that started the current run of "same" pictures, so a slow drift (dusk) is not
mistaken for a frozen picture yet encoder noise on a stuck sensor is.

Known limit: a perfectly static, noiseless scene (an empty corridor at night through a good
encoder) looks frozen too; ``frozen_after`` defaults to 10 s and should be raised for such
cameras rather than the threshold lowered.

Conditions hold on event time (the pictures' ``captured_at``), so a file replayed faster than
real time reports the same health it would have reported live. Black and blank must last
``hold`` seconds before they are reported, so one dark frame (IR switching) does not flap.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
import numpy.typing as npt

from core.config.models import IngestOptions
from core.messages import CameraHealth

SAMPLE_ROWS = 48
SIGNATURE = (12, 16)
FROZEN_DELTA = 1.0
"""Mean absolute signature difference (grey levels) at or below which two pictures match."""
DEGRADED_FOR = 5.0
"""Seconds a camera stays 'degraded' after its last decode error."""
FPS_WINDOW = 5.0
EWMA_ALPHA = 0.1

Grey = npt.NDArray[np.float32]


def grey_sample(image: npt.NDArray[np.uint8]) -> Grey:
    """Luma (BT.601 weights) of a strided sample of a BGR image; about SAMPLE_ROWS rows."""
    step = max(1, image.shape[0] // SAMPLE_ROWS)
    small = image[::step, ::step].astype(np.float32)
    if small.ndim == 2:
        return small
    grey: Grey = small[..., 0] * 0.114 + small[..., 1] * 0.587 + small[..., 2] * 0.299
    return grey


def signature(grey: Grey) -> Grey:
    """Block means on a SIGNATURE grid (or the sample itself when it is smaller)."""
    rows, cols = SIGNATURE
    h, w = grey.shape
    if h < rows or w < cols:
        return grey
    bh, bw = h // rows, w // cols
    blocks = grey[: bh * rows, : bw * cols].reshape(rows, bh, cols, bw)
    result: Grey = blocks.mean(axis=(1, 3), dtype=np.float32)
    return result


class _Since:
    """When a condition became (and stayed) true."""

    def __init__(self) -> None:
        self.at: float | None = None

    def update(self, true: bool, at: float) -> float:
        """Seconds the condition has held at ``at`` (-1 when it does not hold)."""
        if not true:
            self.at = None
            return -1.0
        if self.at is None or at < self.at:
            self.at = at
        return at - self.at


class HealthMonitor:
    """Fed every delivered picture (decode thread); read by the worker's control thread."""

    def __init__(self, frozen_after: float, black_level: float, blank_stddev: float,
                 hold: float = 1.0) -> None:
        self.frozen_after = frozen_after
        self.black_level = black_level
        self.blank_stddev = blank_stddev
        self.hold = hold
        self._lock = threading.Lock()
        self._black = _Since()
        self._blank = _Since()
        self._ref: Grey | None = None
        self._ref_at = 0.0
        self._picture = CameraHealth.UNKNOWN
        self._arrivals: deque[float] = deque()
        self._decode_ms = 0.0
        self._errors_seen = 0
        self._error_at: float | None = None
        self.mean_luma = 0.0
        self.luma_stddev = 0.0

    @classmethod
    def from_options(cls, options: IngestOptions) -> HealthMonitor:
        return cls(options.frozen_after, options.black_level, options.blank_stddev)

    def observe(self, image: npt.NDArray[np.uint8], at: float, arrived: float,
                decode_ms: float) -> None:
        """One picture: ``at`` is its event time, ``arrived`` a monotonic time (for fps)."""
        grey = grey_sample(image)
        mean, std = float(grey.mean()), float(grey.std())
        sig = signature(grey)
        with self._lock:
            self.mean_luma, self.luma_stddev = mean, std
            self._picture = self._judge(mean, std, sig, at)
            self._arrivals.append(arrived)
            self._decode_ms = (decode_ms if self._decode_ms == 0.0 else
                               self._decode_ms + EWMA_ALPHA * (decode_ms - self._decode_ms))

    def _judge(self, mean: float, std: float, sig: Grey, at: float) -> CameraHealth:
        black = self._black.update(mean < self.black_level, at) >= self.hold
        blank = self._blank.update(std < self.blank_stddev, at) >= self.hold
        if self._ref is None or self._ref.shape != sig.shape or at < self._ref_at or (
                float(np.abs(sig - self._ref).mean()) > FROZEN_DELTA):
            self._ref, self._ref_at = sig, at
        if black:
            return CameraHealth.BLACK
        if blank:
            return CameraHealth.BLANK
        if at - self._ref_at >= self.frozen_after:
            return CameraHealth.FROZEN
        return CameraHealth.OK

    def note_errors(self, total: int, now: float) -> None:
        """The source's cumulative decode-error count, sampled at monotonic time ``now``."""
        with self._lock:
            if total > self._errors_seen:
                self._error_at = now
            self._errors_seen = total

    def degraded(self, now: float) -> bool:
        """Decode errors within the last DEGRADED_FOR s (monotonic ``now``)."""
        with self._lock:
            return self._error_at is not None and now - self._error_at < DEGRADED_FOR

    def health(self, now: float) -> CameraHealth:
        """Current verdict at monotonic ``now``: a picture condition beats 'degraded'."""
        with self._lock:
            picture = self._picture
        if picture in (CameraHealth.OK, CameraHealth.UNKNOWN) and self.degraded(now):
            return CameraHealth.DEGRADED
        return picture

    def fps(self, now: float) -> float:
        """Pictures per second over the last FPS_WINDOW s of arrivals (0 when none)."""
        with self._lock:
            while self._arrivals and now - self._arrivals[0] > FPS_WINDOW:
                self._arrivals.popleft()
            if len(self._arrivals) < 2:
                return 0.0
            span = max(self._arrivals[-1] - self._arrivals[0], now - self._arrivals[0])
            return (len(self._arrivals) - 1) / span if span > 0 else 0.0

    @property
    def decode_ms(self) -> float:
        return self._decode_ms

    def reset_picture(self) -> None:
        """A new connection: forget the picture verdict (not the error history)."""
        with self._lock:
            self._picture = CameraHealth.UNKNOWN
            self._ref = None
            self._black = _Since()
            self._blank = _Since()
