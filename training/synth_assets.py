"""Loading the plate-synthesis material: GA 36-style glyph masks, blank plates, a CJK font.

The glyphs and blanks come from leijd's MIT-licensed generator (``plates_train/synth_assets``,
see ``/work/shared/data/SOURCES.md``). Characters it has no glyph for (the letter O, 民 航 应
急) are drawn with a CJK TrueType font through Pillow: those plates are the reason this model
exists, so they cannot wait for a glyph set that has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image

DEFAULT_ASSETS = Path("/work/shared/data/plates_train/synth_assets")
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
"""Debian ``fonts-wqy-microhei``; any CJK TTF/TTC (e.g. Noto Sans CJK) works: ``--font``."""
GLYPH_STYLES = ("140", "220_up", "220_down", "green")
"""Glyph sets: single-row, double-row upper row, double-row lower row, new-energy."""


def _read_gray(path: Path) -> UInt8Image:
    """A glyph mask, white ink on black. The asset glyphs are black ink on white, cropped so
    tightly that the ink touches the border (no polarity test on the border works: H, L, E),
    so they are always inverted."""
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(f"cannot read glyph image {path}")
    return np.asarray(255 - image, dtype=np.uint8)


def _glyph_file(root: Path, style: str, char: str) -> Path | None:
    """The asset file for ``char`` in ``style``; the double-row sets name only letters
    ``220_up_X``/``220_down_X``, digits and Chinese characters are plain ``220_X``."""
    names = [f"{style}_{char}.jpg"]
    if style.startswith("220_"):
        names.append(f"220_{char}.jpg")
    for name in names:
        if (root / "font_model" / name).is_file():
            return root / "font_model" / name
    return None


def font_glyph(font: Path, char: str, size: int = 160) -> UInt8Image:
    """``char`` drawn white on black with ``font``, cropped to its ink (a glyph mask).
    Pillow is imported here, not at module load: only the characters the asset set lacks
    need it."""
    from PIL import Image, ImageDraw, ImageFont

    face = ImageFont.truetype(str(font), size)
    canvas = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 4), char, fill=255, font=face)
    mask = np.asarray(canvas, dtype=np.uint8)
    rows, cols = np.flatnonzero(mask.max(axis=1) > 40), np.flatnonzero(mask.max(axis=0) > 40)
    if rows.size == 0:
        raise ValueError(f"font {font} has no glyph for {char!r}")
    return np.ascontiguousarray(mask[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1])


@dataclass
class Assets:
    """Glyph masks by (style, char) and blank plates by name, loaded lazily and cached
    (each DataLoader worker holds its own copy: a few MB)."""

    root: Path = DEFAULT_ASSETS
    font: Path = DEFAULT_FONT
    _glyphs: dict[tuple[str, str], UInt8Image] = field(default_factory=dict, repr=False)
    _blanks: dict[str, UInt8Image] = field(default_factory=dict, repr=False)
    _scaled: dict[tuple[str, str, int, int], UInt8Image] = field(default_factory=dict,
                                                                repr=False)

    def scaled(self, kind: str, name: str, size: tuple[int, int]) -> UInt8Image:
        """Glyph (``kind`` = style) or blank (``kind`` = "blank") resized to ``size``
        (width, height), cached: rendering is then a blend, not a resize of a 1500 px
        image per plate."""
        key = (kind, name, *size)
        if key not in self._scaled:
            source = self.blank(name) if kind == "blank" else self.glyph(kind, name)
            self._scaled[key] = np.asarray(cv2.resize(source, size, interpolation=cv2.INTER_AREA),
                                           dtype=np.uint8)
        return self._scaled[key]

    def glyph(self, style: str, char: str) -> UInt8Image:
        """Mask (white ink on black) of ``char`` in ``style``, from the asset set when it
        has the character, otherwise from the CJK font."""
        key = (style, char)
        if key not in self._glyphs:
            path = _glyph_file(self.root, style, char)
            if path is None and style == "green":
                path = _glyph_file(self.root, "140", char)
            self._glyphs[key] = _read_gray(path) if path else font_glyph(self.font, char)
        return self._glyphs[key]

    def blank(self, name: str) -> UInt8Image:
        """Blank plate ``plate_model/<name>.PNG`` as BGR (alpha dropped)."""
        if name not in self._blanks:
            path = self.root / "plate_model" / f"{name}.PNG"
            image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise FileNotFoundError(f"cannot read blank plate {path}")
            self._blanks[name] = np.asarray(image, dtype=np.uint8)
        return self._blanks[name]
