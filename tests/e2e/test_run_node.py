"""``vigil run`` as a user starts it: a real process, the local bus, worker processes, HTTP."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as ws_connect

from vigil.demo import ensure_demo_video

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(directory: Path, video: Path, cameras: str = "") -> None:
    (directory / "cameras").mkdir(parents=True, exist_ok=True)
    (directory / "service.yaml").write_text(
        f"bus: local://{directory / 'bus.sock'}\nstore: sqlite:///{directory / 'vigil.db'}\n"
        "workers: 2\n", encoding="utf-8")
    (directory / "cameras" / "demo.yaml").write_text(
        "cameras:\n"
        f"  - {{id: file-cam, name: 文件摄像机, group: demo, url: '{video}'}}\n"
        "  - {id: dead-cam, name: Dead, url: 'rtsp://127.0.0.1:9/none',"
        " ingest: {open_timeout: 1, backoff_cap: 1}}\n" + cameras,
        encoding="utf-8")


def cameras_by_id(port: int) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"http://127.0.0.1:{port}/api/cameras",
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2)
    reply.raise_for_status()
    return {c["id"]: c for c in reply.json()}


def wait_for(predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except httpx.HTTPError:
            last = None
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"condition not met within {timeout}s; last value {last!r}")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[int, Path, subprocess.Popen[bytes]]]:
    video = ensure_demo_video(tmp_path / "clip.mp4")
    config = tmp_path / "config"
    write_config(config, video)
    port = free_port()
    env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "vigil.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "run", "--config", str(config),
         "--bind", f"127.0.0.1:{port}"], cwd=tmp_path, env=env, stdout=log, stderr=log)
    try:
        yield port, config, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_run_serves_camera_states_and_hot_reloads(
    node: tuple[int, Path, subprocess.Popen[bytes]],
) -> None:
    port, config, proc = node
    states = wait_for(lambda: (c := cameras_by_id(port))["file-cam"]["state"] == "streaming" and c,
                      timeout=30)
    assert states["dead-cam"]["state"] in {"connecting", "backoff"}
    assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "ok"
    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    assert 'vigil_ingest_state{camera="file-cam",state="streaming"} 1.0' in metrics

    extra = config / "cameras" / "extra.yaml"
    extra.write_text("cameras:\n  - {id: added-cam, name: Added, url: 'rtsp://127.0.0.1:9/x'}\n",
                     encoding="utf-8")
    wait_for(lambda: "added-cam" in cameras_by_id(port), timeout=10)

    extra.write_text("cameras:\n  - {id: added-cam, name: Added, url: 42, bogus: 1}\n",
                     encoding="utf-8")
    time.sleep(3)  # a bad edit is reported and the running config stays
    assert "added-cam" in cameras_by_id(port)
    assert proc.poll() is None

    extra.unlink()
    wait_for(lambda: "added-cam" not in cameras_by_id(port), timeout=10)
    assert cameras_by_id(port)["file-cam"]["state"] == "streaming"


def test_validate_config_cli(tmp_path: Path) -> None:
    good = tmp_path / "good"
    write_config(good, tmp_path / "clip.mp4")
    run = [sys.executable, "-m", "vigil.cli", "validate-config"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "bad"
    (bad / "cameras").mkdir(parents=True)
    (bad / "cameras" / "x.yaml").write_text(
        "cameras:\n  - id: a\n    name: A\n    url: rtsp://h/s\n    location: {lon: 1, lat: 91}\n",
        encoding="utf-8")
    res = subprocess.run([*run, str(bad)], capture_output=True, text=True, env=env, check=False)
    assert res.returncode == 1
    assert res.stdout.startswith(f"{bad / 'cameras' / 'x.yaml'}:5: cameras.0.location.lat:")


def test_shipped_configs_are_valid() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-m", "vigil.cli", "validate-config",
                          str(ROOT / "configs")], capture_output=True, text=True, env=env,
                         check=False)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_the_node_cleanly(node: tuple[int, Path, subprocess.Popen[bytes]],
                                       tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) both run the whole shutdown:
    cameras stopped, pending messages flushed, exit code 0, no traceback."""
    port, _, proc = node
    wait_for(lambda: cameras_by_id(port)["file-cam"]["state"] == "streaming", timeout=30)
    proc.send_signal(sig)
    assert proc.wait(30) == 0
    log = (tmp_path / "vigil.log").read_text(encoding="utf-8", errors="replace")
    assert "vigil stopped cleanly" in log
    assert "Traceback" not in log


def prom(text: str, name: str, **labels: str) -> float | None:
    """One sample's value from exposition text (None when the series is absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def test_live_alerts_carry_pushed_at_and_analysis_is_counted(tmp_path: Path) -> None:
    """The real stack: a plate camera on the demo clip, the demo watchlist, worker
    processes, the local bus, the WebSocket. Its alert envelopes say when they were pushed
    (they said ``null``: the hub read the alert before the publisher stamped it), and
    ``/metrics`` counts analysed frames and stage time, growing between scrapes."""
    video = ensure_demo_video(tmp_path / "clip.mp4")
    config = tmp_path / "config"
    write_config(config, video, f"  - {{id: plate-cam, name: Plates, url: '{video}', "
                 "analytics: [plates], ingest: {max_fps: 8}}\n")
    (config / "watchlists").mkdir()
    shutil.copy(ROOT / "configs" / "watchlists" / "demo.csv", config / "watchlists")
    port = free_port()
    env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "vigil.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.cli", "run", "--config", str(config),
             "--bind", f"127.0.0.1:{port}"], cwd=tmp_path, env=env, stdout=log, stderr=log)
        try:
            wait_for(lambda: cameras_by_id(port)["plate-cam"]["analysed"] > 0, timeout=60)
            alert = first_live_alert(port, timeout=90)
            first = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            time.sleep(3)
            second = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            camera = cameras_by_id(port)["plate-cam"]
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
    stamps = alert["timestamps"]
    assert stamps["pushed_at"] is not None and stamps["pushed_at"] >= stamps["raised_at"]
    for name, labels in (("vigil_analysis_frames_total", {}),
                         ("vigil_analysis_stage_seconds_total", {"stage": "plate"}),
                         ("vigil_analysis_stage_calls_total", {"stage": "plate"}),
                         ("vigil_ingest_frames_skipped_total", {"reason": "max_fps"})):
        before, after = (prom(t, name, camera="plate-cam", **labels) for t in (first, second))
        assert before is not None and after is not None and after > before, (name, labels)
    target = prom(second, "vigil_analysis_target_fps", camera="plate-cam")
    assert target is not None and 2.0 <= target <= 8.0  # below max_fps when the CPU is short
    assert camera["shedding"] == (camera["target_fps"] < 8.0) and camera["analysed_fps"] > 0
    assert {"skipped", "shed", "shedding", "backlog_s"} <= set(camera)


def first_live_alert(port: int, timeout: float) -> dict[str, Any]:
    """The first alert pushed live on the WebSocket (not replayed from the log)."""
    deadline = time.monotonic() + timeout
    with ws_connect(f"ws://127.0.0.1:{port}/ws?token={TOKEN}") as ws:
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if frame["kind"] == "alert" and not frame["replay"]:
                data: dict[str, Any] = frame["data"]
                return data
    raise AssertionError(f"no live alert within {timeout} s")
