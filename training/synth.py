"""Synthetic plates of every format the recogniser must read, drawn to GA 36 proportions.

A plate is laid out in millimetres (440x140 single row, 480x140 new-energy, 440x220 double
row: character boxes from GA 36-2018), then drawn at ``px_per_mm`` with the asset glyphs.
Provinces are drawn uniformly: the old model learnt from CCPD (88 % 皖) to guess 皖 for
anything unclear, and a uniform prior is the cure. Colours of formats the assets do not
cover (民航, 应急) are our best guess and are jittered by the augmenter anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image
from core.plates import DIGITS, ISSUERS, LETTERS, NE_LETTERS, PROVINCES
from training.synth_assets import Assets

RENDER_PX_PER_MM = 0.6
"""Drawing scale (a 440 mm plate is 264 px): the camera step scales it down to 60–140 px
wide, so one scale for drawing is enough and lets glyphs and blanks be cached resized."""
Box = tuple[float, float, float, float]
"""x, y, width, height in millimetres."""
BGR = tuple[int, int, int]
WHITE, BLACK, RED = (245, 245, 245), (15, 15, 15), (30, 30, 200)


def _row(count: int, origin: tuple[float, float], size: tuple[float, float],
         gaps: tuple[float, float]) -> list[Box]:
    """Boxes of one row from ``origin`` (x, y); characters ``size`` (w, h) apart by
    ``gaps[0]``, except ``gaps[1]`` after the 2nd character (the separator dot)."""
    (x, y), (width, height), (gap, dot_gap) = origin, size, gaps
    boxes: list[Box] = []
    for index in range(count):
        boxes.append((x, y, width, height))
        x += width + (dot_gap if index == 1 else gap)
    return boxes


LAYOUTS: dict[str, tuple[tuple[float, float], list[Box]]] = {
    "single": ((440, 140), _row(7, (15.5, 25), (45, 90), (12, 34))),
    "eight": ((480, 140), _row(8, (16.5, 25), (43, 90), (9, 49))),
    "double": ((440, 220), [(110, 15, 80, 60), (250, 15, 80, 60),
                            *_row(5, (27.5, 90), (65, 110), (15, 15))]),
}
"""Plate size and character boxes (mm) per layout."""


@dataclass(frozen=True, slots=True)
class Style:
    """How a format is drawn: blank plate (or flat colour), layout, glyph set, ink."""

    blank: str | BGR
    layout: str
    glyphs: str
    ink: BGR
    red_chars: str = ""


Text = Callable[[np.random.Generator], str]


def _pick(rng: np.random.Generator, chars: str, count: int = 1) -> str:
    return "".join(chars[int(i)] for i in rng.integers(0, len(chars), count))


def _serial(rng: np.random.Generator, count: int) -> str:
    """Serial characters: mostly digits, letters with probability 0.3 each (as issued)."""
    return "".join(_pick(rng, LETTERS if rng.random() < 0.3 else DIGITS) for _ in range(count))


def _head(rng: np.random.Generator) -> str:
    return _pick(rng, PROVINCES) + _pick(rng, ISSUERS)


def _ordinary(rng: np.random.Generator) -> str:
    return _head(rng) + _serial(rng, 5)


def _suffixed(suffix: str, head: Text = _head) -> Text:
    return lambda rng: head(rng) + _serial(rng, 4) + suffix


def _gz(rng: np.random.Generator) -> str:
    """港/澳 cars crossing into Guangdong carry 粤Z plates."""
    return "粤Z"


def _ne_small(rng: np.random.Generator) -> str:
    return _head(rng) + _pick(rng, NE_LETTERS) + _serial(rng, 1) + _pick(rng, DIGITS, 4)


def _ne_large(rng: np.random.Generator) -> str:
    return _head(rng) + _pick(rng, DIGITS, 5) + _pick(rng, NE_LETTERS)


def _emergency(rng: np.random.Generator) -> str:
    middle = _pick(rng, "XS") + _pick(rng, DIGITS, 4) if rng.random() < 0.5 else \
        _pick(rng, DIGITS, 5)
    return _pick(rng, PROVINCES) + middle + "应急"


FORMATS: dict[str, tuple[Text, Style, float]] = {
    "blue": (_ordinary, Style("blue_140", "single", "140", WHITE), 3.0),
    "yellow": (_ordinary, Style("yellow_140", "single", "140", BLACK), 1.0),
    "yellow_double": (_ordinary, Style("yellow_220", "double", "220", BLACK), 1.0),
    "trailer": (_suffixed("挂"), Style("yellow_220", "double", "220", BLACK), 1.0),
    "coach": (_suffixed("学"), Style("yellow_140", "single", "140", BLACK), 1.0),
    "police": (_suffixed("警"), Style("white_140", "single", "140", BLACK, "警"), 1.0),
    "embassy": (lambda rng: "使" + _pick(rng, DIGITS, 6),
                Style("black_shi_140", "single", "140", WHITE, "使"), 1.0),
    "consulate": (_suffixed("领"), Style("black_ling_140", "single", "140", WHITE), 1.0),
    "hong_kong": (_suffixed("港", _gz), Style("black_140", "single", "140", WHITE), 1.0),
    "macau": (_suffixed("澳", _gz), Style("black_140", "single", "140", WHITE), 1.0),
    "ne_small": (_ne_small, Style("green_140", "eight", "green", BLACK), 1.5),
    "ne_large": (_ne_large, Style("green_yellow_140", "eight", "green", BLACK), 1.5),
    "civil_aviation": (lambda rng: "民航" + _serial(rng, 5),
                       Style((60, 120, 20), "single", "140", WHITE), 1.0),
    "emergency": (_emergency, Style("white_140", "eight", "140", BLACK, "应急"), 1.0),
}
"""Format name → (text generator, style, sampling weight). Blue weighs most because it is
most of the traffic; every special format still gets about 1 plate in 17."""


def format_names() -> tuple[str, ...]:
    """Format names in a fixed order (the synthetic test set is drawn per name)."""
    return tuple(FORMATS)


def sample_format(rng: np.random.Generator) -> str:
    """A format name drawn by :data:`FORMATS` weight."""
    names = format_names()
    weights = np.array([FORMATS[n][2] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _background(style: Style, assets: Assets, size: tuple[int, int]) -> UInt8Image:
    if isinstance(style.blank, str):
        return assets.scaled("blank", style.blank, size)
    plate = np.full((size[1], size[0], 3), style.blank, dtype=np.uint8)
    cv2.rectangle(plate, (2, 2), (size[0] - 3, size[1] - 3), WHITE, max(1, size[1] // 40))
    return plate


def _glyph_style(style: Style, index: int) -> str:
    if style.layout != "double":
        return style.glyphs
    return "220_up" if index < 2 else "220_down"


def render(text: str, style: Style, assets: Assets, px_per_mm: float = 0.6) -> UInt8Image:
    """The flat, frontal plate (BGR) showing ``text`` in ``style``."""
    (width_mm, height_mm), boxes = LAYOUTS[style.layout]
    if len(text) != len(boxes):
        raise ValueError(f"{text!r} has {len(text)} characters, layout {style.layout} "
                         f"{len(boxes)}")
    size = (round(width_mm * px_per_mm), round(height_mm * px_per_mm))
    plate = _background(style, assets, size).astype(np.float32)
    for index, (char, (x, y, w, h)) in enumerate(zip(text, boxes, strict=True)):
        x0, y0 = round(x * px_per_mm), round(y * px_per_mm)
        x1, y1 = round((x + w) * px_per_mm), round((y + h) * px_per_mm)
        glyph = assets.scaled(_glyph_style(style, index), char, (x1 - x0, y1 - y0))
        mask = glyph.astype(np.float32)[..., None] / np.float32(255)
        ink = np.array(RED if char in style.red_chars else style.ink, dtype=np.float32)
        plate[y0:y1, x0:x1] = plate[y0:y1, x0:x1] * (1 - mask) + ink * mask
    return np.clip(plate, 0, 255).astype(np.uint8)


def synth_plate(rng: np.random.Generator, assets: Assets, name: str | None = None
                ) -> tuple[UInt8Image, str, str, bool]:
    """A random flat plate: (image, text, format name, double_row)."""
    name = name or sample_format(rng)
    make_text, style, _ = FORMATS[name]
    if name == "trailer" and rng.random() < 0.3:
        style = Style("yellow_140", "single", "140", BLACK)
    text = make_text(rng)
    image = render(text, style, assets, RENDER_PX_PER_MM)
    return image, text, name, style.layout == "double"
