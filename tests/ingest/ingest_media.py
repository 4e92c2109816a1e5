"""Synthetic test media for the ingest tests: real H.264 made by PyAV, and damaged copies.

Small on purpose (320x240, 25 fps, a few seconds): the machine is shared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
FPS = 25
SIZE = (320, 240)


def background(width: int = SIZE[0], height: int = SIZE[1]) -> Image:
    """A static textured scene: gradients plus a checker pattern (cheap to encode)."""
    ys, xs = np.mgrid[0:height, 0:width]
    checker = ((xs // 16 + ys // 16) % 2) * 40
    img = np.zeros((height, width, 3), np.uint8)
    img[..., 0] = (xs * 200 // width + checker).astype(np.uint8)
    img[..., 1] = (ys * 200 // height + 20).astype(np.uint8)
    img[..., 2] = (100 + checker).astype(np.uint8)
    return img


def moving(seconds: float, width: int = SIZE[0], height: int = SIZE[1]) -> Iterator[Image]:
    """A box crossing the textured scene."""
    bg = background(width, height)
    for i in range(int(seconds * FPS)):
        img = bg.copy()
        x = (i * 6) % (width - 40)
        img[height // 3: height // 3 + 40, x: x + 40] = (0, 0, 255)
        yield img


def still(seconds: float, image: Image) -> Iterator[Image]:
    """The same picture over and over (a frozen camera)."""
    for _ in range(int(seconds * FPS)):
        yield image


def uniform(bgr: tuple[int, int, int], width: int = SIZE[0], height: int = SIZE[1]) -> Image:
    """A flat picture: black, or a 'no signal' blue/grey screen."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = bgr
    return img


def encode(path: Path, frames: Iterable[Image], gop: int = FPS, slices: int = 0) -> Path:
    """Write frames as H.264 (yuv420p, ultrafast) into an MP4 or raw ``.h264`` file;
    ``slices`` > 0 makes x264 cut every picture into that many slices."""
    fmt = "h264" if path.suffix == ".h264" else None
    options = {"preset": "ultrafast", "g": str(gop), "bf": "0"}
    if slices:
        options["x264-params"] = f"slices={slices}"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream("libx264", rate=FPS, options=options)
        stream.pix_fmt = "yuv420p"
        for i, img in enumerate(frames):
            if i == 0:
                stream.width, stream.height = img.shape[1], img.shape[0]
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode(None))
    return path


def flip_bytes(src: Path, dst: Path, count: int, seed: int = 1, keep: int = 2000) -> Path:
    """Overwrite ``count`` random bytes, sparing the first ``keep`` bytes and, for MP4, the
    ``moov`` index at the end (so the container still opens and only the payload is hurt)."""
    data = bytearray(src.read_bytes())
    end = data.rfind(b"moov") - 8 if src.suffix == ".mp4" else len(data)
    rng = np.random.default_rng(seed)
    for pos in rng.integers(keep, end, count):
        data[int(pos)] = int(rng.integers(0, 256))
    dst.write_bytes(bytes(data))
    return dst


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    """Keep only the first ``fraction`` of the file (an interrupted download)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def splice_garbage(src: Path, dst: Path, size: int, seed: int = 2) -> Path:
    """Insert ``size`` random bytes in the middle of a raw H.264 stream."""
    data = src.read_bytes()
    noise = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    middle = len(data) // 3
    dst.write_bytes(data[:middle] + noise + data[middle:])
    return dst


def count_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))
