"""Plate colour: HyperLPR3's classifier for blue/green/yellow, pixel statistics for the rest.

Colour carries meaning that text does not (docs/integration.md §1): a yellow 7-character plate
is a large vehicle, white is police or emergency, black is embassy/consulate/HK-Macau, and
a cloned plate often shows up as the same text in another colour. The classifier knows only
blue, green and yellow, so white and black are decided first from saturation and brightness
(both are unsaturated; white plates are bright, black ones dark). Washed-out blue and
yellow look unsaturated too, and a blue plate reported white looks like a police plate
(11 % of blue plates in a field check), so with the classifier installed white/black come
only from the plate's own text (警, 应急: white; 使, 领, 港, 澳: black). The classifier
cannot be asked instead: trained on three classes, it calls a white plate blue at 0.9999.
Plates white or black outside GA 36 (military) are then reported blue or yellow. Without
the classifier
(pack not installed) the hue of the saturated pixels decides, and an 8-character plate is
green: every 8-character format is new-energy.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from analytics import modelpack
from analytics.plates_geometry import UInt8Image
from analytics.runtime import OnnxModel, RuntimeOptions, load_model
from core.plates import classify

COLOR_MODEL = "litemodel_cls_96x_r1.onnx"
CLASSIFIER_COLORS = ("blue", "green", "yellow")
UNSATURATED = 60
"""Median HSV saturation (0–255) under which a plate is white or black, not coloured."""
WHITE_VALUE = 150
BLACK_VALUE = 90
"""Median HSV value (0–255) above which an unsaturated plate is white / below it, black."""
HUE_RANGES = (("yellow", 12, 34), ("green", 35, 85), ("blue", 86, 130))
"""OpenCV hue (0–179) bands of the plate backgrounds, used without the classifier."""


def _centre(crop: UInt8Image) -> UInt8Image:
    """The middle of the crop: borders often hold frame, car body or background."""
    height, width = crop.shape[:2]
    dy, dx = height // 6, width // 10
    return crop[dy: height - dy, dx: width - dx]


def neutral_color(crop: UInt8Image) -> str | None:
    """``"white"`` or ``"black"`` for an unsaturated plate, else ``None``."""
    hsv = cv2.cvtColor(_centre(crop), cv2.COLOR_BGR2HSV)
    saturation = float(np.median(hsv[:, :, 1]))
    value = float(np.median(hsv[:, :, 2]))
    if saturation >= UNSATURATED:
        return None
    if value >= WHITE_VALUE:
        return "white"
    if value <= BLACK_VALUE:
        return "black"
    return None


def hue_color(crop: UInt8Image) -> str:
    """Blue, green or yellow by the median hue of the saturated pixels; ``"unknown"`` when
    no band holds it."""
    hsv = cv2.cvtColor(_centre(crop), cv2.COLOR_BGR2HSV).reshape(-1, 3)
    saturated = hsv[hsv[:, 1] >= UNSATURATED]
    if saturated.shape[0] == 0:
        return "unknown"
    hue = float(np.median(saturated[:, 0]))
    for name, low, high in HUE_RANGES:
        if low <= hue <= high:
            return name
    return "unknown"


class ColorClassifier:
    """HyperLPR3 ``litemodel_cls_96x_r1``: 96x96 BGR / 255 → blue, green, yellow (softmax)."""

    def __init__(self, model: OnnxModel) -> None:
        self.model = model

    @classmethod
    def load(cls, model_dir: Path, options: RuntimeOptions | None = None
             ) -> ColorClassifier | None:
        """The classifier when the pack is installed, else ``None`` (heuristics decide)."""
        path = modelpack.find(model_dir, COLOR_MODEL)
        return None if path is None else cls(load_model(path, options))

    def classify(self, crop: UInt8Image) -> tuple[str, float]:
        """Best colour and its probability."""
        square = cv2.resize(crop, (96, 96), interpolation=cv2.INTER_LINEAR)
        tensor = square.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
        probs = self.model.run(tensor)[0].reshape(-1)
        best = int(probs.argmax())
        return CLASSIFIER_COLORS[best], float(probs[best])


NEUTRAL_BY_TEXT = {"警": "white", "应急": "white", "使": "black", "领": "black",
                   "港": "black", "澳": "black"}
"""Characters whose plates GA 36 prints on white or black (suffix, or 使 in front)."""

NEW_ENERGY_COLORS = {"ne_small_8": "green", "ne_large_8": "yellow_green"}
"""Small new-energy plates are green (gradient), large ones yellow-green: the classifier,
trained on blue/green/yellow, calls the gradient "yellow" on some pictures."""


def text_color(text: str) -> str | None:
    """The colour a plate's text fixes: new-energy layouts, white 警/应急, black 使/领/港/澳."""
    by_format = NEW_ENERGY_COLORS.get(classify(text) or "")
    if by_format is not None:
        return by_format
    if classify(text) is None:
        return None
    return next((color for mark, color in NEUTRAL_BY_TEXT.items()
                 if text.endswith(mark) or text.startswith(mark)), None)


def plate_color(crop: UInt8Image, text: str, classifier: ColorClassifier | None) -> str:
    """The plate's background colour: what its text fixes, else the classifier's
    blue/green/yellow; without the classifier white/black by pixel statistics, green for
    8 characters and the hue band otherwise.

    An 8-character plate is new-energy, and those are never white or black: their
    white-to-green gradient, overexposed, looks white to the statistics (seen on CCPD), so
    the neutral test is skipped for them.
    """
    by_text = text_color(text)
    if by_text is not None:  # GA 36 fixes these colours by format
        return by_text
    if classifier is not None:
        return classifier.classify(crop)[0]
    neutral = neutral_color(crop) if len(text) != 8 else None
    if neutral is not None:
        return neutral
    if len(text) == 8:
        return "green"
    return hue_color(crop)
