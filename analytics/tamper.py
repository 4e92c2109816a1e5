"""Camera tamper detection: covered, defocused or turned away.

Someone who wants to act unseen covers the lens (hand, cloth, spray paint), knocks it out
of focus or turns the camera. Each shows as a sudden change of simple picture statistics
against a *reference* learnt slowly from the camera's normal view:

* ``covered``   — mean brightness below ``dark_level``, or at least ``cover_fraction`` of
  the reference's textured blocks have gone flat: the picture lost its detail (a hand, a
  cloth, paint). Counting blocks, not global contrast, keeps a plain car park from
  looking "covered" when the one bright car in the reference drives away;
* ``defocused`` — sharpness (variance of the Laplacian) below ``blur_ratio`` × reference
  while the picture still resembles the reference (same scene, just soft);
* ``turned``    — fewer than ``min_similarity`` of the picture's blocks keep the
  reference's structure (:func:`compare`): a different scene. People and vehicles
  passing through change only some blocks: over the five shared test clips (PETS, two
  highways, two car parks seen from above) the lowest fraction was 0.38 (cars filling a
  plain car park) and at most 36 % of textured blocks went flat, with no event raised;
  a different scene scores ~0.1.

Anti-flapping: a condition must hold for ``hold`` seconds before one ``tamper`` event is
emitted, and must be absent for ``hold`` seconds before the detector re-arms. The
reference learns only while the picture is normal (time constant ``learn_time``), so a
tampered view is never learnt as normal — except a *turned* camera that stays turned for
``adopt_after`` seconds: that view is adopted (someone re-aimed it on purpose).

Pure: time is ``frame.captured_at``; thresholds are arguments (:class:`TamperOptions`).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from core.messages import Evidence, Frame, SceneEvent, SceneKind

Grey = npt.NDArray[np.float32]


def _uuid() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class TamperOptions:
    """Thresholds (see the module docstring); times in seconds."""

    width: int = 160
    dark_level: float = 20.0
    cover_fraction: float = 0.8
    blur_ratio: float = 0.3
    min_similarity: float = 0.25
    hold: float = 3.0
    learn_time: float = 60.0
    adopt_after: float = 600.0
    new_id: Callable[[], str] = field(default=_uuid)


@dataclass(frozen=True, slots=True)
class PictureStats:
    """Measurements of one frame (and its similarity to the reference)."""

    brightness: float
    contrast: float
    sharpness: float
    similarity: float
    flattened: float

    def detail(self) -> str:
        return (f"brightness={self.brightness:.1f} contrast={self.contrast:.1f} "
                f"sharpness={self.sharpness:.1f} similarity={self.similarity:.2f} "
                f"flattened={self.flattened:.2f}")


@dataclass(slots=True)
class _Reference:
    image: Grey
    sharpness: float
    at: float

    def learn(self, grey: Grey, stats: PictureStats, at: float, learn_time: float) -> None:
        """Exponential moving average with time constant ``learn_time``."""
        weight = 1.0 - math.exp(-max(0.0, at - self.at) / learn_time)
        self.image += weight * (grey - self.image)
        self.sharpness += weight * (stats.sharpness - self.sharpness)
        self.at = at


def compare(image: Grey, reference: Grey, grid: tuple[int, int] = (6, 8),
            flat: float = 4.0) -> tuple[float, float]:
    """``(similarity, flattened)`` of two same-sized images, measured per grid block.

    ``similarity`` is the fraction of blocks whose structure agrees: both flat (std-dev <
    ``flat``: plain asphalt stays plain) or normalised cross-correlation ≥ 0.5. Blocks, not
    one global correlation, because on a plain scene one large vehicle would dominate a
    global figure while covering only a few blocks; a turned camera changes nearly all.
    NCC ignores brightness and contrast, so dusk and clouds are not change.
    ``flattened`` is the fraction of the reference's textured blocks that are now flat
    (0 when the reference has none: a blank scene cannot be covered further).
    """
    rows, cols = grid
    height, width = (image.shape[0] // rows) * rows, (image.shape[1] // cols) * cols
    if height == 0 or width == 0:
        raise ValueError(f"image {image.shape} is smaller than the {rows}×{cols} grid")

    def blocks(img: Grey) -> Grey:
        cut = img[:height, :width].reshape(rows, height // rows, cols, width // cols)
        per_block = cut.transpose(0, 2, 1, 3).reshape(rows * cols, -1)
        return np.asarray(per_block - per_block.mean(axis=1, keepdims=True), np.float32)

    da, db = blocks(image), blocks(reference)
    textured_a, textured_b = da.std(axis=1) >= flat, db.std(axis=1) >= flat
    denom = np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
    ncc = np.divide((da * db).sum(axis=1), denom, out=np.zeros_like(denom), where=denom > 0)
    agree = (~textured_a & ~textured_b) | (textured_a & textured_b & (ncc >= 0.5))
    textured = int(np.count_nonzero(textured_b))
    flattened = int(np.count_nonzero(textured_b & ~textured_a)) / textured if textured else 0.0
    return float(np.count_nonzero(agree)) / int(agree.size), flattened


class TamperDetector:
    """Per-camera tamper watch: ``update(frame) -> list[SceneEvent]`` (kind ``tamper``)."""

    def __init__(self, camera_id: str, options: TamperOptions | None = None) -> None:
        self.camera_id = camera_id
        self.options = options or TamperOptions()
        self._reference: _Reference | None = None
        self._suspect_since: float | None = None
        self._clear_since: float | None = None
        self.active: str | None = None
        """The cause reported and not yet cleared (``None`` when the picture is normal)."""

    def update(self, frame: Frame) -> list[SceneEvent]:
        """Measure ``frame``; one event when a tamper condition has lasted ``hold`` s."""
        at = frame.captured_at
        grey = self._small_grey(frame.image)
        ref = self._reference
        if ref is None or ref.image.shape != grey.shape:
            stats = self.measure(grey, None)
            self._reference = _Reference(grey, stats.sharpness, at)
            return []
        stats = self.measure(grey, ref.image)
        cause = self._classify(stats, ref)
        if cause is None:
            return self._normal(grey, stats, at)
        self._clear_since = None
        ref.at = at
        if self._suspect_since is None:
            self._suspect_since = at
        held = at - self._suspect_since
        if self.active == "turned" and held >= self.options.adopt_after:
            self._reference = _Reference(grey, stats.sharpness, at)
            return []
        if self.active is not None or held < self.options.hold:
            return []
        self.active = cause
        evidence = Evidence(clip_from=self._suspect_since, clip_to=at, frame_seq=frame.seq)
        return [SceneEvent(self.options.new_id(), self.camera_id, SceneKind.TAMPER, None, (), at,
                           evidence, f"cause={cause} {stats.detail()}")]

    def _normal(self, grey: Grey, stats: PictureStats, at: float) -> list[SceneEvent]:
        """A normal frame: re-arm after ``hold`` s of normality, learn the reference."""
        ref = self._reference
        if self.active is None:
            self._suspect_since = None
        else:
            if self._clear_since is None:
                self._clear_since = at
            if at - self._clear_since >= self.options.hold:
                self.active, self._suspect_since, self._clear_since = None, None, None
        if self.active is None and ref is not None:
            ref.learn(grey, stats, at, self.options.learn_time)
        elif ref is not None:
            ref.at = at
        return []

    def _classify(self, stats: PictureStats, ref: _Reference) -> str | None:
        """The tamper cause these stats show against ``ref``, or ``None`` when normal."""
        opts = self.options
        if stats.brightness < opts.dark_level or stats.flattened >= opts.cover_fraction:
            return "covered"
        if stats.similarity < opts.min_similarity:
            return "turned"
        if stats.sharpness < opts.blur_ratio * ref.sharpness:
            return "defocused"
        return None

    @staticmethod
    def measure(grey: Grey, reference: Grey | None) -> PictureStats:
        """Brightness, contrast, sharpness and the block comparison with ``reference``."""
        laplacian = cv2.Laplacian(grey, cv2.CV_32F)
        similar, flattened = (1.0, 0.0) if reference is None else compare(grey, reference)
        return PictureStats(brightness=float(grey.mean()), contrast=float(grey.std()),
                            sharpness=float(np.var(laplacian)), similarity=similar,
                            flattened=flattened)

    def _small_grey(self, image: npt.NDArray[np.uint8]) -> Grey:
        height, width = image.shape[:2]
        scale = min(1.0, self.options.width / width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return np.asarray(grey, dtype=np.float32)
