"""The camera pipeline with the real plate reader on an H.264 clip made by PyAV.

Two cars cross a 1280×720 road for 3 s at 25 fps: a blue 京A12345 and a green new-energy
京AD12345. Vehicle boxes come from a scripted detector (the drawn cars are not something
YOLOX was trained on); plates are read by the real models from the decoded, compressed
frames. Skips name what is missing: the model files (``vigil models install``) or
OpenCV 5.x (needed to draw Chinese characters).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np
import pytest

from analytics import modelpack
from analytics.detector import FakeDetector
from analytics.evidence import EvidenceWriter
from analytics.pipeline import CameraPipeline, Output, PipelineOptions
from analytics.pipeline_parts import PipelineParts, load_parts
from core.config.models import Camera
from core.errors import ModelError
from core.messages import Frame, Sighting
from vigil.synth.pipeline import CarTruth, make_clip, scripted_detections, traffic, two_cars

pytestmark = pytest.mark.slow  # real models on encoded video (not in `make check`)

FPS, FRAMES = 25, 75
START = 1_767_578_400.0
PLATES = ("京A12345", "京AD12345")


@pytest.fixture(scope="module")
def parts() -> PipelineParts:
    model_dir = modelpack.default_model_dir()
    try:
        return load_parts(model_dir, need_plates=True, need_detector=False)
    except ModelError as exc:
        pytest.skip(f"plate models not installed in {model_dir}: {exc}")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[CarTruth]]]:
    path = tmp_path_factory.mktemp("video") / "two_cars.mp4"
    truths = make_clip(path, two_cars(), FRAMES, FPS)
    return path, truths


def decoded(path: Path) -> Iterator[Frame]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for seq, picture in enumerate(container.decode(stream)):
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            yield Frame("gate", seq, START + seq / FPS, image)


def run(pipeline: CameraPipeline, path: Path) -> list[tuple[int, Output]]:
    out: list[tuple[int, Output]] = []
    last = START
    for frame in decoded(path):
        out += [(frame.seq, o) for o in pipeline.process(frame)]
        last = frame.captured_at
    return out + [(FRAMES, o) for o in pipeline.flush(last)]


def first_readable(truths: Sequence[Sequence[CarTruth]], text: str) -> int:
    return next(i for i, frame in enumerate(truths)
                for t in frame if t.text == text and t.plate_visible)


def check_one_pass_per_car(out: Sequence[tuple[int, Output]],
                           truths: Sequence[Sequence[CarTruth]]) -> list[Sighting]:
    """Exactly one early and one final per car, same id, right plate, early ≤ 1 s."""
    found = [(seq, o) for seq, o in out if isinstance(o, Sighting)]
    assert sorted(s.plate for _, s in found) == sorted(PLATES * 2), found
    for text in PLATES:
        mine = [(seq, s) for seq, s in found if s.plate == text]
        assert [s.final for _, s in mine] == [False, True]
        assert mine[0][1].sighting_id == mine[1][1].sighting_id
        delay = (mine[0][0] - first_readable(truths, text)) / FPS
        assert delay <= 1.0, f"{text}: early sighting {delay:.2f} s after readable"
        assert mine[0][1].last_seen - START <= first_readable(truths, text) / FPS + 1.0
        assert mine[1][0] >= FRAMES - 10  # final once the car has gone / at stream end
        assert mine[1][1].confidence >= 0.5
    return [s for _, s in found]


def test_vehicle_mode_reads_each_car_once(parts: PipelineParts,
                                          clip: tuple[Path, list[list[CarTruth]]],
                                          tmp_path: Path) -> None:
    path, truths = clip
    camera = Camera(id="gate", name="gate", url=str(path), analytics=["plates", "vehicles"])
    vehicle_parts = PipelineParts(FakeDetector(scripted_detections(truths)), parts.plates)
    pipeline = CameraPipeline(camera, vehicle_parts, EvidenceWriter(tmp_path))
    found = check_one_pass_per_car(run(pipeline, path), truths)
    assert {(s.plate_type, s.color) for s in found} == {("ordinary_7", "blue"),
                                                         ("ne_small_8", "green")}
    for s in found:
        assert s.evidence.snapshot is not None
        assert (tmp_path / s.evidence.snapshot).is_file()
    times = pipeline.times.per_frame_ms()
    assert times["plate"] > 0.0 and times["detect"] >= 0.0


def test_checkpoint_mode_reads_each_car_once(parts: PipelineParts,
                                             clip: tuple[Path, list[list[CarTruth]]]) -> None:
    path, truths = clip
    camera = Camera(id="gate", name="gate", url=str(path), analytics=["plates"])
    pipeline = CameraPipeline(camera, parts)
    check_one_pass_per_car(run(pipeline, path), truths)


@pytest.fixture(scope="module")
def fast_car(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[CarTruth]]]:
    """One car crossing a 704x576 picture in 1.5 s at 25 fps (traffic()'s first car)."""
    cars, frames = traffic(1, (704, 576), FPS)
    path = tmp_path_factory.mktemp("video") / "fast_car.mp4"
    return path, make_clip(path, cars, frames, FPS, (704, 576))


def sightings_every_fifth_frame(pipeline: CameraPipeline, path: Path,
                                phase: int) -> list[Sighting]:
    """The sightings of ``pipeline`` fed frames ``phase``, ``phase + 5``, ... (5 fps)."""
    out: list[Output] = []
    last = START
    for frame in decoded(path):
        if frame.seq % 5 == phase:
            out += pipeline.process(frame)
            last = frame.captured_at
    out += pipeline.flush(last)
    return [o for o in out if isinstance(o, Sighting)]


@pytest.mark.parametrize("analytics", [["plates", "vehicles"], ["plates"]])
@pytest.mark.parametrize("phase", range(5))
def test_a_fast_car_at_5_fps_is_read_as_one_pass(
        parts: PipelineParts, fast_car: tuple[Path, list[list[CarTruth]]],
        analytics: list[str], phase: int) -> None:
    """Every fifth frame (5 fps, each of the five phases): the car is in view for about
    seven analysed frames. Reading only inside confirmed vehicle tracks read it in none of
    them (the track was never confirmed: 117 px between frames); now it is read, once."""
    path, truths = fast_car
    camera = Camera(id="gate", name="gate", url=str(path), analytics=analytics)
    vehicle_parts = PipelineParts(FakeDetector(scripted_detections(truths)), parts.plates)
    pipeline = CameraPipeline(camera, vehicle_parts)
    found = sightings_every_fifth_frame(pipeline, path, phase)
    assert [(s.plate, s.final) for s in found] == [("京A12345", False), ("京A12345", True)]
    assert len({s.sighting_id for s in found}) == 1
    assert pipeline.times.frames <= 8


@pytest.mark.parametrize("phase", range(5))
def test_detect_fps_caps_the_detector_not_the_plates(
        parts: PipelineParts, fast_car: tuple[Path, list[list[CarTruth]]], phase: int) -> None:
    """At 5 fps with ``detect_fps: 2.5`` the detector runs on every other moving frame and
    the fast car is still read as one pass (the plate search runs on every frame)."""
    path, truths = fast_car
    camera = Camera(id="gate", name="gate", url=str(path), analytics=["plates", "vehicles"],
                    detect_fps=2.5)
    detector = FakeDetector(scripted_detections(truths))  # counts its calls
    pipeline = CameraPipeline(camera, PipelineParts(detector, parts.plates),
                              options=PipelineOptions(motion_gate=False))
    found = sightings_every_fifth_frame(pipeline, path, phase)
    assert [(s.plate, s.final) for s in found] == [("京A12345", False), ("京A12345", True)]
    assert 0 < detector.calls <= (pipeline.times.frames + 1) // 2
