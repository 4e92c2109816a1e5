"""The demo camera's video, generated on first run so the repository ships no media.

A road scene drawn by :mod:`analytics.pipeline_synth`: cars carrying rendered Chinese
plates cross in both directions, some of them on the demo watchlist
(``configs/watchlists/demo.csv``: 京A12345 stolen, 京AD12345 wanted), some not. The file
source loops it in real time, so a fresh ``make run`` shows a streaming camera, sightings
and watchlist alerts within a minute without any external server or camera.
"""

from __future__ import annotations

import logging
from pathlib import Path

from analytics.pipeline_synth import SynthCar, make_clip

log = logging.getLogger(__name__)

SIZE = (960, 540)
FPS = 15
SECONDS = 16
BODY = (240, 172)
PLATE = (120, 38)


def demo_cars() -> tuple[SynthCar, ...]:
    """Four passes, one every four seconds, alternating lanes and directions."""
    width, height = SIZE
    frames = FPS * SECONDS
    speed = (width + BODY[0]) / (frames / 4 - 6)
    far, near = round(height * 0.27), round(height * 0.6)
    cars = [("京A·12345", "blue", far, 1), ("苏E·5K8Q2", "blue", near, -1),
            ("京A·D12345", "green", far, 1), ("沪B·88888", "blue", near, -1)]
    out = []
    for i, (text, color, top, direction) in enumerate(cars):
        lead = i * frames / 4 * speed  # each car enters one quarter of the loop later
        x0 = -BODY[0] - lead if direction > 0 else width + lead
        out.append(SynthCar(text, color, (round(x0), top), speed * direction, BODY, PLATE))
    return tuple(out)


def ensure_demo_video(path: Path) -> Path:
    """Write the demo clip to ``path`` unless it exists already; returns ``path``."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    make_clip(tmp, demo_cars(), FPS * SECONDS, FPS, SIZE)
    tmp.replace(path)
    log.info("demo video written to %s", path)
    return path
