"""The synthesiser draws every format with the label it claims, at the shapes the runtime
feeds the recogniser (torch-free)."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

from core.plates import PROVINCES, classify
from training.augment import LPRNET_SIZE, box_view, camera
from training.samples import SampleSource, make_sample, to_input
from training.synth import RENDER_PX_PER_MM, format_names, synth_plate
from training.synth_assets import DEFAULT_ASSETS, DEFAULT_FONT, Assets
from training.vocab import build_vocab, encode

pytestmark = pytest.mark.skipif(
    not DEFAULT_ASSETS.is_dir() or not DEFAULT_FONT.is_file()
    or importlib.util.find_spec("PIL") is None,
    reason="synthesis assets (../shared/data/plates_train), the CJK font "
           "(apt-get install fonts-wqy-microhei) or Pillow absent")

EXPECTED = {
    "blue": "ordinary_7", "yellow": "ordinary_7", "yellow_double": "ordinary_7",
    "trailer": "suffix_7", "coach": "suffix_7", "police": "suffix_7", "embassy": "embassy",
    "consulate": "suffix_7", "hong_kong": "suffix_7", "macau": "suffix_7",
    "ne_small": "ne_small_8", "ne_large": "ne_large_8", "emergency": "emergency",
}
SUFFIX = {"trailer": "挂", "coach": "学", "police": "警", "consulate": "领", "hong_kong": "港",
          "macau": "澳"}


@pytest.fixture(scope="module")
def assets() -> Assets:
    return Assets()


@pytest.mark.parametrize("name", format_names())
def test_every_format_draws_a_valid_label(assets: Assets, name: str) -> None:
    rng = np.random.default_rng(7)
    vocab = build_vocab()
    for _ in range(5):
        image, text, kind, double_row = synth_plate(rng, assets, name)
        assert kind == name
        if name == "civil_aviation":
            assert re.fullmatch(r"民航[A-HJ-NP-Z0-9]{5}", text)
        else:
            assert classify(text) == EXPECTED[name], text
        assert text[-1] == SUFFIX.get(name, text[-1])
        assert len(encode(text, vocab)) == len(text)
        height_mm = 220 if double_row else 140
        assert image.shape[0] == round(height_mm * RENDER_PX_PER_MM)
        if name == "yellow_double":
            assert double_row
        assert image.dtype == np.uint8 and image.shape[2] == 3


@pytest.mark.parametrize("name", format_names())
def test_samples_have_runtime_input_shape(assets: Assets, name: str) -> None:
    rng = np.random.default_rng(11)
    image, _, kind = make_sample(SampleSource([], assets), rng, name)
    assert kind == name and image.ndim == 3
    tensor = to_input(image)
    assert tensor.shape == (3, 32, 320) and tensor.dtype == np.float32
    assert float(tensor.min()) >= -1.0
    assert float(tensor.max()) <= 1.0
    assert to_input(image, 160).shape == (3, 32, 160)


def test_box_view_cuts_a_tilted_plate_by_its_upright_box(assets: Assets) -> None:
    plate = synth_plate(np.random.default_rng(4), assets, "blue")[0]
    height, width = plate.shape[:2]
    shapes = [box_view(plate, np.random.default_rng(seed)).shape for seed in range(40)]
    # a plate turned by up to 12 degrees is taller in its upright box (sin 12 * 440/140 = 0.65)
    assert max(h / w for h, w, _ in shapes) > 1.25 * height / width
    assert all(0.85 * width <= w <= 1.3 * width for _, w, _ in shapes)


def test_camera_sometimes_squashes_to_the_lprnet_size(assets: Assets) -> None:
    plate = synth_plate(np.random.default_rng(4), assets, "blue")[0]
    sizes = [camera(plate, np.random.default_rng(seed)).shape[1::-1] for seed in range(60)]
    squashed = sum(size == LPRNET_SIZE for size in sizes)
    assert 3 <= squashed <= 25, squashed
    never = [camera(plate, np.random.default_rng(s), squash=False).shape[1::-1]
             for s in range(60)]
    assert LPRNET_SIZE not in never


def test_double_row_plates_come_split_into_one_line(assets: Assets) -> None:
    rng = np.random.default_rng(3)
    image, _, _ = make_sample(SampleSource([], assets), rng, "yellow_double")
    assert image.shape[1] > 3 * image.shape[0]


@pytest.mark.slow  # thousands of samples
def test_provinces_are_drawn_uniformly(assets: Assets) -> None:
    rng = np.random.default_rng(5)
    counts = dict.fromkeys(PROVINCES, 0)
    for _ in range(3100):
        counts[synth_plate(rng, assets, "blue")[1][0]] += 1
    assert max(counts.values()) < 2.2 * min(counts.values())
