"""The camera lifecycle as an explicit state machine with one ``transition()`` (rule 8).

    stopped    → connecting (start) | disabled (camera.enabled is false)
    connecting → streaming (first frame) | backoff (open failed, no picture in time)
    streaming  → stalled (no frame for stall_after s) | backoff (stream ended or failed)
    stalled    → backoff (the stuck connection is abandoned)
    backoff    → connecting (the backoff delay has passed)
    disabled   → stopped;  any state but stopped → stopped (stop(), or a file's end)

``transition()`` refuses any other move with :class:`core.errors.TransitionError`
("expected <allowed targets>, got <requested>"), logs every accepted move and hands it to the
``on_change`` callback (the worker turns it into a published ``CameraStatus``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.clock import Clock
from core.errors import TransitionError
from core.messages import CameraState

log = logging.getLogger(__name__)

S = CameraState
ALLOWED: dict[CameraState, tuple[CameraState, ...]] = {
    S.STOPPED: (S.CONNECTING, S.DISABLED),
    S.DISABLED: (S.STOPPED,),
    S.CONNECTING: (S.STREAMING, S.BACKOFF, S.STOPPED),
    S.STREAMING: (S.STALLED, S.BACKOFF, S.STOPPED),
    S.STALLED: (S.BACKOFF, S.STOPPED),
    S.BACKOFF: (S.CONNECTING, S.STOPPED),
}
"""Legal moves, by current state. Every state can be stopped except 'stopped' itself."""

OnChange = Callable[[CameraState, CameraState, str], None]


class CameraLifecycle:
    """State, the wall time it was entered, and the reason; thread-safe."""

    def __init__(self, camera_id: str, clock: Clock, on_change: OnChange | None = None) -> None:
        self.camera_id = camera_id
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.RLock()
        self.state = CameraState.STOPPED
        self.since = clock.now()
        self.detail = ""
        self._retries = 0

    def transition(self, new: CameraState, detail: str = "") -> None:
        """Move to ``new`` or raise ``TransitionError``; logs and notifies on success."""
        with self._lock:
            old = self.state
            allowed = ALLOWED[old]
            if new not in allowed:
                raise TransitionError(f"camera {self.camera_id} in state {old.value}",
                                      " or ".join(s.value for s in allowed), new.value)
            self.state, self.since, self.detail = new, self._clock.now(), detail
            log.log(self._level(old, new), "camera %s: %s -> %s%s", self.camera_id, old.value,
                    new.value, f" ({detail})" if detail else "")
            if self._on_change is not None:
                self._on_change(old, new, detail)

    def _level(self, old: CameraState, new: CameraState) -> int:
        """A camera that stays down cycles connecting <-> backoff for hours: log the first
        cycle and then every 100th move at INFO, the rest at DEBUG, so the log stays
        readable while the state is still published on every change."""
        retry = {CameraState.CONNECTING, CameraState.BACKOFF}
        if old not in retry or new not in retry:
            self._retries = 0
            return logging.INFO
        self._retries += 1
        return logging.INFO if self._retries <= 2 or self._retries % 100 == 0 else logging.DEBUG

    def can(self, new: CameraState) -> bool:
        with self._lock:
            return new in ALLOWED[self.state]
