"""Cost of the analytics stages per frame: detector, motion gate, tamper, tracker, scene.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.detector``. Prints medians over ``--runs``
calls after a warm-up. "frames/s per core" is 1000 / CPU-ms: the session uses one intra-op
thread, so process CPU time is the cost to one core; wall time is shown next to it (it
grows when other processes share the machine). The 1280×720 frame is a PETS frame scaled
up, so the picture content is real either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from analytics.appearance import describe
from analytics.detector import (
    DetectorOptions,
    Placement,
    YoloxDetector,
    grid_decode,
    letterbox,
    load_yolox,
    postprocess,
)
from analytics.motion import MotionGate
from analytics.scene import SceneAnalyzer
from analytics.tamper import TamperDetector
from analytics.tracker import Tracker, TrackerOptions
from core.config.models import Line, Zone
from core.messages import Detection, Frame

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
VIDEO = Path("data/video/pets2009_s2l1_view001.avi")
Image = npt.NDArray[np.uint8]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-ms and median CPU-ms of ``runs`` calls (after one warm-up call)."""
    call()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def pets_frames(shared: Path, count: int) -> list[Image]:
    import av

    frames: list[Image] = []
    with av.open(str(shared / VIDEO)) as container:
        for decoded in container.decode(video=0):
            frames.append(np.asarray(decoded.to_ndarray(format="bgr24"), dtype=np.uint8))
            if len(frames) == count:
                break
    return frames


class Cycle:
    """Calls ``step`` on successive items of ``items`` (wrapping around) per call;
    ``star`` unpacks each item into positional arguments."""

    def __init__(self, step: Callable[..., object], items: Sequence[Any],
                 star: bool = False) -> None:
        self.step, self.items, self.star, self.index = step, items, star, 0

    def __call__(self) -> object:
        self.index += 1
        item = self.items[self.index % len(self.items)]
        return self.step(*item) if self.star else self.step(item)


def bench_detector(detector: YoloxDetector, images: Sequence[Image], runs: int) -> None:
    """End-to-end detect() per source size, then the split: letterbox, model, decode+NMS."""
    size = detector.options.input_size
    for image in images:
        height, width = image.shape[:2]
        frames = [Frame("bench", i, i / 10, image) for i in range(runs)]
        wall, cpu = timed(Cycle(detector.detect, frames), runs)
        found = len(detector.detect(frames[0]))
        pre = timed(Cycle(lambda im: letterbox(im, size), [image]), runs)[1]
        print(f"detector YOLOX-nano 416 on {width}x{height}: {wall:6.2f} ms wall, "
              f"{cpu:6.2f} ms CPU -> {1000 / cpu:5.1f} frames/s per core "
              f"({found} objects; letterbox {pre:.2f} ms)")
    tensor, ratio = letterbox(images[-1], size)
    model = detector.model
    raw = np.asarray(model.run(tensor)[0], dtype=np.float32)[0]
    place = Placement(ratio, (0.0, 0.0), (images[-1].shape[1], images[-1].shape[0]))
    model_ms = timed(Cycle(model.run, [tensor]), runs)[1]
    post_ms = timed(Cycle(lambda r: postprocess(*grid_decode(r, size), place,
                                                detector.options), [raw]), runs)[1]
    print(f"  split: model {model_ms:.2f} ms CPU, grid decode + NMS {post_ms:.2f} ms CPU")


def bench_cheap_stages(images: Sequence[Image], runs: int) -> None:
    """Motion gate and tamper check: what a quiet camera costs per analysed frame."""
    for image in images:
        height, width = image.shape[:2]
        frames = [Frame("bench", i, i / 10, image) for i in range(runs + 1)]
        wall, cpu = timed(Cycle(MotionGate().check, frames), runs)
        print(f"motion gate on {width}x{height}:     {wall:6.3f} ms wall, {cpu:6.3f} ms CPU")
        wall, cpu = timed(Cycle(TamperDetector("bench").update, frames), runs)
        print(f"tamper check on {width}x{height}:    {wall:6.3f} ms wall, {cpu:6.3f} ms CPU")


def _walkers(count: int, frame: int) -> list[Detection]:
    """``count`` people walking on separate rows, 4 px per frame."""
    out = []
    for i in range(count):
        x = (40 + 4 * frame + 37 * i) % 1200
        y = 60 + (i * 53) % 600
        out.append(Detection("person", 0.8, (x, y, x + 30.0, y + 80.0)))
    return out


def bench_tracker_and_scene(runs: int, image: Image) -> None:
    """Tracker and scene rules per frame with 5, 20 and 50 people in view; the tracker
    with boxes only, then with colour descriptors (their cost on ``image`` shown apart)."""
    zone = Zone(id="z", polygon=[(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)],
                loiter_after=30.0, crowd_min=5)
    line = Line(id="l", a=(0.5, 0.0), b=(0.5, 1.0))
    for count in (5, 20, 50):
        tracker = Tracker("bench")
        steps = [(_walkers(count, f), f / 10) for f in range(runs + 20)]
        wall, cpu = timed(Cycle(tracker.update, steps, star=True), runs)
        print(f"tracker update, {count:2d} objects:     {wall:6.3f} ms wall, {cpu:6.3f} ms CPU")
        boxes = [[d.box for d in dets] for dets, _ in steps]
        wall, cpu = timed(Cycle(lambda b: describe(image, b), boxes), runs)
        print(f"  + colour descriptors, {count:2d} boxes: {wall:6.3f} ms wall, {cpu:6.3f} ms CPU")
        tracker = Tracker("bench")
        seen = [(dets, at, describe(image, b)) for (dets, at), b in zip(steps, boxes, strict=True)]
        wall, cpu = timed(Cycle(tracker.update, seen, star=True), runs)
        print(f"  + tracker update with appearance:  {wall:6.3f} ms wall, {cpu:6.3f} ms CPU")
        scene = SceneAnalyzer("bench", [zone], [line], (1280, 720))
        tracked = [Tracker("bench", TrackerOptions(min_hits=1)).update(d, 0.0)
                   for d, _ in steps]
        views = [(tracks, i / 10) for i, tracks in enumerate(tracked)]
        wall, cpu = timed(Cycle(scene.update, views, star=True), runs)
        print(f"scene update, {count:2d} tracks, 1 zone 1 line: {wall:6.3f} ms wall, "
              f"{cpu:6.3f} ms CPU")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="analytics stage costs per frame")
    parser.add_argument("--data", type=Path, default=SHARED, help="the shared folder")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)  # one core per camera worker: measure what one core pays
    pets = pets_frames(args.data, 101)[-1]
    hd = np.asarray(cv2.resize(pets, (1280, 720), interpolation=cv2.INTER_LINEAR), np.uint8)
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f}; median of {args.runs} calls")
    detector = load_yolox(args.model_dir or args.data / "models",
                          DetectorOptions(score_threshold=0.3))
    bench_detector(detector, [hd, pets], args.runs)
    bench_cheap_stages([hd, pets], args.runs)
    bench_tracker_and_scene(args.runs * 4, hd)


if __name__ == "__main__":
    main()
