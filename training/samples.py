"""The training sample stream: real crops and synthetic plates, mixed, damaged and turned into
the recogniser's input with the runtime's own ``rec_input``.

Torch-free on purpose: the main test suite checks it without PyTorch, and the DataLoader
wrapper in :mod:`training.loader` only calls :func:`make_sample`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from analytics.plates_geometry import Floats, UInt8Image
from analytics.plates_read import REC_WIDTH, rec_input
from training.augment import real_view, synthetic_view
from training.split import Crop
from training.synth import synth_plate
from training.synth_assets import Assets


def read_image(path: str) -> UInt8Image:
    """A BGR image from a path that may hold non-ASCII characters (plate names do)."""
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return np.asarray(image, dtype=np.uint8)


@dataclass
class SampleSource:
    """Where samples come from: the training crops, the synthesis assets, and the share of
    real crops in the mix (real crops anchor the model on real cameras; synthetic plates
    bring the formats and provinces real data lacks)."""

    crops: list[Crop]
    assets: Assets
    real_share: float = 0.35
    _images: dict[str, UInt8Image] = field(default_factory=dict, repr=False)

    def real(self, crop: Crop) -> UInt8Image:
        """The crop's pixels, cached per worker (1.3k small images, a few MB)."""
        key = str(crop.path)
        if key not in self._images:
            self._images[key] = read_image(key)
        return self._images[key]


def make_sample(source: SampleSource, rng: np.random.Generator,
                fmt: str | None = None) -> tuple[UInt8Image, str, str]:
    """One (damaged crop, label, kind) — kind is ``real`` or a synthetic format name.

    ``fmt`` forces a synthetic plate of that format (the fixed synthetic test set)."""
    if fmt is None and source.crops and rng.random() < source.real_share:
        crop = source.crops[int(rng.integers(len(source.crops)))]
        return real_view(source.real(crop), rng), crop.plate, "real"
    plate, text, name, double_row = synth_plate(rng, source.assets, fmt)
    return synthetic_view(plate, double_row, rng), text, name


def to_input(image: UInt8Image, width: int = REC_WIDTH) -> Floats:
    """``(3, 32, width)`` network input: exactly what the runtime feeds a model read at
    ``width`` (analytics.plates_read.RECOGNISERS gives each model's width)."""
    return np.asarray(rec_input([image], width=width)[0], dtype=np.float32)
