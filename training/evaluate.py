"""Accuracy of an exported recogniser, measured with onnxruntime on the shipped file and the
runtime's own preprocessing (``rec_input``) and decoding (``ctc_greedy``).

Two sets, neither ever trained on: the held-out real crops (:mod:`training.split`) and a
fixed synthetic test set drawn from its own seed, per format. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from analytics.plates_geometry import UInt8Image
from analytics.plates_read import REC_WIDTH, ctc_greedy, load_alphabet, rec_input
from training.samples import SampleSource, make_sample, read_image
from training.split import Crop
from training.synth import format_names
from training.synth_assets import Assets

SYNTH_TEST_SEED = 2_000_000_036
"""Seed of the synthetic test set; training streams are seeded from ``(seed, worker)``."""


def read_texts(model: Path, dictionary: Path, images: Sequence[UInt8Image],
               batch: int = 64, width: int = REC_WIDTH) -> list[str]:
    """Greedy-decoded text of each image, read by ``model`` with ``dictionary`` at input
    ``width``."""
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    alphabet = load_alphabet(dictionary)
    name = session.get_inputs()[0].name
    texts: list[str] = []
    for start in range(0, len(images), batch):
        probs = session.run(None, {name: rec_input(images[start:start + batch], width=width)})[0]
        texts.extend(ctc_greedy(p, alphabet).text for p in probs)
    return texts


def real_metrics(texts: Sequence[str], crops: Sequence[Crop]) -> dict[str, Any]:
    """Full-string accuracy, province error rate on non-皖 plates, per-province table."""
    table: dict[str, dict[str, int]] = {}
    for text, crop in zip(texts, crops, strict=True):
        row = table.setdefault(crop.plate[0], {"n": 0, "exact": 0, "province_ok": 0})
        row["n"] += 1
        row["exact"] += text == crop.plate
        row["province_ok"] += text[:1] == crop.plate[0]
    non_wan = [(t, c) for t, c in zip(texts, crops, strict=True) if c.plate[0] != "皖"]
    wrong = sum(t[:1] != c.plate[0] for t, c in non_wan)
    return {
        "n": len(crops),
        "exact": sum(t == c.plate for t, c in zip(texts, crops, strict=True)) / max(1, len(crops)),
        "province_error_non_wan": wrong / max(1, len(non_wan)),
        "province_read_as_wan_non_wan":
            sum(t[:1] == "皖" for t, _ in non_wan) / max(1, len(non_wan)),
        "per_province": dict(sorted(table.items(), key=lambda kv: -kv[1]["n"])),
    }


def synth_test_set(assets: Assets, per_format: int) -> list[tuple[UInt8Image, str, str]]:
    """``per_format`` damaged synthetic plates of every format, the same on every call."""
    rng = np.random.default_rng(SYNTH_TEST_SEED)
    source = SampleSource([], assets)
    return [make_sample(source, rng, name) for name in format_names() for _ in range(per_format)]


def synth_metrics(texts: Sequence[str], samples: Sequence[tuple[UInt8Image, str, str]]
                  ) -> dict[str, float]:
    """Full-string accuracy per synthetic format (and ``all``)."""
    out: dict[str, list[int]] = {}
    for text, (_, label, name) in zip(texts, samples, strict=True):
        for key in (name, "all"):
            out.setdefault(key, []).append(int(text == label))
    return {k: float(np.mean(v)) for k, v in out.items()}


def evaluate(model: Path, dictionary: Path, holdout: Sequence[Crop],
             synth: Sequence[tuple[UInt8Image, str, str]], width: int = REC_WIDTH
             ) -> dict[str, Any]:
    """Both metric blocks for one model file read at input ``width``."""
    real = [read_image(str(c.path)) for c in holdout]
    synth_images = [s[0] for s in synth]
    return {"width": width,
            "heldout_real": real_metrics(read_texts(model, dictionary, real, width=width),
                                         holdout),
            "synthetic": synth_metrics(read_texts(model, dictionary, synth_images,
                                                  width=width), synth)}
