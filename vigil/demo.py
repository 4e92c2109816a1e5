"""The demo camera's video, generated on first run so the repository ships no media.

A road-like scene (textured background, a lane, vehicles moving across, a walking person)
encoded to H.264 by PyAV. The file source loops it in real time, so a fresh ``make run``
shows a streaming camera without any external server.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 25, 12


def _background(rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    base = rng.integers(70, 110, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    base[HEIGHT // 3: HEIGHT * 2 // 3] = 60  # the road
    base[HEIGHT // 2 - 2: HEIGHT // 2 + 2, ::40] = 230  # dashed centre line
    return base


def _draw(frame: npt.NDArray[np.uint8], index: int) -> None:
    for lane, (speed, colour) in enumerate(((6, (40, 40, 200)), (-4, (200, 160, 30)))):
        x = (index * speed) % (WIDTH + 160) - 80
        y = HEIGHT // 3 + 20 + lane * 60
        x0, x1 = max(0, x), min(WIDTH, x + 110)
        if x1 > x0:
            frame[y: y + 45, x0:x1] = colour
            frame[y + 30: y + 40, max(0, x + 40): min(WIDTH, x + 70)] = 235  # plate
    px = 60 + (index * 2) % (WIDTH - 120)
    frame[HEIGHT * 2 // 3 + 20: HEIGHT * 2 // 3 + 80, px: px + 18] = (30, 30, 30)


def ensure_demo_video(path: Path) -> Path:
    """Write the demo clip to ``path`` unless it exists already; returns ``path``."""
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.mp4")
    rng = np.random.default_rng(28181)
    background = _background(rng)
    with av.open(str(tmp), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(FPS * 2), "tune": "zerolatency"}
        for index in range(FPS * SECONDS):
            frame = background.copy()
            _draw(frame, index)
            video = av.VideoFrame.from_ndarray(frame, format="bgr24")
            container.mux(stream.encode(video))
        container.mux(stream.encode(None))
    tmp.replace(path)
    log.info("demo video written to %s", path)
    return path
