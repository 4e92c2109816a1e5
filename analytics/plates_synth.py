"""Synthetic plates: a rendered plate and a street-like frame holding it.

For self-tests and benchmarks that must run without the evaluation data (a fresh clone, CI
on another machine): a plate the code drew itself has a known text, colour and position.
Text is drawn with ``cv2.putText``: OpenCV 5.x carries a Unicode font and draws Chinese;
4.x draws "?" instead, which :func:`cjk_supported` detects so callers can skip with a
reason. Real photographs are what accuracy is measured on (bench/plates.py, the eval).
"""

from __future__ import annotations

import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image

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


def _text_image(text: str, color: tuple[int, int, int], background: tuple[int, int, int]
                ) -> UInt8Image:
    """``text`` drawn large, cropped to its ink."""
    font, scale, thick = cv2.FONT_HERSHEY_SIMPLEX, 3.0, 7
    (width, height), base = cv2.getTextSize(text, font, scale, thick)
    canvas = np.full((height + base + 40, width + 40, 3), background, dtype=np.uint8)
    cv2.putText(canvas, text, (20, height + 20), font, scale, color, thick, cv2.LINE_AA)
    ink = np.any(np.abs(canvas.astype(np.int16) - background).sum(axis=2, keepdims=True) > 60,
                 axis=2)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return canvas
    return canvas[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def render_plate(text: str, color: str = "blue", size: tuple[int, int] = (440, 140)
                 ) -> UInt8Image:
    """A flat plate image (BGR) of ``size`` (width, height): a rim, and the text stretched
    to the tall, narrow proportions of plate characters. Put "·" after the second
    character for the look of a real plate; readers drop it."""
    background, ink = PLATE_STYLES[color]
    width, height = size
    plate = np.full((height, width, 3), background, dtype=np.uint8)
    rim = max(2, height // 35)
    cv2.rectangle(plate, (rim * 2, rim * 2), (width - rim * 3, height - rim * 3), ink, rim)
    glyphs = _text_image(text, ink, background)
    box_w, box_h = width * 10 // 11, height * 5 // 7
    top, left = (height - box_h) // 2, (width - box_w) // 2
    plate[top: top + box_h, left: left + box_w] = resized(glyphs, (box_w, box_h))
    return plate


def cjk_supported() -> bool:
    """True when ``cv2.putText`` draws Chinese (OpenCV 5.x) rather than question marks: the
    ink of "京" then differs from the ink of "?"."""
    def ink(char: str) -> UInt8Image:
        canvas = np.zeros((60, 60), dtype=np.uint8)
        cv2.putText(canvas, char, (5, 50), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 255, 2)
        return canvas

    return bool(ink("京").any()) and not np.array_equal(ink("京"), ink("?"))


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
