"""Text on pictures, through FreeType and a CJK font (Pillow), never OpenCV's own fonts.

Evidence snapshots go into case records and to 110 dispatch, so a plate label must say
京A12345, not ?A12345. OpenCV's built-in Hershey fonts have no Chinese, and whether
``cv2.putText`` draws CJK changed between OpenCV releases (5.0 did, 5.1 does not), which is
how a version bump once broke the demo silently. Every Chinese string Vigil draws (evidence
labels, the demo's plates, synthetic plates for tests and benches) goes through this module.

The font is a file on the machine: ``$VIGIL_CJK_FONT`` when set, else the first of
:data:`FONT_CANDIDATES` that exists (Debian ``fonts-wqy-microhei``, which ``make run`` and
``make test`` install, or ``fonts-noto-cjk``). A machine with none raises :class:`FontError`
naming the fix; :func:`check_font` lets ``vigil run`` say so at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from analytics.plates_geometry import Floats, UInt8Image
from core.errors import FontError

FONT_ENV = "VIGIL_CJK_FONT"
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
"""Where Debian's CJK font packages put their files, preferred first."""
FIX = (f"install a CJK font (Debian: `apt-get install fonts-wqy-microhei`, which `make run` "
       f"does) or set {FONT_ENV} to a .ttf/.ttc/.otf file that has Chinese glyphs")

BGR = tuple[int, int, int]


def font_path() -> Path:
    """The CJK font file to draw with; :class:`FontError` when there is none."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"{FONT_ENV}={configured} is not a file: {FIX}")
        return path
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise FontError(f"no CJK font found (looked for {', '.join(map(str, FONT_CANDIDATES))}): "
                    f"{FIX}")


@lru_cache(maxsize=32)
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def font(size: int) -> ImageFont.FreeTypeFont:
    """The CJK font at ``size`` pixels (loaded once per size)."""
    return _font(font_path(), size)


def text_mask(text: str, size: int = 96, stroke: int = 0) -> Floats:
    """Ink coverage (0..1) of ``text`` at ``size`` px, cropped to its ink; ``stroke`` px of
    outline in the ink colour make the strokes bolder (plate characters are bold)."""
    face = font(size)
    left, top, right, bottom = (round(v) for v in face.getbbox(text, stroke_width=stroke))
    pad = 4
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(canvas).text((pad - left, pad - top), text, font=face, fill=255,
                                stroke_width=stroke, stroke_fill=255)
    ink = np.asarray(canvas, dtype=np.float32) / np.float32(255.0)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.2), np.flatnonzero(ink.max(axis=0) > 0.2)
    if rows.size == 0:
        return ink
    return np.ascontiguousarray(ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1])


def text_image(text: str, ink: BGR, background: BGR, size: int = 96,
               stroke: int = 0) -> UInt8Image:
    """``text`` in ``ink`` on ``background`` (BGR), cropped to its ink."""
    alpha = text_mask(text, size, stroke)[:, :, None]
    mixed = (np.array(background, np.float32) * (1 - alpha)
             + np.array(ink, np.float32) * alpha)
    return np.asarray(mixed.round(), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class Pen:
    """How :func:`draw_text` writes: ``size`` px high, in ``color`` (BGR), with a 2 px
    ``outline`` when given (legible on any background)."""

    size: int
    color: BGR
    outline: BGR | None = None


def draw_text(image: UInt8Image, text: str, at: tuple[int, int], pen: Pen) -> None:
    """Draw ``text`` into the BGR ``image`` in place, its top-left corner at ``at``. Only
    the text's own rectangle is converted, so labels on big frames stay cheap."""
    face, color, outline = font(pen.size), pen.color, pen.outline
    stroke = 2 if outline is not None else 0
    left, top, right, bottom = (round(v) for v in face.getbbox(text, stroke_width=stroke))
    height, width = image.shape[:2]
    x1, y1 = max(0, at[0]), max(0, at[1])
    x2, y2 = min(width, at[0] + right - left), min(height, at[1] + bottom - top)
    if x2 <= x1 or y2 <= y1:
        return
    region = Image.fromarray(np.ascontiguousarray(image[y1:y2, x1:x2, ::-1]))
    rgb = (color[2], color[1], color[0])
    stroke_rgb = rgb if outline is None else (outline[2], outline[1], outline[0])
    ImageDraw.Draw(region).text((at[0] - x1 - left, at[1] - y1 - top), text, font=face,
                                fill=rgb, stroke_width=stroke, stroke_fill=stroke_rgb)
    image[y1:y2, x1:x2] = np.asarray(region)[:, :, ::-1]


def check_font() -> Path:
    """The font file, after checking that it really draws Chinese (京 is neither "?" nor the
    missing-glyph box); :class:`FontError` otherwise."""
    path = font_path()
    shapes = [text_mask(char, 48) for char in ("京", "?", "\ue000")]
    jing = shapes[0]
    if not jing.any() or any(jing.shape == other.shape and np.allclose(jing, other)
                             for other in shapes[1:]):
        raise FontError(f"font {path} has no glyph for 京: {FIX}")
    return path
