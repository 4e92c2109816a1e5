"""The demo camera as shipped (configs/, generated clip, real models): plates *and* the
person walking into the ``no-entry`` zone raise their alerts.

``vigil replay`` runs the demo clip through the same pipeline and rule engine as
``vigil run`` with the demo camera's config, so this is the whole "alerts within a minute"
chain minus the wall clock. The person scores are checked on their own too: the tracker
starts a track only at 0.6, so the figure must be well above that in every pose.
Without the model pack (``vigil models install``) the tests skip, saying which file is
missing; the demo then runs plates only (tests/e2e/test_demo_without_pack.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.detector import MODEL_NAME, DetectorOptions, load_yolox
from analytics.geometry import iou_matrix
from core.config import load_config
from core.messages import Frame
from tests.e2e.test_replay import ROOT, replay, require_models
from vigil.demo import DEMO_ZONE, FPS, SECONDS, SIZE, VERSION, demo_frame, ensure_demo_video

CONFIGS = ROOT / "configs"


def test_demo_config_matches_the_drawn_scene() -> None:
    camera = load_config(CONFIGS, env={}).camera("demo")
    assert camera.url == f"var/demo/demo-v{VERSION}.mp4"
    assert "intrusion" in camera.analytics and "plates" in camera.analytics
    (zone,) = camera.zones
    assert zone.id == "no-entry" and zone.classes == ["person"]
    assert [tuple(p) for p in zone.polygon] == list(DEMO_ZONE)


def test_person_is_a_confident_person_in_every_pose() -> None:
    require_models(MODEL_NAME)
    detector = load_yolox(Path(ROOT / "models"), DetectorOptions(
        score_threshold=0.05, classes=frozenset({"person"})))
    scores = []
    for index in range(0, FPS * SECONDS, 5):
        image, box = demo_frame(index)
        if box[0] <= 0 or box[2] >= SIZE[0]:
            continue  # entering or leaving the picture: partly visible
        found = detector.detect(Frame("demo", index, 0.0, image))
        scores.append(max((d.score for d in found
                           if iou_matrix([d.box], [box])[0, 0] >= 0.5), default=0.0))
    assert len(scores) > 20 and min(scores) >= 0.6, scores


@pytest.mark.slow
def test_demo_clip_raises_plate_and_intrusion_alerts(tmp_path: Path) -> None:
    require_models(MODEL_NAME, "y5fu_320x_sim.onnx")
    clip = ensure_demo_video(tmp_path / f"demo-v{VERSION}.mp4")
    lines, summary = replay(clip, "--config", CONFIGS, "--camera", "demo")
    events = [x for x in lines if x["type"] == "event"]
    intrusions = [e for e in events if e["kind"] == "intrusion"]
    assert len(intrusions) == 1, summary
    assert (intrusions[0]["zone"], intrusions[0]["label"]) == ("no-entry", "person")
    alerts = {(a["rule_id"], a["subject"]) for a in lines if a["type"] == "alert"}
    assert ("demo-intrusion", "no-entry:intrusion") in alerts
    assert {("watchlist-vehicles", "京A12345"), ("watchlist-vehicles", "京AD12345")} <= alerts
