"""The latest-frame slot between a camera's decode thread and whoever analyses its frames.

Policy when full: newest wins (docs/architecture.md rule 4). Analytics that fall behind must see
the present, not a growing backlog of the past, and the decoder must never block on a slow
consumer (a blocked demuxer makes the camera's own buffers overflow and smear the picture).
Every frame overwritten before anyone took it is counted in ``drops``.
"""

from __future__ import annotations

import threading

from core.messages import Frame


class FrameSlot:
    """Holds at most one frame. ``put`` never blocks; ``take`` waits up to ``timeout``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.puts = 0
        self.takes = 0
        self.drops = 0

    def put(self, frame: Frame) -> None:
        """Store ``frame``, replacing (and counting) an untaken one."""
        with self._cond:
            if self._frame is not None:
                self.drops += 1
            self._frame = frame
            self.puts += 1
            self._cond.notify_all()

    def take(self, timeout: float | None = None) -> Frame | None:
        """The newest untaken frame, waiting up to ``timeout`` s; None on timeout or close."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout)
            frame, self._frame = self._frame, None
            if frame is not None:
                self.takes += 1
            return frame

    def peek(self) -> Frame | None:
        """The untaken frame, if any, without taking it (for snapshots)."""
        with self._cond:
            return self._frame

    def close(self) -> None:
        """Wake every waiting ``take`` (they return what is left, or None)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed
