"""The camera pipeline's wiring without models: a scripted detector and plate reader.

Frames are rendered (not encoded) synthetic traffic; the real models and encoded video are
in test_pipeline_video.py. These tests pin what the wiring decides: which stages run, when
plates are read, that tracks that leave end their plate pass, evidence layout, scene and
tamper events, and the errors for missing parts.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from analytics.consensus import ConsensusOptions, PassStage
from analytics.detector import FakeDetector
from analytics.evidence import EvidenceWriter, day_folder
from analytics.pipeline import CameraPipeline, Output, PipelineOptions
from analytics.pipeline_parts import (
    PipelineParts,
    checkpoint_mode,
    detector_classes,
    load_parts,
    needs_detector,
    parts_needed,
)
from analytics.pipeline_reads import (
    ReadOptions,
    ReadSchedule,
    assign_boxes,
    plate_read,
    vehicle_of,
)
from analytics.plates import PlateResult, PlateText
from analytics.plates_detect import PlateBox
from analytics.plates_geometry import UInt8Image
from analytics.scene import SceneOptions
from analytics.tamper import TamperOptions
from core.config.models import Camera, Zone
from core.errors import ModelError
from core.messages import Box, Detection, Frame, SceneEvent, Sighting, Track
from vigil.synth.pipeline import CarTruth, render_frame, scripted_detections, two_cars

SIZE = (640, 360)
FPS = 25.0
FRAMES = 60
START = 1_767_578_400.0  # 2026-01-05 10:00 Beijing time


def camera(analytics: Sequence[str], **extra: object) -> Camera:
    return Camera.model_validate({"id": "cam-1", "name": "test", "url": "x.mp4",
                                  "analytics": list(analytics), **extra})


class ScriptedReader:
    """Finds the fully visible plates of the frame (its number is stamped into a pixel)
    and reads each as its true text; ``calls`` counts plates read (recogniser runs)."""

    def __init__(self, truths: Sequence[Sequence[CarTruth]], white: bool = False) -> None:
        """``white``: the plates are white, found by the warm search only."""
        self.truths = truths
        self.white = white
        self.calls = 0
        self.warm_looks = 0

    def _plate(self, text: str) -> PlateText:
        confs = (0.9,) * len(text)
        return PlateText(text, text, 0.9, confs, "blue", "ordinary_7", "02")

    def find(self, image: UInt8Image, roi: Box | None = None,
             warm: bool = False) -> list[PlateBox]:
        self.warm_looks += warm
        if warm is not self.white:
            return []
        seq = int(image[0, 0, 0])
        return [PlateBox(t.plate_box, (), 0.9) for t in self.truths[seq] if t.plate_visible]

    def read_found(self, image: UInt8Image, found: Sequence[PlateBox]) -> list[PlateResult]:
        self.calls += len(found)
        seq = int(image[0, 0, 0])
        texts = {t.plate_box: t.text for t in self.truths[seq]}
        return [PlateResult(self._plate(texts[p.box]), p.box, (), 0.9) for p in found]


def clip(frames: int = FRAMES) -> tuple[list[UInt8Image], list[list[CarTruth]]]:
    cars = two_cars(SIZE, frames)
    rendered = [render_frame(cars, i, SIZE) for i in range(frames)]
    images = []
    for i, (image, _) in enumerate(rendered):
        image[0, 0] = i
        images.append(image)
    return images, [t for _, t in rendered]


def frames_of(images: Sequence[UInt8Image]) -> list[Frame]:
    return [Frame("cam-1", i, START + i / FPS, image) for i, image in enumerate(images)]


def run(pipeline: CameraPipeline, frames: Sequence[Frame]) -> list[tuple[int, Output]]:
    out = [(f.seq, o) for f in frames for o in pipeline.process(f)]
    return out + [(-1, o) for o in pipeline.flush(frames[-1].captured_at)]


def sightings(out: Sequence[tuple[int, Output]]) -> list[tuple[int, Sighting]]:
    return [(seq, o) for seq, o in out if isinstance(o, Sighting)]


def first_readable(truths: Sequence[Sequence[CarTruth]], text: str) -> int:
    return next(i for i, frame in enumerate(truths)
                for t in frame if t.text == text and t.plate_visible)


@pytest.fixture(scope="module")
def traffic() -> tuple[list[UInt8Image], list[list[CarTruth]]]:
    return clip()


@pytest.mark.parametrize(("analytics", "detector", "checkpoint", "classes"), [
    (["plates", "vehicles"], True, False, {"car", "bus", "truck", "motorcycle"}),
    (["plates"], False, True, set()),
    (["persons", "tamper"], True, False, {"person"}),
    (["tamper"], False, False, set()),
    ([], False, False, set()),
])
def test_modes(analytics: list[str], detector: bool, checkpoint: bool,
               classes: set[str]) -> None:
    cam = camera(analytics)
    assert needs_detector(cam) is detector
    assert checkpoint_mode(cam) is checkpoint
    assert detector_classes(cam) == classes


def test_scene_classes_follow_zones_and_parts_needed() -> None:
    zone = Zone(id="z", polygon=[(0, 0), (1, 0), (1, 1)], classes=["person", "bicycle"])
    cam = camera(["intrusion"], zones=[zone.model_dump()])
    assert detector_classes(cam) == {"person", "bicycle"}
    assert parts_needed([cam, camera(["plates"])]) == (True, True)
    disabled = Camera.model_validate({**camera(["plates"]).model_dump(), "enabled": False})
    assert parts_needed([disabled]) == (False, False)


def test_vehicle_mode_one_sighting_per_car(traffic: tuple[list[UInt8Image],
                                                           list[list[CarTruth]]]) -> None:
    images, truths = traffic
    reader = ScriptedReader(truths)
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), reader)
    pipeline = CameraPipeline(camera(["plates", "vehicles"]), parts)
    found = sightings(run(pipeline, frames_of(images)))
    by_plate: dict[str, list[tuple[int, Sighting]]] = {}
    for seq, s in found:
        by_plate.setdefault(s.plate, []).append((seq, s))
    assert sorted(by_plate) == ["京A12345", "京AD12345"]
    for text, items in by_plate.items():
        assert [s.final for _, s in items] == [False, True], text
        assert len({s.sighting_id for _, s in items}) == 1
        early_seq = items[0][0]
        assert (early_seq - first_readable(truths, text)) / FPS <= 1.0
        final = items[1][1]
        assert final.evidence.clip_from == pytest.approx(final.first_seen - 5.0)
        assert final.evidence.clip_to == pytest.approx(final.last_seen + 5.0)
        assert final.evidence.snapshot is None
    # the schedule bounds plate reading: far fewer reads than frames with a plate in view
    plate_frames = sum(1 for frame in truths for t in frame if t.plate_visible)
    assert reader.calls < plate_frames / 2


@pytest.mark.slow  # a whole synthetic clip
def test_cars_that_leave_are_finalised_before_the_stream_ends() -> None:
    images, truths = clip(FRAMES)
    empty = [np.full_like(images[0], 90) for _ in range(100)]  # the road empty for 4 s
    for image in empty:
        image[0, 0] = 0
    reader = ScriptedReader([*truths, *[[] for _ in empty]])
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), reader)
    pipeline = CameraPipeline(camera(["plates", "vehicles"]), parts)
    frames = frames_of([*images, *empty])
    out = [(f.seq, o) for f in frames for o in pipeline.process(f)]
    finals = [seq for seq, s in sightings(out) if s.final]
    assert len(finals) == 2
    assert max(finals) < len(frames) - 1
    assert pipeline.flush(frames[-1].captured_at) == []


def test_checkpoint_mode_tracks_plates(traffic: tuple[list[UInt8Image],
                                                      list[list[CarTruth]]]) -> None:
    images, truths = traffic
    reader = ScriptedReader(truths)
    pipeline = CameraPipeline(camera(["plates"]), PipelineParts(None, reader))
    found = sightings(run(pipeline, frames_of(images)))
    assert sorted((s.plate, s.final) for _, s in found) == [
        ("京A12345", False), ("京A12345", True), ("京AD12345", False), ("京AD12345", True)]
    assert len({s.sighting_id for _, s in found}) == 2


def test_evidence_files_and_relative_paths(tmp_path: Path, traffic: tuple[
        list[UInt8Image], list[list[CarTruth]]]) -> None:
    images, truths = traffic
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), ScriptedReader(truths))
    writer = EvidenceWriter(tmp_path)
    pipeline = CameraPipeline(camera(["plates", "vehicles"]), parts, writer)
    found = [s for _, s in sightings(run(pipeline, frames_of(images)))]
    day = day_folder(START, 8.0)
    assert day == "20260105"
    for s in found:  # the final emission does not overwrite what an early alert points at
        name = s.sighting_id + ("_final" if s.final else "")
        assert s.evidence.snapshot == f"cam-1/{day}/{name}_scene.jpg"
        assert s.evidence.plate_crop == f"cam-1/{day}/{name}_plate.jpg"
        assert (tmp_path / s.evidence.snapshot).stat().st_size > 1000
        assert (tmp_path / s.evidence.plate_crop).stat().st_size > 100
        assert s.evidence.frame_seq is not None and s.evidence.box is not None
    assert sorted(p.name for p in tmp_path.rglob("*.jpg")) == sorted(
        {f"{s.sighting_id}{'_final' if s.final else ''}_{kind}.jpg"
         for s in found for kind in ("scene", "plate")})
    assert not list(tmp_path.rglob(".*"))  # no temporary files left behind
    assert pipeline.stats()["frames_held"] == 0  # evidence frames released after the final


def test_motion_gate_skips_the_detector_on_a_still_picture() -> None:
    still = np.full((SIZE[1], SIZE[0], 3), 100, dtype=np.uint8)
    detector = FakeDetector()
    pipeline = CameraPipeline(camera(["vehicles"]), PipelineParts(detector, None))
    frames = [Frame("cam-1", i, START + i / FPS, still) for i in range(250)]  # 10 s
    assert [o for f in frames for o in pipeline.process(f)] == []
    assert detector.calls == 2  # the first frame, then the periodic check at 5 s
    assert pipeline.stats()["motion_skipped"] == 248


def test_intrusion_event_with_zone_snapshot(tmp_path: Path) -> None:
    zone = {"id": "yard", "polygon": [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]],
            "classes": ["person"], "min_dwell": 0.5}
    line = {"id": "fence", "a": [0.0, 0.4], "b": [1.0, 0.4]}
    cam = camera(["persons", "intrusion"], zones=[zone], lines=[line])
    script = {i: [Detection("person", 0.9, (300.0, 150.0 + 3 * i, 330.0, 230.0 + 3 * i))]
              for i in range(40)}
    counter = itertools.count(1)
    options = PipelineOptions(motion_gate=False,
                              scene=SceneOptions(new_id=lambda: f"ev{next(counter)}"))
    pipeline = CameraPipeline(cam, PipelineParts(FakeDetector(script), None),
                              EvidenceWriter(tmp_path), options)
    background = np.full((SIZE[1], SIZE[0], 3), 90, dtype=np.uint8)
    out = [o for i in range(40)
           for o in pipeline.process(Frame("cam-1", i, START + i / 10, background))]
    events = [o for o in out if isinstance(o, SceneEvent)]
    assert [(e.kind, e.zone, e.label) for e in events] == [("intrusion", "yard", "person")]
    event = events[0]
    assert event.evidence.snapshot == f"cam-1/20260105/{event.event_id}_scene.jpg"
    assert (tmp_path / event.evidence.snapshot).is_file()
    assert event.evidence.clip_to == pytest.approx(event.at + 5.0)  # line_cross not enabled


def test_tamper_event_when_the_lens_is_covered() -> None:
    rng = np.random.default_rng(3)
    street = np.asarray(rng.integers(0, 255, (SIZE[1], SIZE[0], 3)), dtype=np.uint8)
    black = np.zeros_like(street)
    pipeline = CameraPipeline(camera(["tamper"]), PipelineParts(),
                              options=PipelineOptions(tamper=TamperOptions(hold=1.0)))
    frames = [Frame("cam-1", i, START + i / 5, street if i < 10 else black)
              for i in range(25)]
    events = [o for f in frames for o in pipeline.process(f)]
    assert [(e.kind, e.zone) for e in events if isinstance(e, SceneEvent)] == [("tamper", None)]


def test_missing_parts_are_reported_per_camera() -> None:
    with pytest.raises(ModelError, match=r"cam-1.*detector"):
        CameraPipeline(camera(["vehicles"]), PipelineParts())
    with pytest.raises(ModelError, match=r"cam-1.*plate reader"):
        CameraPipeline(camera(["plates"]), PipelineParts())


def test_load_parts_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="vigil models install"):
        load_parts(tmp_path, need_plates=False, need_detector=True)
    assert load_parts(tmp_path, need_plates=False, need_detector=False) == PipelineParts()
    fake = load_parts(tmp_path, need_plates=False, need_detector=True, detector="fake")
    assert isinstance(fake.detector, FakeDetector)


@pytest.mark.parametrize(("stages", "due"), [
    ([("new", 0.0)], [True]),
    ([("new", 0.0), ("reading", 0.04), ("reading", 0.16)], [True, False, True]),
    ([("new", 0.0), ("early", 0.2), ("early", 0.5)], [True, False, True]),
    ([("new", 0.0), ("closed", 1.0)], [True, False]),
])
def test_read_schedule(stages: list[tuple[str, float]], due: list[bool]) -> None:
    schedule = ReadSchedule(ReadOptions(interval=0.15, confident_interval=0.5))
    assert [schedule.take(7, at, PassStage(stage)) for stage, at in stages] == due


def test_read_schedule_caps_attempts() -> None:
    schedule = ReadSchedule(ReadOptions(interval=0.0, max_attempts=3))
    assert [schedule.take(1, float(i), PassStage.READING) for i in range(5)] == [
        True, True, True, False, False]
    schedule.forget(1)
    assert schedule.take(1, 9.0, PassStage.READING)


def test_assign_boxes_pairs_each_plate_with_its_track() -> None:
    boxes: list[Box] = [(0, 0, 100, 30), (300, 0, 400, 30), (600, 0, 700, 30), (900, 0, 990, 30)]
    tracks = [Track(5, "c", "plate", (302, 1, 401, 31), 0, 0),
              Track(6, "c", "plate", (2, 0, 101, 30), 0, 0),
              Track(7, "c", "plate", (600, 0, 700, 30), 0, 0)]
    pairs = assign_boxes(boxes, tracks)
    assert sorted((i, t.track_id) for i, t in pairs) == [(0, 6), (1, 5), (2, 7)]


def test_plate_read_keeps_valid_plates_only() -> None:
    def result(text: str, kind: str) -> PlateResult:
        return PlateResult(PlateText(text, text, 0.9, (0.9,) * len(text), "blue", kind, "02"),
                           (0, 0, 100, 30), (), 0.9)

    read = plate_read(result("京A12345", "ordinary_7"), 4, 9)
    assert read is not None and (read.track_id, read.text, read.frame_seq) == (4, "京A12345", 9)
    assert plate_read(result("XX", "unknown"), 4, 9) is None


def test_vehicle_of_is_the_smallest_vehicle_holding_the_plate() -> None:
    bus = Track(1, "c", "bus", (0, 0, 600, 400), 0, 0)
    car = Track(2, "c", "car", (100, 100, 300, 300), 0, 0)
    assert vehicle_of((180, 250, 220, 262), [bus, car]) == car.box
    assert vehicle_of((500, 350, 540, 362), [bus, car]) == bus.box
    assert vehicle_of((700, 350, 740, 362), [bus, car]) is None


def test_failed_evidence_write_still_sends_the_sighting(
        tmp_path: Path, traffic: tuple[list[UInt8Image], list[list[CarTruth]]]) -> None:
    images, truths = traffic
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the evidence folder should be", encoding="utf-8")
    writer = EvidenceWriter(blocked)
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), ScriptedReader(truths))
    pipeline = CameraPipeline(camera(["plates", "vehicles"]), parts, writer)
    found = [s for _, s in sightings(run(pipeline, frames_of(images)))]
    assert len(found) == 4
    assert all(s.evidence.snapshot is None and s.evidence.clip_from is not None for s in found)
    assert writer.failures == 8 and writer.written == 0


def test_a_plate_lost_for_a_while_stays_one_pass(traffic: tuple[list[UInt8Image],
                                                               list[list[CarTruth]]]) -> None:
    """The plate of 京A12345 is found once, then not for a second (hidden; at a low rate
    a missed detection or two does the same): its plate track had no speed yet, so the
    tracker cannot follow it and starts a new track 300 px further on. The new track's
    reads join the open pass: one sighting id per car, not two."""
    images, truths = traffic
    seen = first_readable(truths, "京A12345")
    hidden = [[dataclasses.replace(t, plate_visible=False)
               if t.text == "京A12345" and seen < seq <= seen + 25 else t for t in frame]
              for seq, frame in enumerate(truths)]
    found = {False: 0, True: 0}
    for link_within in (2.0, -1.0):  # with the merge, and without it (the control)
        options = PipelineOptions(consensus=ConsensusOptions(link_within=link_within))
        pipeline = CameraPipeline(camera(["plates", "vehicles"]), PipelineParts(
            FakeDetector(scripted_detections(truths)), ScriptedReader(hidden)),
            options=options)
        mine = [s for _, s in sightings(run(pipeline, frames_of(images)))
                if s.plate == "京A12345"]
        found[link_within > 0] = len({s.sighting_id for s in mine})
    assert found == {True: 1, False: 2}


@pytest.mark.parametrize("interval", [0.5, 0.0])
def test_warm_second_search_only_on_moving_frames_without_plates_and_rate_limited(
        traffic: tuple[list[UInt8Image], list[list[CarTruth]]], interval: float) -> None:
    images, truths = traffic
    reader = ScriptedReader(truths)
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), reader)
    options = PipelineOptions(reads=ReadOptions(warm_interval=interval))
    frames = frames_of(images)
    found = sightings(run(CameraPipeline(camera(["plates", "vehicles"]), parts,
                                         options=options), frames))
    assert sorted({s.plate for _, s in found}) == ["京A12345", "京AD12345"]
    span = frames[-1].captured_at - frames[0].captured_at
    no_plate = sum(1 for frame in truths if not any(t.plate_visible for t in frame))
    if interval:
        assert 0 < reader.warm_looks <= span / interval + 1
        assert reader.warm_looks <= no_plate
    else:
        assert reader.warm_looks == 0


def test_white_plates_are_read_by_warm_searches_on_every_frame_while_in_view(
        traffic: tuple[list[UInt8Image], list[list[CarTruth]]]) -> None:
    images, truths = traffic
    reader = ScriptedReader(truths, white=True)
    parts = PipelineParts(FakeDetector(scripted_detections(truths)), reader)
    found = sightings(run(CameraPipeline(camera(["plates", "vehicles"]), parts),
                          frames_of(images)))
    assert sorted({s.plate for _, s in found}) == ["京A12345", "京AD12345"]
    plate_frames = sum(1 for frame in truths if any(t.plate_visible for t in frame))
    span = (len(images) - 1) / FPS
    assert reader.warm_looks > span / ReadOptions().warm_interval + 1
    assert reader.warm_looks >= plate_frames / 3  # every third frame at most (find_interval)
