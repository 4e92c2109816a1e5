"""A frame consumer for tests: counts frames per camera and records calls in a file.

It is built inside worker processes from its import path, like the analytics consumer.
Option ``stop_delay`` (seconds) makes ``camera_stopped`` hang that long, like an analysis
thread that is slow to finish (tests/ingest/test_ingest_orphan.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from ingest.worker import CameraWorker


class Probe:
    def __init__(self, options: dict[str, Any]) -> None:
        self.path = Path(str(options["path"]))
        self.stop_delay = float(options.get("stop_delay", 0.0))
        self.events: list[str] = []
        self.frames: dict[str, int] = {}
        self.stops: dict[str, threading.Event] = {}
        self.lock = threading.RLock()

    def _write(self) -> None:
        with self.lock:  # one writer at a time: the frame thread and the command thread
            text = json.dumps({"events": self.events, "frames": self.frames})
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.path)

    def camera_started(self, worker: CameraWorker) -> None:
        cid = worker.camera.id
        stop = self.stops[cid] = threading.Event()
        with self.lock:
            self.events.append(f"start {cid} {','.join(worker.camera.analytics)}")

        def take() -> None:
            while not stop.is_set():
                frame = worker.slot.take(timeout=0.2) if worker.slot else None
                if frame is not None:
                    with self.lock:
                        self.frames[cid] = self.frames.get(cid, 0) + 1
                    self._write()

        threading.Thread(target=take, daemon=True).start()
        self._write()

    def camera_stopped(self, camera_id: str) -> None:
        self.stops.pop(camera_id).set()
        if self.stop_delay:
            with self.lock:
                self.events.append(f"stopping {camera_id}")
            self._write()
            time.sleep(self.stop_delay)
        with self.lock:
            self.events.append(f"stop {camera_id}")
        self._write()

    def close(self) -> None:
        with self.lock:
            self.events.append("close")
        self._write()


def make(options: dict[str, Any]) -> Probe:
    return Probe(options)
