"""bench/ingest_live.py splits a process's CPU by thread kind from the names the camera
worker gives its threads; this checks those names on a real worker reading a real file,
so a renamed thread cannot silently move decode time into "other"."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bench.ingest_live import kind_of
from core.config.models import Camera
from ingest.worker import CameraWorker


def test_the_bench_knows_the_threads_a_camera_worker_starts(moving_mp4: Path) -> None:
    worker = CameraWorker(Camera(id="cam00", name="c", url=str(moving_mp4)), lambda _s: None)
    worker.start()
    kinds: set[str] = set()
    try:
        deadline = time.monotonic() + 10
        while {"decode", "control"} - kinds and time.monotonic() < deadline:
            kinds = {kind_of(t.name) for t in threading.enumerate()}
            time.sleep(0.02)
    finally:
        worker.stop()
    assert {"decode", "control"} <= kinds
    assert kind_of("consume-cam00") == "consumer"
    assert kind_of("MainThread") == "other"
