"""An ingest worker process whose parent is killed (kill -9) exits by itself, and in
bounded time even when a camera will not stop (ingest.shard.ORPHAN_GRACE).

In a cluster another worker takes the dead one's cameras once its leases expire (8 s in
tests/e2e/test_cluster.py); an orphan still running then would be a second process on
one camera. A real spawned worker, a real file camera, the probe consumer made slow to
stop; the parent is a separate Python process, killed the way the cluster test kills one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.shard import ORPHAN_GRACE
from tests.e2e.cluster_support import running
from tests.ingest.test_ingest_consumer import read, wait

ROOT = Path(__file__).resolve().parents[2]
NOTICE = 1.0
"""The shard polls its command queue once a second, and notices a dead parent there."""


def orphan_exit(tmp_path: Path, video: Path, stop_delay: float) -> tuple[float, Path]:
    """Seconds from kill -9 of the parent to its worker process being gone, and the
    probe's file."""
    probe = tmp_path / "probe.json"
    parent = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.orphan_parent", str(probe), str(video),
         str(stop_delay)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert parent.stdout is not None
        shard = int(parent.stdout.readline())
        wait(probe, lambda d: d["frames"].get("file-a", 0) >= 5, timeout=30.0)
        os.kill(parent.pid, signal.SIGKILL)
        killed = time.monotonic()
        while running(shard) and time.monotonic() - killed < 60.0:
            time.sleep(0.05)
        took = time.monotonic() - killed
        if running(shard):
            os.kill(shard, signal.SIGKILL)
        return took, probe
    finally:
        parent.kill()
        parent.wait()


@pytest.mark.slow  # worker processes
def test_an_orphan_stops_its_cameras_and_exits(tmp_path: Path, moving_mp4: Path) -> None:
    took, probe = orphan_exit(tmp_path, moving_mp4, 0.0)
    assert took < NOTICE + ORPHAN_GRACE + 1.5, took
    assert read(probe)["events"][-2:] == ["stop file-a", "close"]  # a clean stop


@pytest.mark.slow  # worker processes
def test_an_orphan_whose_camera_will_not_stop_exits_after_the_grace(
        tmp_path: Path, moving_mp4: Path) -> None:
    took, probe = orphan_exit(tmp_path, moving_mp4, 30.0)
    assert took < NOTICE + ORPHAN_GRACE + 1.5, took
    assert took >= ORPHAN_GRACE  # it did wait for the camera first
    assert read(probe)["events"][-1] == "stopping file-a"
