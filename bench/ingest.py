"""Decode ceiling of one core for camera streams: ``python bench/ingest.py``.

Generates surveillance-like H.264 clips (a static textured scene, a few moving objects, a
little sensor noise; 25 fps, GOP 2 s, no B-frames, like most IP cameras) at 704x576,
1280x720 and 1920x1080 in a temporary directory, then measures single-thread decoding in
frames per CPU-second (``time.process_time``) for:

* all frames (decode only),
* keyframes only (``skip_frame="NONKEY"``: the cheap mode for tamper checks / thumbnails),
* all frames + ``to_ndarray("bgr24")`` (what ``ingest`` hands to analytics),
* all frames + scaled to 640x360 BGR with FAST_BILINEAR (a detector-sized picture).

It prints a markdown table; "25 fps cameras per core" is stream-seconds decoded per
CPU-second, i.e. how many 25 fps cameras one core sustains in that mode. The decoder runs
as in ``ingest/decode.py``: slice threading, one thread (frame threads cost 20-35 % more CPU
per frame). This script deliberately does not import the ``ingest`` package (it is itself
named ``ingest.py`` and runs as a script).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import av.video.frame
import cv2
import numpy as np
import numpy.typing as npt

FPS = 25
GOP = 50
SIZES = {(704, 576): 1_500_000, (1280, 720): 3_000_000, (1920, 1080): 4_000_000}
"""Resolution → bit rate, typical main-stream settings of IP cameras (decode cost grows with
the bits, so a clip encoded far below what cameras send would flatter the decoder)."""
Image = npt.NDArray[np.uint8]


def scene(width: int, height: int, rng: np.random.Generator) -> Image:
    """A static textured background: smooth blobs, fine texture, a few straight edges."""
    coarse = rng.integers(40, 200, (height // 32 + 1, width // 32 + 1, 3), dtype=np.uint8)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    fine = rng.integers(-12, 13, (height, width, 1), dtype=np.int16)
    out: Image = np.clip(img.astype(np.int16) + fine, 0, 255).astype(np.uint8)
    for i in range(6):
        y = (i + 1) * height // 8
        cv2.line(out, (0, y), (width - 1, y + height // 10), (200, 200, 200), max(2, width // 400))
    return out


def frames(width: int, height: int, seconds: float, seed: int = 7) -> Iterator[Image]:
    """Moving boxes bouncing over the scene, plus low sensor noise (cycled, precomputed)."""
    rng = np.random.default_rng(seed)
    bg = scene(width, height, rng)
    noise = [rng.normal(0, 2.5, (height, width, 1)).astype(np.int16) for _ in range(6)]
    objects = [(rng.uniform(0, width), rng.uniform(0, height), rng.uniform(-9, 9),
                rng.uniform(-5, 5), int(rng.integers(width // 20, width // 8)),
                tuple(int(c) for c in rng.integers(0, 255, 3))) for _ in range(4)]
    for i in range(int(seconds * FPS)):
        img = bg.copy()
        for x0, y0, vx, vy, size, color in objects:
            x = int(abs((x0 + vx * i) % (2 * (width - size)) - (width - size)))
            y = int(abs((y0 + vy * i) % (2 * (height - size)) - (height - size)))
            cv2.rectangle(img, (x, y), (x + size, y + size // 2), color, -1)
        yield np.clip(img.astype(np.int16) + noise[i % len(noise)], 0, 255).astype(np.uint8)


def encode(path: Path, size: tuple[int, int], bit_rate: int, seconds: float) -> Path:
    width, height = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={
            "preset": "veryfast", "g": str(GOP), "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bit_rate
        for img in frames(width, height, seconds):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode(None))
    return path


Work = Callable[[av.video.frame.VideoFrame], object]


@dataclass(frozen=True)
class Mode:
    name: str
    skip_frame: str
    work: Work


MODES = (
    Mode("all frames", "DEFAULT", lambda f: None),
    Mode("keyframes only", "NONKEY", lambda f: None),
    Mode("all + to_ndarray bgr24", "DEFAULT", lambda f: f.to_ndarray(format="bgr24")),
    Mode("all + 640x360 FAST_BILINEAR", "DEFAULT",
         lambda f: f.to_ndarray(width=640, height=360, format="bgr24",
                                interpolation="FAST_BILINEAR")),
)


def one_pass(path: Path, mode: Mode) -> tuple[int, float]:
    """Decode the clip once; returns (frames produced, seconds of stream covered)."""
    produced = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "SLICE"
        stream.thread_count = 1
        stream.codec_context.skip_frame = mode.skip_frame  # type: ignore[assignment]
        for packet in container.demux(stream):
            for frame in stream.decode(packet):
                mode.work(frame)
                produced += 1
        covered = float(stream.frames) / FPS
    return produced, covered


def measure(path: Path, mode: Mode, min_cpu: float) -> tuple[float, float]:
    """(frames per CPU-second, stream-seconds per CPU-second), repeating passes."""
    produced = covered = 0.0
    started = time.process_time()
    while True:
        got, span = one_pass(path, mode)
        produced, covered = produced + got, covered + span
        spent = time.process_time() - started
        if spent >= min_cpu:
            return produced / spent, covered / spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    parser.add_argument("--min-cpu", type=float, default=1.5,
                        help="CPU seconds to spend per measurement")
    args = parser.parse_args()
    print(f"# ingest decode bench: {platform.machine()}, PyAV {av.__version__}, "
          f"FFmpeg {av.ffmpeg_version_info}, Python {platform.python_version()}")
    print(f"clips: H.264 {FPS} fps, GOP {GOP}, no B-frames, {args.seconds:g} s; one decode "
          "thread (slice); figures are per CPU-second = per core\n")
    print("| clip | Mbit/s | mode | frames / CPU-s | CPU ms / frame | 25 fps cameras per core |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="vigil-bench-") as tmp:
        for (width, height), bit_rate in SIZES.items():
            clip = encode(Path(tmp) / f"{width}x{height}.mp4", (width, height), bit_rate,
                          args.seconds)
            mbps = clip.stat().st_size * 8 / args.seconds / 1e6
            for mode in MODES:
                fps, streams = measure(clip, mode, args.min_cpu)
                print(f"| {width}x{height} | {mbps:.1f} | {mode.name} | {fps:,.0f} | "
                      f"{1000 / fps:.2f} | {streams:,.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
