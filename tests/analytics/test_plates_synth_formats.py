"""The GA 36 format renderer (vigil/synth/plates.py): every format the special-plate
bench draws must carry a text of its own format and class and look its colour, or the
bench would score the reader against wrong labels. No model needed."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.plates_color import neutral_color, plate_color
from core.plates import classify, plate_class
from vigil.synth.plates import (
    LAYOUTS,
    RED,
    SYNTH_FORMATS,
    SynthFormat,
    render_format,
)

NAMES = [f.name for f in SYNTH_FORMATS]


@pytest.mark.parametrize("fmt", SYNTH_FORMATS, ids=NAMES)
def test_texts_have_the_format_and_class(fmt: SynthFormat) -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        text = fmt.spell(rng)
        assert len(text) == len(LAYOUTS[fmt.layout][1])
        assert classify(text) == (fmt.ga36_type or None), text
        if fmt.plate_class:
            assert plate_class(text, fmt.color) == fmt.plate_class, text


@pytest.mark.parametrize("fmt", SYNTH_FORMATS, ids=NAMES)
def test_render_size_colour_and_red_characters(fmt: SynthFormat) -> None:
    text = fmt.spell(np.random.default_rng(2))
    plate = render_format(text, fmt)
    (width, height), _ = LAYOUTS[fmt.layout]
    assert plate.shape == (height, width, 3) and plate.dtype == np.uint8
    if fmt.color:  # what the reader's no-model colour rules say about the clean render
        assert plate_color(plate, text, None) == fmt.color
    reds = np.all(np.abs(plate.astype(np.int16) - RED) < 30, axis=2).sum()
    assert (reds > 100) == bool(fmt.red), reds


def test_layouts_match_ga36_sizes() -> None:
    assert {name: size for name, (size, _) in LAYOUTS.items()} == {
        "single_7": (440, 140), "single_7_embassy": (440, 140), "single_8": (480, 140),
        "double_7": (440, 220)}
    for (width, height), boxes in LAYOUTS.values():
        assert all(x >= 0 and y >= 0 and x + w <= width and y + h <= height
                   for x, y, w, h in boxes)


def test_police_is_white_and_embassy_black_by_pixels() -> None:
    formats = {f.name: f for f in SYNTH_FORMATS}
    police = render_format("苏E5678警", formats["police"])
    embassy = render_format("使123456", formats["embassy"])
    assert (neutral_color(police), neutral_color(embassy)) == ("white", "black")


def test_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="layout single_7"):
        render_format("京A1234", SYNTH_FORMATS[0])


def test_scale_doubles_the_pixels() -> None:
    assert render_format("京A12345", SYNTH_FORMATS[0], scale=2.0).shape == (280, 880, 3)
