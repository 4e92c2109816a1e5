"""Synthetic camera pictures for the browser tests: a street at a checkpoint, a car with a
readable blue plate and the on-screen date/name a real camera burns in.

Drawn with OpenCV and, for text, FreeType with a CJK font (analytics.text), so the tests
need no image files and the screenshots
committed under docs/screenshots/ contain nothing but generated pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from analytics.text import Pen, draw_text
from vigil.synth.plates import render_plate, resized

Image = npt.NDArray[np.uint8]
W, H = 1280, 720


@dataclass(frozen=True, slots=True)
class Scene:
    jpeg: bytes
    plate_jpeg: bytes
    plate_box: tuple[float, float, float, float]
    car_box: tuple[float, float, float, float]


def _encode(img: Image, quality: int = 82) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf.tobytes())


def _text(img: Image, text: str, org: tuple[int, int], size: int,
          colour: tuple[int, int, int]) -> None:
    """Burnt-in camera text (OSD), outlined in black; ``org`` is the left end of the
    baseline, as cameras place it."""
    draw_text(img, text, (org[0], org[1] - size), Pen(size, colour, outline=(0, 0, 0)))


def _street(seed: int, night: bool) -> Image:
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.uint8)
    top = np.array([70, 58, 52] if night else [170, 150, 120], np.float32)
    bottom = np.array([40, 40, 44] if night else [120, 118, 112], np.float32)
    for y in range(H // 3):
        img[y, :] = top + (bottom - top) * (y / (H / 3))
    for i in range(7):  # buildings along the horizon
        x = int(i * W / 7 + rng.integers(-30, 30))
        bw, bh = int(rng.integers(120, 220)), int(rng.integers(80, 200))
        shade = int(rng.integers(55, 95)) if night else int(rng.integers(95, 150))
        cv2.rectangle(img, (x, H // 3 - bh), (x + bw, H // 3), (shade, shade, shade + 6), -1)
        for wy in range(H // 3 - bh + 12, H // 3 - 10, 22):
            for wx in range(x + 10, x + bw - 12, 26):
                lit = (190, 215, 235) if night and rng.random() < 0.4 else (shade + 18,) * 3
                cv2.rectangle(img, (wx, wy), (wx + 12, wy + 10), lit, -1)
    cv2.rectangle(img, (0, H // 3), (W, H), (58, 66, 60) if night else (96, 112, 104), -1)
    road = np.array([[0, H], [W, H], [W * 0.62, H // 3], [W * 0.38, H // 3]], np.int32)
    cv2.fillPoly(img, [road], (62, 62, 66) if night else (92, 92, 96))
    for k in range(8):  # dashed centre line in perspective
        t0, t1 = k / 8, k / 8 + 0.05
        y0, y1 = int(H / 3 + t0 * (2 * H / 3)), int(H / 3 + t1 * (2 * H / 3))
        cv2.line(img, (W // 2, y0), (W // 2, y1), (200, 200, 200), max(1, int(2 + 8 * t0)))
    noise = rng.normal(0, 1.5, img.shape).astype(np.int16)  # a little sensor noise
    out: Image = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return out


def _car(img: Image, x: int, y: int, w: int,
         colour: tuple[int, int, int]) -> tuple[int, int, int, int]:
    h = int(w * 0.62)
    cv2.rectangle(img, (x, y + h // 3), (x + w, y + h), colour, -1, cv2.LINE_AA)
    roof = np.array([[x + w // 6, y + h // 3], [x + w // 4, y], [x + 3 * w // 4, y],
                     [x + 5 * w // 6, y + h // 3]], np.int32)
    cv2.fillPoly(img, [roof], colour, cv2.LINE_AA)
    glass = np.array([[x + w // 5, y + h // 3 - 4], [x + w // 4 + 8, y + 8],
                      [x + 3 * w // 4 - 8, y + 8], [x + 4 * w // 5, y + h // 3 - 4]], np.int32)
    cv2.fillPoly(img, [glass], (70, 60, 50), cv2.LINE_AA)
    for lx in (x + 14, x + w - 74):  # lights
        cv2.rectangle(img, (lx, y + h // 2), (lx + 60, y + h // 2 + 18), (210, 230, 240), -1)
    cv2.rectangle(img, (x - 4, y + h - 8), (x + w + 4, y + h + 6), (30, 30, 30), -1)
    return (x, y, x + w, y + h)


def _plate(img: Image, cx: int, top: int, text: str) -> tuple[int, int, int, int]:
    pw, ph = 190, 56
    x1, y1 = cx - pw // 2, top
    img[y1: y1 + ph, x1: x1 + pw] = resized(render_plate(text), (pw, ph))
    return (x1, y1, x1 + pw, y1 + ph)


def camera_frame(camera_name: str, when: str, seed: int, night: bool = False) -> bytes:
    """A live picture for the camera wall: street, a car or two, burnt-in date and name."""
    img = _street(seed, night)
    rng = np.random.default_rng(seed + 1)
    for _ in range(int(rng.integers(1, 3))):
        w = int(rng.integers(160, 300))
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        _car(img, int(rng.integers(200, W - 200 - w)), int(rng.integers(H // 2 - 40, H - w)),
             w, (colour[0], colour[1], colour[2]))
    _text(img, when, (24, 48), 34, (255, 255, 255))
    _text(img, camera_name, (24, H - 28), 34, (255, 255, 255))
    small = np.asarray(cv2.resize(img, (640, 360), interpolation=cv2.INTER_AREA), np.uint8)
    return _encode(small, 78)


def plate_scene(plate: str, camera_name: str, when: str, seed: int) -> Scene:
    """An alert snapshot: one car close to the camera with ``plate`` on it (no box drawn:
    the console draws the evidence box itself)."""
    img = _street(seed, night=False)
    car = _car(img, 430, 300, 420, (150, 150, 158))
    box = _plate(img, 640, 300 + int(420 * 0.62) - 78, plate)
    _text(img, when, (24, 48), 34, (255, 255, 255))
    _text(img, camera_name, (24, H - 28), 34, (255, 255, 255))
    x1, y1, x2, y2 = box
    region = img[max(0, y1 - 10):y2 + 10, max(0, x1 - 14):x2 + 14]
    crop = np.asarray(cv2.resize(region, (region.shape[1] * 2, region.shape[0] * 2),
                                 interpolation=cv2.INTER_CUBIC), np.uint8)
    cx1, cy1, cx2, cy2 = car
    return Scene(_encode(img), _encode(crop, 90), (float(x1), float(y1), float(x2), float(y2)),
                 (float(cx1), float(cy1), float(cx2), float(cy2)))
