"""Plate reading speed on one core: the figures the README quotes.

    PYTHONPATH=. .venv/bin/python bench/plates.py [--model-dir models] [--calls 50]

Prints the median (and 90th percentile) wall time of:

* one crop read by the recogniser alone (a 94x24 real crop from the evaluation data, or a
  rendered plate when the data is absent);
* the whole reader on one crop (recogniser + correction + colour);
* one 1280x720 frame, detector alone and detect + read (a CCPD photograph placed in a
  720p frame, or a rendered plate in a synthetic street frame without the data).

The process is pinned to one CPU and every session uses one intra-op thread without
spinning (docs/platform-notes.md), so the figures are per core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from analytics import modelpack
from analytics.plates import PlateReader, ReaderOptions
from analytics.plates_geometry import UInt8Image
from analytics.plates_read import DEFAULT_RECOGNISER, RECOGNISERS
from vigil.plates_cli import load_image
from vigil.synth.plates import render_plate, resized, street_frame

DATA = Path(os.environ.get("VIGIL_DATA", modelpack.REPO_ROOT.parent / "shared" / "data"))


def timed(call: Callable[[], object], calls: int) -> tuple[float, float]:
    """Median and 90th-percentile milliseconds of ``calls`` calls, after 3 unmeasured."""
    for _ in range(3):
        call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.9 * (len(samples) - 1))]


def sample_crop() -> tuple[UInt8Image, str]:
    """A real 94x24 crop, or a rendered one."""
    crops = sorted((DATA / "plates" / "lprnet_sirius").glob("*.jpg"))
    image = load_image(crops[0]) if crops else None
    if image is not None:
        return image, f"real crop {crops[0].name} {image.shape[1]}x{image.shape[0]}"
    return resized(render_plate("京A·12345"), (94, 24)), "rendered crop 94x24"


def sample_frame() -> tuple[UInt8Image, str]:
    """A 1280x720 frame holding one plate."""
    scenes = sorted((DATA / "plates" / "ccpd_scenes").rglob("*.jpg"))
    scene = load_image(scenes[0]) if scenes else None
    if scene is None:
        plate = resized(render_plate("京A·12345"), (165, 52))
        return street_frame(plate), "synthetic 1280x720 frame"
    height, width = scene.shape[:2]
    scale = 720 / height
    fitted = cv2.resize(scene, (round(width * scale), 720), interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 110, dtype=np.uint8)
    left = (1280 - fitted.shape[1]) // 2
    frame[:, left: left + fitted.shape[1]] = fitted
    return frame, f"CCPD scene {scenes[0].parent.name}/{scenes[0].name[:24]}… in 1280x720"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    parser.add_argument("--recogniser", choices=sorted(RECOGNISERS), default=DEFAULT_RECOGNISER,
                        help="plate text model (default: vigil)")
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    reader = PlateReader.load(args.model_dir, ReaderOptions(recogniser=args.recogniser))
    fixed = PlateReader.load(args.model_dir, ReaderOptions(detector_size=320,
                                                           recogniser=args.recogniser))
    crop, crop_name = sample_crop()
    frame, frame_name = sample_frame()
    found = [r.plate.text for r in reader.read_frame(frame)]
    print(f"plate reader bench: {args.calls} calls, one core, intra-op threads 1, "
          f"detector {reader.detector.name}")
    print(f"  crop:  {crop_name} -> {reader.read_crop(crop).text}")
    print(f"  frame: {frame_name} -> {found}")
    rows = [
        ("crop, recogniser only", lambda: reader.recognizer.read(crop)),
        ("crop, read_crop (rec + correction + colour)", lambda: reader.read_crop(crop)),
        ("720p frame, detector only (320)", lambda: reader.detector.detect(frame)),
        ("720p frame, detect + read (320)", lambda: fixed.read_frame(frame)),
        (f"720p frame, detect + read ({reader.detector_for(frame).name[-3:]}, auto)",
         lambda: reader.read_frame(frame)),
    ]
    for label, call in rows:
        median, p90 = timed(call, args.calls)
        print(f"  {label:<46} median {median:6.2f} ms   p90 {p90:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
