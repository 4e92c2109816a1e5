"""Synthetic plates: a rendered plate and a street-like frame holding it.

For self-tests and benchmarks that must run without the evaluation data (a fresh clone, CI
on another machine): a plate the code drew itself has a known text, colour and position.
Text is drawn through FreeType with a CJK font (:mod:`analytics.text`), never with OpenCV's
fonts, whose Chinese support changed between releases. Real photographs are what accuracy is
measured on (bench/plates.py, the eval).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from analytics.plates_geometry import Floats, UInt8Image
from analytics.text import text_mask
from core.plates import DIGITS, LETTERS, NE_LETTERS, PROVINCES

PLATE_STYLES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "blue": ((150, 60, 10), (255, 255, 255)),
    "yellow": ((20, 190, 235), (20, 20, 20)),
    "white": ((240, 240, 240), (20, 20, 20)),
    "black": ((20, 20, 20), (240, 240, 240)),
    "green": ((120, 200, 110), (20, 20, 20)),
}
"""Background and text colour (BGR) per plate colour."""


def resized(image: UInt8Image, size: tuple[int, int]) -> UInt8Image:
    """``image`` scaled to ``size`` (width, height) with area averaging, like a camera
    seeing a plate from further away."""
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


PLATE_STROKE = 2
"""Extra outline (px at the 96 px drawing size) that makes the font's strokes as bold as a
plate's."""


def render_plate(text: str, color: str = "blue", size: tuple[int, int] = (440, 140)
                 ) -> UInt8Image:
    """A flat plate image (BGR) of ``size`` (width, height): a rim and one box per character
    in the GA 36 proportions (45x90 mm characters 12 mm apart on a 440x140 mm plate, wider
    boxes when there are fewer characters). Put "·" after the second character for the
    separator dot of a real plate; readers drop it."""
    background, ink = PLATE_STYLES[color]
    width, height = size
    plate = np.full((height, width, 3), background, dtype=np.uint8)
    rim = max(2, height // 35)
    cv2.rectangle(plate, (rim * 2, rim * 2), (width - rim * 3, height - rim * 3), ink, rim)
    chars = text.replace("·", "")
    dot_after = text.find("·") - 1 if "·" in text else -1
    unit = width * 409 / 440 / (len(chars) * 45 + (len(chars) - 1) * 12
                                + (22.5 if dot_after >= 0 else 0))
    left, top, char_h = width * 15.5 / 440, round(height * 25 / 140), round(height * 90 / 140)
    for slot, char in enumerate(chars):
        _paint(plate, (round(left), top, round(45 * unit), char_h), char, ink, 1.0)
        left += (45 + 12 + (22.5 if slot == dot_after else 0)) * unit
        if slot == dot_after:
            centre = (round(left - 17.25 * unit), round(height / 2))
            cv2.circle(plate, centre, max(1, round(4 * unit)), ink, -1, cv2.LINE_AA)
    return plate


def street_frame(plate: UInt8Image, size: tuple[int, int] = (1280, 720),
                 at: tuple[int, int] = (560, 470), seed: int = 7) -> UInt8Image:
    """A ``size`` (width, height) BGR frame with textured grey "road", a dark "car" body and
    ``plate`` pasted with its top-left corner at ``at``."""
    width, height = size
    rng = np.random.default_rng(seed)
    noise = rng.integers(90, 140, size=(height, width, 3), dtype=np.uint8)
    frame = np.asarray(cv2.GaussianBlur(noise, (0, 0), 3), dtype=np.uint8)
    x, y = at
    ph, pw = plate.shape[:2]
    cv2.rectangle(frame, (x - pw, y - ph * 3), (x + pw * 2, y + ph * 2), (60, 50, 45), -1)
    frame[y: y + ph, x: x + pw] = plate
    return np.asarray(frame, dtype=np.uint8)


def render_double_row_plate(upper: str, lower: str, color: str = "yellow",
                            width: int = 440) -> UInt8Image:
    """A double-row plate (trucks, trailers): a short upper row (province + letter) over a
    taller serial row, 220 px high for a 440 px width like the real ones."""
    top = render_plate(upper, color, (width, width * 9 // 44))
    bottom = render_plate(lower, color, (width, width * 13 // 44))
    return np.ascontiguousarray(np.vstack([top, bottom]), dtype=np.uint8)


# --- GA 36 layouts: one renderer per plate format, for the special-plate bench ---------------
#
# The renderer above stretches the whole text into one box in one colour: enough for the
# demo, wrong for the special plates, whose meaning is partly in their layout and colours (a
# red 警 on white, two rows on a truck). Below, every character is drawn into its own box at
# the GA 36-2018 positions (millimetres, rendered at 1 px per mm by default), so a reader's
# failure on these renders says something about the format rather than about our drawing.

BGR = tuple[int, int, int]
RED: BGR = (40, 40, 200)
INK_BLACK: BGR = (25, 25, 25)
INK_WHITE: BGR = (245, 245, 245)
BACKGROUNDS: dict[str, BGR] = {
    "blue": (170, 75, 10), "yellow": (20, 190, 235), "white": (238, 238, 238),
    "black": (25, 25, 25), "green": (70, 150, 40),
}
"""Flat background colours (BGR). Gradient green and yellow-green are drawn by
:func:`_background` from these and the values below."""
NE_GREEN_TOP: BGR = (225, 245, 225)
NE_GREEN_BOTTOM: BGR = (110, 205, 90)
"""Small new-energy plates are a white-to-green gradient; top light, bottom green (the
direction is our reading of photographs, *unverified* against the standard's drawing)."""

Box4 = tuple[int, int, int, int]
"""x, y, width, height of one character box, in millimetres."""


def _row(left: float, top: int, width: int, height: int, gaps: list[float]) -> list[Box4]:
    """Boxes of one row of characters: ``gaps[i]`` mm between box i and box i+1."""
    boxes, x = [], left
    for gap in [*gaps, 0.0]:
        boxes.append((round(x), top, width, height))
        x += width + gap
    return boxes


LAYOUTS: dict[str, tuple[tuple[int, int], list[Box4]]] = {
    # 440x140: 7 characters 45x90, 12 mm apart, 34.5 mm (with the dot) after the second.
    "single_7": ((440, 140), _row(15.5, 25, 45, 90, [12, 34.5, 12, 12, 12, 12])),
    # Embassy 使123·456: the wide gap (and the dot) after the fourth character.
    "single_7_embassy": ((440, 140), _row(15.5, 25, 45, 90, [12, 12, 12, 34.5, 12, 12])),
    # 480x140 new-energy: 8 characters 43x90, 9 mm apart, 49 mm after the second.
    "single_8": ((480, 140), _row(15.5, 25, 43, 90, [9, 49, 9, 9, 9, 9, 9])),
    # 440x220 double row: province + letter 80x60 on top, 5 characters 65x110 below.
    "double_7": ((440, 220), _row(110, 15, 80, 60, [80])
                 + _row(27.5, 90, 65, 110, [15, 15, 15, 15])),
}
"""Plate size and character boxes per layout (GA 36-2018 dimensions, rounded; the
separator dot and rivets are approximate)."""


@dataclass(frozen=True, slots=True)
class SynthFormat:
    """One plate format as the bench renders it and what the reader should say about it.

    ``color`` is the colour the reader should report (``""``: not scored); ``ga36_type``
    the :data:`core.plates.FORMATS` name (``""``: not a GA 36 format, the type and class
    are then not scored); ``plate_class`` the GA 24.7 code; ``red`` the slots printed in
    red; ``dot_after`` the slot the separator dot follows (-1: none).
    """

    name: str
    layout: str
    background: str
    ink: BGR
    color: str
    ga36_type: str
    plate_class: str
    spell: Callable[[np.random.Generator], str]
    red: frozenset[int] = frozenset()
    dot_after: int = 1
    note: str = ""

    @property
    def double_row(self) -> bool:
        """True for the two-row layout (the reader must split it before reading)."""
        return self.layout.startswith("double")


@lru_cache(maxsize=256)
def _glyph_mask(char: str) -> Floats:
    """Ink coverage (0..1) of ``char`` drawn large, cropped to its ink. Cached: a bench
    renders the same 70 characters thousands of times."""
    return text_mask(char, stroke=PLATE_STROKE)


def _paint(plate: UInt8Image, box: Box4, char: str, ink: BGR, scale: float) -> None:
    """Blend ``char`` in ``ink`` into its box: scaled to the box height, squeezed to the box
    width when wider, centred (a narrow "1" stays narrow, as on a real plate)."""
    x, y, w, h = (round(v * scale) for v in box)
    mask = _glyph_mask(char)
    natural = round(mask.shape[1] * h / mask.shape[0])
    gw = max(1, min(w, natural))
    alpha = cv2.resize(mask, (gw, h), interpolation=cv2.INTER_AREA)[:, :, None]
    left = x + (w - gw) // 2
    region = plate[y: y + h, left: left + gw].astype(np.float32)
    color = np.array(ink, dtype=np.float32)
    plate[y: y + h, left: left + gw] = (region * (1 - alpha) + color * alpha).astype(np.uint8)


def _background(kind: str, size: tuple[int, int], split: int) -> UInt8Image:
    """The plate's background: flat, vertical white-to-green gradient (``green_gradient``)
    or yellow left of ``split`` px and green right of it (``yellow_green``: large
    new-energy, province part yellow, number part green)."""
    width, height = size
    if kind == "green_gradient":
        t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        top, bottom = (np.array(c, dtype=np.float32) for c in (NE_GREEN_TOP, NE_GREEN_BOTTOM))
        column = top * (1 - t) + bottom * t
        return np.ascontiguousarray(np.broadcast_to(column, (height, width, 3)), dtype=np.uint8)
    if kind == "yellow_green":
        plate = np.full((height, width, 3), BACKGROUNDS["yellow"], dtype=np.uint8)
        plate[:, split:] = NE_GREEN_BOTTOM
        return plate
    return np.full((height, width, 3), BACKGROUNDS[kind], dtype=np.uint8)


def render_format(text: str, fmt: SynthFormat, scale: float = 1.0) -> UInt8Image:
    """A flat, clean plate of ``fmt`` saying ``text`` (one character per layout box) with its
    background, frame line, separator dot and red characters; ``scale`` px per mm."""
    (width_mm, height_mm), boxes = LAYOUTS[fmt.layout]
    if len(text) != len(boxes):
        raise ValueError(f"{fmt.name}: {text!r} has {len(text)} characters, layout "
                         f"{fmt.layout} has {len(boxes)}")
    size = (round(width_mm * scale), round(height_mm * scale))
    split = round((boxes[1][0] + boxes[1][2] + boxes[2][0]) / 2 * scale)
    plate = _background(fmt.background, size, split)
    frame_ink = INK_WHITE if fmt.background in ("blue", "black") else INK_BLACK
    rim = max(1, round(1.5 * scale))
    cv2.rectangle(plate, (3 * rim, 3 * rim), (size[0] - 3 * rim, size[1] - 3 * rim),
                  frame_ink, rim)
    for slot, (char, box) in enumerate(zip(text, boxes, strict=True)):
        _paint(plate, box, char, RED if slot in fmt.red else fmt.ink, scale)
    if 0 <= fmt.dot_after < len(boxes) - 1 and not fmt.double_row:
        end, start = boxes[fmt.dot_after], boxes[fmt.dot_after + 1]
        centre = (round((end[0] + end[2] + start[0]) / 2 * scale), round(70 * scale))
        cv2.circle(plate, centre, max(1, round(5 * scale)), fmt.ink, -1, cv2.LINE_AA)
    return plate


def place_in_scene(plate: UInt8Image, quad: Floats, size: tuple[int, int], seed: int
                   ) -> UInt8Image:
    """A ``size`` (width, height) BGR picture: textured grey ground, a car-coloured body
    around the plate and ``plate`` warped onto ``quad`` (tl, tr, br, bl, picture pixels),
    like the rear of a vehicle seen at an angle inside its tracked box."""
    width, height = size
    rng = np.random.default_rng(seed)
    noise = rng.integers(70, 150, size=(height, width, 3), dtype=np.uint8)
    scene = np.asarray(cv2.GaussianBlur(noise, (0, 0), 2.5), dtype=np.uint8)
    x1, y1 = quad.min(axis=0)
    x2, y2 = quad.max(axis=0)
    pw, ph = x2 - x1, y2 - y1
    body = tuple(int(v) for v in rng.integers(30, 200, size=3))
    cv2.rectangle(scene, (int(x1 - 1.2 * pw), int(y1 - 2.5 * ph)),
                  (int(x2 + 1.2 * pw), int(y2 + 0.8 * ph)), body, -1)
    ph_px, pw_px = plate.shape[:2]
    flat = np.array([[0, 0], [pw_px, 0], [pw_px, ph_px], [0, ph_px]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(flat, quad.astype(np.float32))
    warped = cv2.warpPerspective(plate, matrix, size, flags=cv2.INTER_AREA)
    cover = cv2.warpPerspective(np.full((ph_px, pw_px), 255, np.uint8), matrix, size,
                                flags=cv2.INTER_AREA).astype(np.float32)[:, :, None] / 255
    mixed = scene.astype(np.float32) * (1 - cover) + warped.astype(np.float32) * cover
    return np.asarray(mixed.round().clip(0, 255), dtype=np.uint8)


def _chars(rng: np.random.Generator, pool: str, count: int = 1) -> str:
    return "".join(pool[int(i)] for i in rng.integers(0, len(pool), count))


def _serial(rng: np.random.Generator, count: int, letter_share: float = 0.2) -> str:
    """``count`` serial characters, mostly digits like real serials (a uniform draw over
    letters and digits would give plates with five letters)."""
    return "".join(_chars(rng, LETTERS) if rng.random() < letter_share else _chars(rng, DIGITS)
                   for _ in range(count))


def _spell(prefix: Callable[[np.random.Generator], str], serial: int,
           suffix: str = "") -> Callable[[np.random.Generator], str]:
    """A text maker: ``prefix(rng)`` + ``serial`` serial characters + one of ``suffix``."""
    def make(rng: np.random.Generator) -> str:
        return prefix(rng) + _serial(rng, serial) + (_chars(rng, suffix) if suffix else "")
    return make


def _province_letter(rng: np.random.Generator) -> str:
    return _chars(rng, PROVINCES) + _chars(rng, LETTERS)


def _ne_small(rng: np.random.Generator) -> str:
    return (_province_letter(rng) + _chars(rng, NE_LETTERS) + _serial(rng, 1)
            + _chars(rng, DIGITS, 4))


def _ne_large(rng: np.random.Generator) -> str:
    return _province_letter(rng) + _chars(rng, DIGITS, 5) + _chars(rng, NE_LETTERS)


def _emergency(rng: np.random.Generator) -> str:
    """Province, X/S or a digit, four digits, 应急 (8 characters, the single_8 boxes)."""
    return _chars(rng, PROVINCES) + _chars(rng, "XS" + DIGITS) + _chars(rng, DIGITS, 4) + "应急"


def _embassy(rng: np.random.Generator) -> str:
    return "使" + _chars(rng, "123") + _chars(rng, DIGITS, 5)


SYNTH_FORMATS: tuple[SynthFormat, ...] = (
    SynthFormat("blue", "single_7", "blue", INK_WHITE, "blue", "ordinary_7", "02",
                _spell(_province_letter, 5), note="baseline, all 31 provinces (incl. 藏)"),
    SynthFormat("yellow", "single_7", "yellow", INK_BLACK, "yellow", "ordinary_7", "01",
                _spell(_province_letter, 5), note="large vehicle, single row (front)"),
    SynthFormat("yellow_double", "double_7", "yellow", INK_BLACK, "yellow", "ordinary_7",
                "01", _spell(_province_letter, 5), note="large vehicle, double row (rear)"),
    SynthFormat("trailer", "double_7", "yellow", INK_BLACK, "yellow", "suffix_7", "15",
                _spell(_province_letter, 4, "挂"), note="挂, double row"),
    SynthFormat("coach", "single_7", "yellow", INK_BLACK, "yellow", "suffix_7", "16",
                _spell(_province_letter, 4, "学")),
    SynthFormat("police", "single_7", "white", INK_BLACK, "white", "suffix_7", "23",
                _spell(_province_letter, 4, "警"), red=frozenset({6}), note="red 警"),
    SynthFormat("embassy", "single_7_embassy", "black", INK_WHITE, "black", "embassy", "03",
                _embassy, red=frozenset({0}), dot_after=3, note="red 使"),
    SynthFormat("consulate", "single_7", "black", INK_WHITE, "black", "suffix_7", "04",
                _spell(_province_letter, 4, "领"), red=frozenset({6}), note="red 领"),
    SynthFormat("hong_kong", "single_7", "black", INK_WHITE, "black", "suffix_7", "26",
                _spell(lambda rng: "粤Z", 4, "港")),
    SynthFormat("macau", "single_7", "black", INK_WHITE, "black", "suffix_7", "27",
                _spell(lambda rng: "粤Z", 4, "澳")),
    SynthFormat("ne_small", "single_8", "green_gradient", INK_BLACK, "green", "ne_small_8",
                "52", _ne_small, dot_after=-1),
    SynthFormat("ne_large", "single_8", "yellow_green", INK_BLACK, "yellow_green",
                "ne_large_8", "51", _ne_large, dot_after=-1),
    SynthFormat("civil_aviation", "single_7", "green", INK_WHITE, "", "civil_aviation", "99",
                _spell(lambda rng: "民航", 5), dot_after=-1,
                note="民航: not GA 36 (core.plates format unverified); green is unverified, "
                     "so colour is not scored"),
    SynthFormat("emergency", "single_8", "white", INK_BLACK, "white", "emergency", "99",
                _emergency, red=frozenset({6, 7}), note="red 应急"),
)
"""The formats the special-plate bench renders (docs/integration.md §1; military plates are not
drawn). ``color`` is what the reader should report."""
