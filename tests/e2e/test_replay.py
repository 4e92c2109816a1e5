"""``vigil replay`` as a user runs it: a real process, real models, real encoded video.

* A generated checkpoint clip (two cars, 京A12345 and 京AD12345) with a watchlist listing
  京A12345 → the JSON lines carry both sightings *and* the watchlist alert.
* Shared clips (PETS 2009 with a zone and a line; a highway with a counting line) → scene
  events from real detections. Skipped, with the path, when ../shared/data is absent.

Model files are needed (``vigil models install``); without them the tests skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from analytics import modelpack
from core.errors import ModelError
from vigil.synth.pipeline import make_clip, traffic, two_cars, write_clip

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(__file__).parents[2] / ".." / "shared" / "data"
START = "2026-01-05T10:00:00+08:00"
RULES = """\
rules:
  - id: stolen-cars
    kind: watchlist
    level: 2
    max_distance: 0
    cooldown: 60
"""
WATCHLIST = """\
plate,category,level,reason,applicant,unit,valid_until,scope,strictness
京A12345,stolen,1,盗抢车辆（测试）,e2e,测试分局,,all,strict
"""


def require_models(*names: str) -> None:
    model_dir = modelpack.default_model_dir()
    try:
        for name in names:
            modelpack.resolve(model_dir, name)
    except ModelError as exc:
        pytest.skip(f"models missing ({exc})")


def replay(*args: str | Path, timeout: float = 120) -> tuple[list[dict[str, Any]], str]:
    """Run ``vigil replay --json``; its JSON lines and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "replay", *map(str, args), "--json",
         "--start", START],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], done.stderr


def write_camera(config: Path, body: str) -> None:
    (config / "cameras").mkdir(parents=True, exist_ok=True)
    (config / "cameras" / "cam.yaml").write_text(body, encoding="utf-8")


def cut(source: Path, target: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``source`` re-encoded to ``target`` (same rate)."""
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream("libx264", rate=stream.average_rate or 25)
        out.width, out.height, out.pix_fmt = stream.width, stream.height, "yuv420p"
        out.options = {"preset": "veryfast", "crf": "20"}
        for index, picture in enumerate(src.decode(stream)):
            if index >= frames:
                break
            image = np.asarray(picture.to_ndarray(format="bgr24"), dtype=np.uint8)
            dst.mux(out.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        dst.mux(out.encode(None))
    return target


@pytest.mark.parametrize(("rules", "rule_id"), [
    (RULES, "stolen-cars"),
    (None, "watchlist-default"),  # no rules.yaml: the built-in watchlist rule alerts
])
def test_watchlisted_plate_raises_an_alert(tmp_path: Path, rules: str | None,
                                           rule_id: str) -> None:
    require_models("y5fu_320x_sim.onnx", "clp_v2_c_rec.onnx")
    video = tmp_path / "gate.mp4"
    make_clip(video, two_cars(), 75)
    config = tmp_path / "config"
    write_camera(config, "cameras:\n  - {id: gate-1, name: 检查站一号, group: gates, "
                         "url: gate.mp4, analytics: [plates]}\n")
    if rules is not None:
        (config / "rules.yaml").write_text(rules, encoding="utf-8")
    (config / "watchlists").mkdir()
    (config / "watchlists" / "stolen.csv").write_text(WATCHLIST, encoding="utf-8")
    evidence = tmp_path / "evidence"

    lines, stderr = replay(video, "--config", config, "--evidence", evidence)

    sightings = [m for m in lines if m["type"] == "sighting"]
    alerts = [m for m in lines if m["type"] == "alert"]
    assert sorted((s["plate"], s["final"]) for s in sightings) == [
        ("京A12345", False), ("京A12345", True), ("京AD12345", False), ("京AD12345", True)]
    assert all(s["camera_id"] == "gate-1" for s in sightings)
    assert len(alerts) == 1, alerts
    alert = alerts[0]
    assert alert["rule_id"] == rule_id
    assert alert["observation"]["plate"] == "京A12345"
    assert alert["observation"]["final"] is False  # raised on the early sighting
    assert "京A12345" in alert["summary_zh"] and alert["summary_en"]
    early = next(s for s in sightings if s["plate"] == "京A12345" and not s["final"])
    assert lines.index(alert) == lines.index(early) + 1
    assert (evidence / early["evidence"]["snapshot"]).is_file()
    assert "frames=75" in stderr and "sightings=4" in stderr and "alerts=1" in stderr


def test_bad_camera_id_is_a_clear_error(tmp_path: Path) -> None:
    video = tmp_path / "tiny.mp4"
    write_clip(video, (np.zeros((64, 64, 3), dtype=np.uint8) for _ in range(3)))
    write_camera(tmp_path / "config", "cameras:\n  - {id: cam-a, name: A, url: x.mp4}\n")
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "replay", str(video), "--config",
         str(tmp_path / "config"), "--camera", "cam-b"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "cam-b" in done.stderr and "cam-a" in done.stderr


@pytest.mark.slow
def test_pets_zone_and_line_events(tmp_path: Path) -> None:
    source = SHARED / "video" / "pets2009_s2l1_view001.avi"
    if not source.is_file():
        pytest.skip(f"shared clip not found at {source.resolve()}")
    require_models("yolox_nano.onnx")
    write_camera(tmp_path / "config", """\
cameras:
  - id: pets
    name: PETS 2009 S2L1
    url: pets.avi
    analytics: [persons, intrusion, line_crossing]
    zones:
      - {id: lawn, polygon: [[0.0, 0.6], [1.0, 0.6], [1.0, 1.0], [0.0, 1.0]], min_dwell: 1.0}
    lines:
      - {id: path, a: [0.5, 0.0], b: [0.5, 1.0], classes: [person]}
""")
    video = cut(source, tmp_path / "pets.mp4", 300)
    lines, stderr = replay(video, "--config", tmp_path / "config")
    events = [m for m in lines if m["type"] == "event"]
    kinds = {(e["kind"], e["zone"], e["label"]) for e in events}
    assert ("intrusion", "lawn", "person") in kinds
    assert ("line_cross", "path", "person") in kinds
    assert all(e["evidence"]["clip_from"] < e["at"] < e["evidence"]["clip_to"] for e in events)
    assert "frames=300" in stderr


@pytest.mark.slow
def test_highway_vehicles_cross_a_counting_line(tmp_path: Path) -> None:
    source = SHARED / "video" / "bgslibrary_video02_highway_cctv.avi"
    if not source.is_file():
        pytest.skip(f"shared clip not found at {source.resolve()}")
    require_models("yolox_nano.onnx")
    write_camera(tmp_path / "config", """\
cameras:
  - id: highway
    name: Highway
    url: highway.avi
    analytics: [vehicles, line_crossing]
    lines:
      - {id: count, a: [0.0, 0.4], b: [1.0, 0.4], classes: [car, truck, bus]}
""")
    video = cut(source, tmp_path / "highway.mp4", 250)
    lines, _ = replay(video, "--config", tmp_path / "config")
    crossings = [m for m in lines if m["type"] == "event" and m["kind"] == "line_cross"]
    assert len(crossings) >= 5
    assert {c["label"] for c in crossings} <= {"car", "truck", "bus"}
    assert {c["direction"] for c in crossings} == {"a_to_b", "b_to_a"}  # both carriageways
    assert len({c["track_ids"][0] for c in crossings}) == len(crossings)


def test_replay_analyses_at_the_cameras_live_rate(tmp_path: Path) -> None:
    """A camera with ``max_fps: 5`` analyses 5 of 25 frames a second live; the replay does
    the same (and still reads the fast car), and ``--max-fps 0`` analyses every frame."""
    require_models("y5fu_320x_sim.onnx", "clp_v2_c_rec.onnx")
    video = tmp_path / "fast.mp4"
    cars, frames = traffic(1, (704, 576))
    make_clip(video, cars, frames, 25, (704, 576))
    config = tmp_path / "config"
    write_camera(config, "cameras:\n  - {id: road-1, name: 路口, url: fast.mp4, "
                         "analytics: [plates, vehicles], ingest: {max_fps: 5}}\n")
    require_models("yolox_nano.onnx")
    lines, stderr = replay(video, "--config", config)
    counts = dict(field.split("=") for field in stderr.split() if field.startswith(
        ("frames=", "skipped=")))
    analysed, skipped = int(counts["frames"]), int(counts["skipped"])
    assert analysed + skipped == frames and abs(analysed - frames / 5) <= 1, stderr
    assert {(m["plate"], m["final"]) for m in lines if m["type"] == "sighting"} == {
        ("京A12345", False), ("京A12345", True)}
    _, every = replay(video, "--config", config, "--max-fps", "0")
    assert f"frames={frames} " in every and "skipped=0 " in every, every
