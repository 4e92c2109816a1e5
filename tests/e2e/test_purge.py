"""``vigil purge`` and the retention timer of ``vigil run``, on real files and a real store."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.clock import SystemClock
from core.messages import Evidence, Sighting
from core.retention import DAY
from core.store import open_store
from tests.e2e.test_run_node import ROOT, TOKEN, free_port, wait_for
from vigil.cli import main


def old_file(root: Path, rel: str, age: float) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 1000)
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return rel


def config_with_evidence(tmp_path: Path, retention: str = "") -> tuple[Path, Path]:
    """A config folder (no cameras) whose store holds one 8-day-old sighting, without an
    alert, with its files in the evidence folder."""
    config, evidence = tmp_path / "config", tmp_path / "evidence"
    (config / "cameras").mkdir(parents=True)
    (config / "service.yaml").write_text(
        f"bus: local://{tmp_path / 'bus.sock'}\nstore: sqlite:///{tmp_path / 'vigil.db'}\n"
        f"evidence_dir: {evidence}\nlive_dir: {tmp_path / 'live'}\n{retention}",
        encoding="utf-8")
    at = time.time() - 8 * DAY
    ev = Evidence(snapshot=old_file(evidence, "cam/d/old_final_scene.jpg", 8 * DAY),
                  clip=old_file(evidence, "cam/d/old_clip.mp4", 8 * DAY))
    store = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", SystemClock())
    store.add_sighting(Sighting("old", "cam", "京A12345", "京A12345", "small", "blue", 0.9,
                                at, at + 2, ev))
    store.close()
    return config, evidence


def test_dry_run_prints_what_it_would_delete_and_deletes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, evidence = config_with_evidence(tmp_path)
    orphan = old_file(evidence, "cam/d/ev_scene.jpg", 9 * DAY)
    files = sorted(evidence.rglob("*.*"))
    assert main(["purge", "--config", str(config), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "would delete sighting_rows old 0" in out
    assert "would delete sighting_files cam/d/old_final_scene.jpg 1000" in out
    assert "would delete sighting_files cam/d/old_clip.mp4 1000" in out
    assert f"would delete orphan_files {orphan} 1000" in out
    assert out[-1].startswith("would delete 1 orphan_files, 2 sighting_files, 1 sighting_rows")
    assert sorted(evidence.rglob("*.*")) == files
    store = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", SystemClock())
    assert len(store.trajectory("京A12345", 0, time.time())) == 1
    store.close()

    assert main(["purge", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("deleted 1 orphan_files, 2 sighting_files")
    assert sorted(evidence.rglob("*.*")) == []


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``vigil run`` on a config whose retention runs every second."""
    config, evidence = config_with_evidence(tmp_path, "retention: {interval: 1}\n")
    port = free_port()
    env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "vigil.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.cli", "run", "--config", str(config), "--bind",
             f"127.0.0.1:{port}"], cwd=tmp_path, env=env, stdout=log, stderr=log)
        try:
            yield port, evidence
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_vigil_run_purges_on_its_timer_and_shows_disk_use(running: tuple[int, Path]) -> None:
    port, evidence = running

    def metrics() -> str:
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text

    text = wait_for(lambda: 'vigil_purged_total{kind="sighting_rows"} 1.0' in (m := metrics())
                    and m, timeout=30)
    assert not (evidence / "cam/d/old_final_scene.jpg").exists()
    late = old_file(evidence, "cam/d/late_scene.jpg", 9 * DAY)  # the next round takes it
    wait_for(lambda: not (evidence / late).exists(), timeout=10)
    assert re.search(r"^vigil_evidence_files 0\.0$", text, re.M)
    assert "vigil_evidence_quota_bytes 5e+10" in text
    stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=2,
                      headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert stats["evidence"]["quota_bytes"] == 50 * 10**9
    assert stats["evidence"]["measured_at"] is not None
