"""What decoding one live camera costs, by decoding mode: the figures behind keyframes-only
load shedding (ingest/shedding.py) and the decode share of bench/capacity.py.

    .venv/bin/python bench/decode_cost.py [--repeat 3] [--clip PATH]
                                          [--stream-fps 12.5] [--kbps 768]

Decodes bench/capacity_clip.py's 40 s loop (704x576 25 fps H.264, 1.5 Mbit/s, GOP 2 s, no
B-frames; generated once into a temporary folder unless ``--clip`` names one) with the
live source's settings (one slice thread, ingest/decode.py) in four ways:

* ``every frame``: every packet decoded, nothing converted (what a camera costs before
  analysis takes any picture);
* ``+ BGR at 6 fps``: as above, and the pictures ``max_fps: 6`` delivers converted to BGR
  (ingest.decode.to_picture), as a camera analysed at 6 fps costs;
* ``keyframes only``: only keyframe packets decoded (load shedding's last step);
* ``no deblocking``: every packet, with H.264's loop filter skipped (``skip_loop_filter``).
  Measured, not used by ingest: it saves little, and each picture after a keyframe is
  predicted from unfiltered ones, so the blocking grows until the next keyframe (what that
  does to plate reads is not measured).

``--stream-fps 12.5`` and ``--kbps 768`` decode the same scene as a camera's sub-stream at
that rate and bit rate (bench/capacity_clip.py; the GOP stays 2 s).

Prints CPU milliseconds per decoded picture and cores per camera (CPU seconds per second
of video), best of ``--repeat`` runs (thread CPU time, so other load counts little).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import capacity_clip as clip  # noqa: E402
from ingest.decode import RateLimit  # noqa: E402

MODES = ("every frame", "+ BGR at 6 fps", "keyframes only", "no deblocking")


def decode(path: Path, mode: str) -> tuple[int, float]:
    """Pictures decoded and thread CPU seconds spent, for one pass over ``path``."""
    limit = RateLimit(6.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type, stream.thread_count = "SLICE", 1
        if mode == MODES[3]:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        started, pictures = time.thread_time(), 0
        for packet in container.demux(stream):
            if packet.size == 0 or (mode == MODES[2] and not packet.is_keyframe):
                continue
            for frame in packet.decode():
                pictures += 1
                at = float(frame.time) if frame.time is not None else 0.0
                if mode == MODES[1] and limit.allow(at):
                    frame.to_ndarray(format="bgr24")
        return pictures, time.thread_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--clip", type=Path, help="an H.264 file to decode instead")
    parser.add_argument("--stream-fps", type=float, default=float(clip.FPS),
                        help=f"the generated loop's rate ({clip.FPS}/k, default {clip.FPS})")
    parser.add_argument("--kbps", type=int, default=clip.BIT_RATE // 1000,
                        help=f"the generated loop's kbit/s (default {clip.BIT_RATE // 1000})")
    args = parser.parse_args()
    try:
        every = clip.every_for(args.stream_fps)
    except ValueError as exc:
        parser.error(f"--stream-fps {exc}")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.clip or clip.encode(Path(tmp) / "loop.mp4", every, args.kbps * 1000)
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            base, length = video.time_base, video.duration
            seconds = float(length * base) if length and base else float(clip.LOOP_S)
        print(f"decode cost: {path.name}, {seconds:.1f} s of video, best of {args.repeat}")
        for mode in MODES:
            runs = [decode(path, mode) for _ in range(args.repeat)]
            pictures, cpu = min(runs, key=lambda r: r[1])
            print(f"{mode:<16} {pictures:5d} pictures  {cpu / pictures * 1000:6.2f} ms each  "
                  f"{cpu / seconds:.4f} cores per camera")
    return 0


if __name__ == "__main__":
    sys.exit(main())
