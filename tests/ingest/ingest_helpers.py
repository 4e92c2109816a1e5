"""Helpers shared by the ingest tests: camera builder and a status recorder that can wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from core.config.models import Camera, IngestOptions
from core.messages import CameraState, CameraStatus

FAST = {"stall_after": 2.0, "backoff_base": 0.2, "backoff_cap": 1.0, "open_timeout": 3.0,
        "read_timeout": 5.0, "ring_seconds": 0.0}
"""Test timings: short stall and backoff; read_timeout above stall_after so a silent server
is caught by the watchdog, not by FFmpeg's own timeout."""


def camera(cid: str, url: str, **ingest: Any) -> Camera:
    return Camera(id=cid, name=cid, url=url, ingest=IngestOptions(**{**FAST, **ingest}))


class StatusLog:
    """Collects statuses from any thread; ``wait`` blocks until one matches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.items: list[tuple[float, CameraStatus]] = []

    def __call__(self, status: CameraStatus) -> None:
        with self._cond:
            self.items.append((time.monotonic(), status))
            self._cond.notify_all()

    def of(self, camera_id: str) -> list[CameraStatus]:
        with self._cond:
            return [s for _, s in self.items if s.camera_id == camera_id]

    def states(self, camera_id: str) -> list[CameraState]:
        """Distinct consecutive states (periodic repeats folded)."""
        out: list[CameraState] = []
        for status in self.of(camera_id):
            if not out or out[-1] is not status.state:
                out.append(status.state)
        return out

    def wait(self, match: Callable[[CameraStatus], bool], timeout: float,
             after: float = 0.0) -> tuple[float, CameraStatus]:
        """First (arrival time, status) matching, arrived after monotonic ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, status in self.items:
                    if at >= after and match(status):
                        return at, status
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(s.camera_id, s.state.value, s.health.value) for _, s in self.items]
                    raise AssertionError(f"no matching status within {timeout} s; "
                                         f"last seen: {seen[-12:]}")
                self._cond.wait(left)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               every: float = 0.02) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds.

    For facts no callback announces (frame counters, the ring's span, a stream going
    quiet). A fixed sleep either wastes time or, on a loaded machine, is too short; waiting
    for the condition is as fast as the system and fails only when it really does not come.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(every)


def state_is(camera_id: str, *states: CameraState) -> Callable[[CameraStatus], bool]:
    return lambda s: s.camera_id == camera_id and s.state in states
