"""Whole camera pipeline speed on one core: the figures the README quotes.

    PYTHONPATH=. .venv/bin/python bench/pipeline.py [--model-dir models] [--loops 4]

A 1280x720 H.264 clip of two cars with plates (京A12345 blue, 京AD12345 green) crossing for
3 s at 25 fps is generated with PyAV in a temporary folder, then decoded (PyAV, one thread)
and analysed ``--loops`` times in a row, with the frame times running on, by:

* **vehicle mode** (``analytics: [plates, vehicles]``): the real YOLOX-nano runs on every
  gated frame (its cost is measured) but the vehicle boxes handed to the tracker are the
  drawn cars' true boxes, since YOLOX was not trained on drawn cars; plates are read by
  the real reader inside the tracked boxes on the read schedule;
* **checkpoint mode** (``analytics: [plates]``): the real plate reader over whole frames.

Printed per mode: frames per second on one core, milliseconds per frame by stage (decode,
motion, detect, track, plate, consensus), the sightings and how long after each plate first
became fully visible its early sighting came. The process is pinned to one CPU and every
ONNX session uses one intra-op thread without spinning (docs/platform-notes.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np

from analytics import modelpack
from analytics.detector import Detector, FakeDetector, load_yolox
from analytics.pipeline import CameraPipeline
from analytics.pipeline_parts import PipelineParts, load_parts
from core.config.models import Camera
from core.messages import Detection, Frame, Sighting
from vigil.synth.pipeline import CarTruth, make_clip, scripted_detections, two_cars

FPS, FRAMES = 25, 75
STAGES = ("decode", "motion", "detect", "track", "plate", "consensus")


class MeasuredScript:
    """Runs the real detector (for its cost), returns the scripted true boxes."""

    def __init__(self, real: Detector, script: FakeDetector, frames: int) -> None:
        self.real, self.script, self.frames = real, script, frames

    def detect(self, frame: Frame) -> list[Detection]:
        self.real.detect(frame)
        looped = Frame(frame.camera_id, frame.seq % self.frames, frame.captured_at,
                       frame.image)
        return self.script.detect(looped)


def decode_frames(video: Path, start: float) -> Iterator[Frame]:
    """Decoded frames (PyAV, one thread) timed at ``start + seq / FPS``. Not imported from
    ``vigil.replay``: run as a script, this folder's ``alerts.py`` would shadow the
    ``alerts`` package that module imports."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for seq, picture in enumerate(container.decode(stream)):
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            yield Frame("bench", seq, start + seq / FPS, image)


def run(pipeline: CameraPipeline, video: Path, loops: int) -> tuple[float, float,
                                                                     list[tuple[int, Sighting]]]:
    """Decode and process ``loops`` passes; (total wall s, decode s, sightings by frame)."""
    found: list[tuple[int, Sighting]] = []
    decode = 0.0
    started = time.perf_counter()
    seq = 0
    for loop in range(loops):
        frames = decode_frames(video, 1_767_578_400.0 + loop * FRAMES / FPS)
        while True:
            tick = time.perf_counter()
            frame = next(frames, None)
            decode += time.perf_counter() - tick
            if frame is None:
                break
            frame = Frame("bench", seq, frame.captured_at, frame.image)
            found += [(seq, o) for o in pipeline.process(frame) if isinstance(o, Sighting)]
            seq += 1
    found += [(seq, s) for s in pipeline.flush(1e12) if isinstance(s, Sighting)]
    return time.perf_counter() - started, decode, found


def report(name: str, pipeline: CameraPipeline, result: tuple[float, float, list[
        tuple[int, Sighting]]], truths: Sequence[Sequence[CarTruth]]) -> None:
    wall, decode, found = result
    frames = pipeline.times.frames
    split = pipeline.times.per_frame_ms()
    split["decode"] = decode * 1000 / frames
    print(f"{name}: {frames} frames in {wall:.2f} s = {frames / wall:.1f} frames/s per core "
          f"({wall * 1000 / frames:.1f} ms/frame)")
    print("  ms/frame  " + "  ".join(f"{s} {split[s]:.2f}" for s in STAGES)
          + f"  other {wall * 1000 / frames - sum(split[s] for s in STAGES):.2f}")
    first = {t.text: i for i in reversed(range(len(truths))) for t in truths[i]
             if t.plate_visible}
    for seq, s in found:
        if s.final:
            print(f"  final  {s.plate:<9} conf {s.confidence:.2f} id {s.sighting_id[:8]}")
            continue
        delay = (seq % FRAMES - first[s.plate]) / FPS if s.plate in first else float("nan")
        print(f"  early  {s.plate:<9} conf {s.confidence:.2f} id {s.sighting_id[:8]} "
              f"{delay:+.2f} s after the plate was first fully visible")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    parser.add_argument("--loops", type=int, default=4)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    parts = load_parts(args.model_dir, need_plates=True, need_detector=False)
    yolox = load_yolox(args.model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "two_cars.mp4"
        truths = make_clip(video, two_cars(), FRAMES, FPS)
        print(f"pipeline bench: 1280x720 H.264, 2 cars, {FRAMES} frames at {FPS} fps x "
              f"{args.loops} loops; one core, onnxruntime intra-op threads 1")
        script = MeasuredScript(yolox, FakeDetector(scripted_detections(truths)), FRAMES)
        vehicle = CameraPipeline(
            Camera(id="bench", name="bench", url="x", analytics=["plates", "vehicles"]),
            PipelineParts(script, parts.plates))
        report("vehicle mode", vehicle, run(vehicle, video, args.loops), truths)
        checkpoint = CameraPipeline(
            Camera(id="bench", name="bench", url="x", analytics=["plates"]), parts)
        report("checkpoint mode", checkpoint, run(checkpoint, video, args.loops), truths)
    return 0


if __name__ == "__main__":
    sys.exit(main())
