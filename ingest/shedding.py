"""What a camera's analysis costs, and load shedding when a worker cannot keep up.

The latest-frame slot (:mod:`ingest.slot`) already keeps a slow consumer from building a
queue of frames: the decoder overwrites the untaken frame and goes on draining the socket.
That alone sheds *silently*: the camera's analysed rate just sinks to whatever the CPU
leaves, every camera of the process fights for it, and the frames lost are only visible as
slot overwrites. :class:`AnalysisMeter` makes the degradation deliberate and visible:

* the analysis thread reports each frame it analyses (:meth:`AnalysisMeter.begin` /
  :meth:`AnalysisMeter.end`): analysed frames, per-stage time and calls, the delay from
  capture to analysis (backlog);
* every :data:`WINDOW` seconds of analysis a :class:`Shedder` looks at the share of wall
  time the analysis thread was busy. Busy ``>= HIGH`` (it cannot finish one frame before
  the next is due: wall time, so CPU contention from the other cameras counts), or a live
  stream left :data:`LAG_LIMIT` seconds unread in its socket (the decode thread starved),
  halves the camera's target rate, down to :data:`FLOOR` fps; busy ``< LOW`` and little
  lag for :data:`RECOVER` windows in a row doubles it again, until the camera's own
  ``max_fps`` (or no limit);
* the decode thread asks :meth:`AnalysisMeter.admit` before it offers a frame to the slot;
  a frame refused there is counted as ``shed``. Refusing (rather than letting the slot
  overwrite) spaces the analysed frames evenly and tells the operator what happened.

At the floor, one more overloaded window switches the camera to **keyframes only**: the
live source stops decoding P-frames (:attr:`ingest.source.SourceStats.keyframes_only`), so
the camera costs a keyframe every GOP (0.0018 of a core for a 2 s GOP of D1 against 0.027
for every frame: ``bench/decode_cost.py``) and its analysis sees one picture per GOP. It
decodes every frame again after :data:`KEYFRAME_RECOVER` calm windows, a wait that doubles
each time the camera has to go back (up to :data:`KEYFRAME_RECOVER_MAX`) and starts over
once the camera is back at its full rate: a node that stays overloaded does not flap.

Counters only grow for the life of the meter; the worker set keeps one meter per camera
across the camera's restarts (like its slot), so the exported counters stay monotonic.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from core.clock import Clock, SystemClock
from ingest.decode import RateLimit

WINDOW = 2.0
"""Seconds of analysis-thread time per shedding decision."""
HIGH = 0.9
"""Busy share at or above which the camera's rate is halved."""
LOW = 0.45
"""Busy share below which (for RECOVER windows in a row) the rate is doubled again.
Below half of HIGH, so doubling the rate cannot by itself trip HIGH (no flapping)."""
RECOVER = 3
FLOOR = 2.0
"""Lowest rate shedding goes to (fps): below it a passing car is seen in one frame or none."""
KEYFRAME_RECOVER = 5
"""Calm windows before a camera decoding keyframes only decodes every frame again."""
KEYFRAME_RECOVER_MAX = 40
"""The longest that wait grows to (windows) for a camera that keeps going back."""
LAG_LIMIT = 1.0
"""Seconds of live stream waiting unread in the socket (``SourceStats.lag``) that count as
overload whatever the analysis's own busy share: the decode thread is starved of CPU (or of
the GIL) by the analysis threads of its process, and only analysing less frees it."""
FPS_WINDOW = 5.0
"""Seconds over which ``analysed_fps`` is measured."""


@dataclass(frozen=True, slots=True)
class StageTotal:
    """Cumulative time and calls of one pipeline stage (calls: frames the stage ran in)."""

    seconds: float = 0.0
    calls: int = 0


class Shedder:
    """The rate decision alone (no clock, no threads): fed one window at a time."""

    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        """The camera's own ``max_fps`` (None: every decoded frame may be analysed)."""
        self.target: float | None = None
        """The rate now allowed below the ceiling; None while not shedding."""
        self.steps = 0
        """Times the rate was lowered (a counter)."""
        self._calm = 0
        self._base = ceiling or 0.0
        """The rate shedding returns to: ``max_fps``, else the rate offered when it began."""
        self.keyframes = False
        """True while the camera decodes keyframes only (the step below :data:`FLOOR`)."""
        self._key_wait = KEYFRAME_RECOVER

    def window(self, busy: float, rate: float, lag: float = 0.0) -> float | None:
        """One window: ``busy`` share of wall time analysing, ``rate`` frames/s offered to
        analysis in it, ``lag`` the most seconds of stream left unread in it. Returns the
        (possibly new) target."""
        if busy >= HIGH or lag >= LAG_LIMIT:
            self._calm = 0
            if self.target is None:
                self._base = self.ceiling or rate
            current = self.target if self.target is not None else self._base
            if rate > 0:
                current = min(current, rate)
            if current > FLOOR:
                self.target = max(FLOOR, round(current) / 2)  # whole or half fps
                self.steps += 1
            elif not self.keyframes:
                self.target, self.keyframes = FLOOR, True
                self.steps += 1
            return self.target
        if busy >= LOW or lag >= LAG_LIMIT / 2 or self.target is None:
            self._calm = 0
            return self.target
        self._calm += 1
        if self.keyframes:
            if self._calm >= self._key_wait:
                self._calm, self.keyframes = 0, False
                self._key_wait = min(KEYFRAME_RECOVER_MAX, self._key_wait * 2)
        elif self._calm >= RECOVER:
            self._calm = 0
            doubled = self.target * 2
            self.target = None if doubled >= self._base else doubled
            if self.target is None:
                self._key_wait = KEYFRAME_RECOVER
        return self.target


class AnalysisMeter:
    """One camera's analysis counters and its shedding gate; thread-safe.

    Written by the analysis thread (``begin``/``end``), read by the worker's control thread
    (``snapshot`` for statuses) and consulted by the decode thread (``admit``).
    """

    def __init__(self, ceiling: float | None = None, clock: Clock | None = None) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self.shedder = Shedder(ceiling)
        self._gate: RateLimit | None = None
        self.analysed = 0
        self.shed = 0
        self.skipped_before = 0
        """``max_fps`` skips of earlier workers of this camera (their sources are gone)."""
        self.keyframe_skips_before = 0
        """Keyframes-only skips of earlier workers of this camera, likewise."""
        self.publish_pending = 0
        """Messages waiting in the bus publisher of this camera's process (set by the
        analysis host)."""
        self._stages: dict[str, StageTotal] = {}
        self._ends: deque[float] = deque()
        self._current: tuple[float, float] | None = None
        self._last_delay = 0.0
        self._window_start: float | None = None
        self._busy = 0.0
        self._offered = 0
        self._lag = 0.0

    def configure(self, ceiling: float | None) -> None:
        """The camera restarts with ``max_fps`` = ``ceiling``: shedding starts over, the
        counters carry on."""
        with self._lock:
            steps, self.shedder = self.shedder.steps, Shedder(ceiling)
            self.shedder.steps = steps
            self._gate = None
            self._window_start, self._busy, self._offered, self._lag = None, 0.0, 0, 0.0

    # -- decode thread ------------------------------------------------------------------

    def admit(self, captured_at: float, lag: float = 0.0) -> bool:
        """Whether the frame captured at ``captured_at`` goes to analysis (else: shed);
        ``lag``: the source's unread seconds when it was read."""
        self._lag = max(self._lag, lag)
        gate = self._gate
        if gate is None or gate.allow(captured_at):
            with self._lock:
                self._offered += 1
            return True
        with self._lock:
            self.shed += 1
        return False

    # -- analysis thread ----------------------------------------------------------------

    def begin(self, captured_at: float) -> None:
        """The analysis of the frame captured at ``captured_at`` starts now."""
        with self._lock:
            mono = self._clock.monotonic()
            self._current = (mono, captured_at)
            if self._window_start is None:
                self._window_start = mono

    def end(self, stage_seconds: Mapping[str, float]) -> None:
        """That analysis is done; ``stage_seconds``: time per stage spent on this frame."""
        mono, wall = self._clock.monotonic(), self._clock.now()
        with self._lock:
            if self._current is None:
                return
            started, captured_at = self._current
            self._current = None
            self.analysed += 1
            self._ends.append(mono)
            self._last_delay = max(0.0, wall - captured_at)
            self._busy += mono - started
            for stage, seconds in stage_seconds.items():
                if seconds > 0:
                    old = self._stages.get(stage, StageTotal())
                    self._stages[stage] = StageTotal(old.seconds + seconds, old.calls + 1)
            self._decide(mono)

    def _decide(self, mono: float) -> None:
        """At the end of a window: let the shedder set the rate, and start the next one."""
        start = self._window_start
        if start is None or mono - start < WINDOW:
            return
        span = mono - start
        before = self.shedder.target
        target = self.shedder.window(self._busy / span, self._offered / span, self._lag)
        if target != before:
            self._gate = None if target is None else RateLimit(target)
        self._window_start, self._busy, self._offered, self._lag = mono, 0.0, 0, 0.0

    # -- control thread -----------------------------------------------------------------

    @property
    def keyframes_only(self) -> bool:
        """Whether the camera's source should decode keyframes only (shedding's last step)."""
        return self.shedder.keyframes

    @property
    def target_fps(self) -> float | None:
        """The rate this camera may be analysed at now: the shed rate, else ``max_fps``."""
        target = self.shedder.target
        return target if target is not None else self.shedder.ceiling

    def analysed_fps(self) -> float:
        """Frames analysed per second over the last FPS_WINDOW seconds."""
        now = self._clock.monotonic()
        with self._lock:
            while self._ends and now - self._ends[0] > FPS_WINDOW:
                self._ends.popleft()
            if len(self._ends) < 2:
                return 0.0
            span = max(self._ends[-1] - self._ends[0], now - self._ends[0])
            return (len(self._ends) - 1) / span if span > 0 else 0.0

    def backlog(self) -> float:
        """Seconds from capture to analysis: the age of the frame being analysed now, or
        of the last one analysed when the thread is between frames."""
        with self._lock:
            if self._current is not None:
                return max(self._last_delay, self._clock.now() - self._current[1])
            return self._last_delay

    def stages(self) -> tuple[tuple[str, float, int], ...]:
        """``(stage, seconds, calls)`` totals, by stage name."""
        with self._lock:
            return tuple((name, round(t.seconds, 6), t.calls)
                         for name, t in sorted(self._stages.items()))
