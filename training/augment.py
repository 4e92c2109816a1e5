"""Camera damage for training crops: what a plate goes through between the road and the
recogniser.

Order matters and follows the runtime path: the plate sits in a scene (random surround), the
detector's corners are a little off (perspective jitter; margins from +15 % to a 15 % cut,
so the province can lose part of its glyph), the camera sees it small (scale down to 60–140
px wide), blurs, exposes, adds sensor noise and JPEG-codes it. Double-row plates are split
*after* the damage, by ``analytics.plates_geometry.split_double_row`` itself, exactly as
``PlateReader`` does on a rectified crop.

Two views that the rectifier does not produce but real crops do: a quarter of single-row
synthetic plates (``BOX_SHARE``) are tilted up to 12° and cut by their *upright* box (what a
box detector without corners, or a corner fit that failed, hands over: the plate runs
diagonally with scene above and below it), and a fifth of all crops (``LPRNET_SHARE``) are
squashed to 94x24, the LPRNet crop size many exported datasets and third-party pipelines
use (part of the dev set is stored that way).
"""

from __future__ import annotations

import cv2
import numpy as np

from analytics.plates_geometry import UInt8Image, split_double_row

Rng = np.random.Generator
BOX_SHARE = 0.25
"""Share of single-row synthetic plates cut by an upright box around a tilted plate, and of
real crops given a small tilt (see the module docstring)."""
LPRNET_SHARE = 0.2
"""Share of crops squashed to :data:`LPRNET_SIZE` by :func:`camera`."""
LPRNET_SIZE = (94, 24)


def _surround(plate: UInt8Image, rng: Rng, pad: float) -> tuple[UInt8Image, int, int]:
    """``plate`` on a noisy, car-coloured canvas ``pad`` of its size wider on every side."""
    height, width = plate.shape[:2]
    px, py = round(width * pad) + 2, round(height * pad) + 2
    colour = rng.integers(0, 256, 3).astype(np.float32)
    coarse = rng.normal(0, 18, (8, 8, 3)).astype(np.float32) + colour
    canvas = cv2.resize(np.clip(coarse, 0, 255).astype(np.uint8),
                        (width + 2 * px, height + 2 * py), interpolation=cv2.INTER_LINEAR)
    canvas[py:py + height, px:px + width] = plate
    return canvas, px, py


def crop_view(plate: UInt8Image, rng: Rng, max_cut: float = 0.07) -> UInt8Image:
    """The plate as a rectifier would cut it from a photo: corners off by a few per cent,
    margins between ``max_cut`` of the width cut away and 12 % of surround added.

    7 % of a 440 mm plate is 31 mm: up to about a third of the province glyph (which starts
    at 15.5 mm and is 45 mm wide). Cutting more would teach the model to invent a province
    it cannot see, the 皖 habit this model exists to lose."""
    height, width = plate.shape[:2]
    canvas, px, py = _surround(plate, rng, 0.3)
    margins = rng.uniform([-max_cut, -max_cut, -0.06, -0.06], [0.12, 0.12, 0.15, 0.15])
    if rng.random() < 0.3:  # tight on the left, as when the province is clipped
        margins[0] = rng.uniform(-max_cut, 0.0)
    left, right = px - margins[0] * width, px + width + margins[1] * width
    top, bottom = py - margins[2] * height, py + height + margins[3] * height
    quad = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], np.float32)
    quad += rng.normal(0, 0.025, (4, 2)).astype(np.float32) * np.float32(height)
    out_w, out_h = max(8, round(right - left)), max(4, round(bottom - top))
    target = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]],
                      np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    return np.asarray(cv2.warpPerspective(canvas, matrix, (out_w, out_h),
                                          flags=cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def box_view(plate: UInt8Image, rng: Rng, max_angle: float = 12.0) -> UInt8Image:
    """The plate turned by up to ``max_angle`` degrees in the image plane and cut by the
    upright box around its turned corners (a few per cent of jitter on each side)."""
    height, width = plate.shape[:2]
    canvas, px, py = _surround(plate, rng, 0.4)
    centre = (px + width / 2.0, py + height / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, float(rng.uniform(-max_angle, max_angle)), 1.0)
    turned = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    corners = np.array([[px, py, 1], [px + width, py, 1], [px + width, py + height, 1],
                        [px, py + height, 1]], np.float64) @ matrix.T
    jitter = rng.uniform(-0.03, 0.05, 4) * np.array([width, width, height, height])
    x0 = int(np.clip(corners[:, 0].min() - jitter[0], 0, canvas.shape[1] - 8))
    x1 = int(np.clip(corners[:, 0].max() + jitter[1], x0 + 8, canvas.shape[1]))
    y0 = int(np.clip(corners[:, 1].min() - jitter[2], 0, canvas.shape[0] - 4))
    y1 = int(np.clip(corners[:, 1].max() + jitter[3], y0 + 4, canvas.shape[0]))
    return np.ascontiguousarray(turned[y0:y1, x0:x1])


def _tilt(image: UInt8Image, rng: Rng, max_angle: float) -> UInt8Image:
    """``image`` turned by up to ``max_angle`` degrees about its centre, edges replicated."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0),
                                     float(rng.uniform(-max_angle, max_angle)), 1.0)
    return np.asarray(cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE), dtype=np.uint8)


def camera(image: UInt8Image, rng: Rng, min_width: int = 60, max_width: int = 140,
           squash: bool = True) -> UInt8Image:
    """Low resolution (with ``squash``, sometimes the LPRNet squash), blur, exposure, noise,
    JPEG coding."""
    height, width = image.shape[:2]
    small_w = int(rng.integers(min_width, max_width + 1))
    if squash and rng.random() < LPRNET_SHARE:
        image = np.asarray(cv2.resize(image, LPRNET_SIZE, interpolation=cv2.INTER_AREA),
                           dtype=np.uint8)
    elif small_w < width:
        small_h = max(8, round(height * small_w / width))
        image = np.asarray(cv2.resize(image, (small_w, small_h),
                                      interpolation=cv2.INTER_AREA), dtype=np.uint8)
        if rng.random() < 0.5:
            image = np.asarray(cv2.resize(image, (width, height),
                                          interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
    if rng.random() < 0.5:
        sigma = float(rng.uniform(0.3, 1.3))
        image = np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)
    gain, bias = rng.uniform(0.55, 1.4), rng.uniform(-45, 45)
    noisy = image.astype(np.float32) * gain + bias + rng.normal(0, rng.uniform(0, 9), image.shape)
    image = np.clip(noisy, 0, 255).astype(np.uint8)
    quality = int(rng.integers(20, 91))
    ok, coded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    decoded = cv2.imdecode(coded, cv2.IMREAD_COLOR) if ok else image
    return np.asarray(decoded, dtype=np.uint8)


def synthetic_view(plate: UInt8Image, double_row: bool, rng: Rng) -> UInt8Image:
    """A flat synthetic plate as the recogniser receives it at run time."""
    boxed = not double_row and rng.random() < BOX_SHARE
    image = camera(box_view(plate, rng) if boxed else crop_view(plate, rng), rng,
                   squash=not double_row)
    return split_double_row(image) if double_row else image


def real_view(crop: UInt8Image, rng: Rng) -> UInt8Image:
    """Light damage for a real crop (already a camera image): small re-cut, exposure, blur,
    JPEG; half of the time left as it is so the real distribution stays in the mix."""
    if rng.random() < 0.5:
        return crop
    if rng.random() < BOX_SHARE:
        crop = _tilt(crop, rng, 8.0)
    height, width = crop.shape[:2]
    cuts = rng.uniform(-0.06, 0.04, 4) * np.array([width, width, height, height])
    padded = cv2.copyMakeBorder(crop, 8, 8, 8, 8, cv2.BORDER_REPLICATE)
    x0 = int(np.clip(8 + cuts[0], 0, width // 4))
    x1 = int(np.clip(8 + width - cuts[1], 3 * width // 4, width + 16))
    y0 = int(np.clip(8 + cuts[2], 0, height // 4))
    y1 = int(np.clip(8 + height - cuts[3], 3 * height // 4, height + 16))
    return camera(np.ascontiguousarray(padded[y0:y1, x0:x1]), rng, max(40, width // 2),
                  max(60, width))
