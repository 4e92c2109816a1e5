"""Load shedding: a camera whose analysis cannot keep up is slowed down visibly and counted.

The decisions are checked on a simulated timeline (a ``FakeClock``, no sleeping); then a
real camera worker on a real file, with a deliberately slow stand-in analyser beside the
real one (it calls the same meter as ``vigil.analysis`` does), shows the shed frames and
the lowered target in its statuses; and the counters survive a restart of the camera.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.messages import CameraState, CameraStatus
from ingest.decode import StreamLag
from ingest.shedding import (
    FLOOR,
    HIGH,
    KEYFRAME_RECOVER,
    KEYFRAME_RECOVER_MAX,
    LAG_LIMIT,
    LOW,
    RECOVER,
    AnalysisMeter,
    Shedder,
)
from ingest.worker import CameraWorker
from ingest.workerset import WorkerSet
from tests.ingest.ingest_helpers import StatusLog, camera


def simulate(meter: AnalysisMeter, clock: FakeClock, fps: float, cost: float,
             seconds: float) -> None:
    """Frames arrive at ``fps``; one analyser thread takes ``cost`` s per frame and takes a
    frame only when idle (the latest-frame slot). Events happen in time order."""
    step, busy_until, end = 1.0 / fps, None, clock.monotonic() + seconds
    next_frame = clock.monotonic()
    while next_frame < end:
        if busy_until is not None and busy_until <= next_frame:
            clock.advance(busy_until - clock.monotonic())
            meter.end({"detect": cost * 0.75, "plate": cost * 0.25, "scene": 0.0})
            busy_until = None
        clock.advance(max(0.0, next_frame - clock.monotonic()))
        if meter.admit(clock.now()) and busy_until is None:
            meter.begin(clock.now())
            busy_until = next_frame + cost
        next_frame += step


def test_shedder_halves_to_the_floor_and_recovers_after_calm_windows() -> None:
    shedder = Shedder(ceiling=8.0)
    assert shedder.window(busy=HIGH, rate=8.0) == 4.0
    assert shedder.window(busy=1.0, rate=4.0) == FLOOR
    assert shedder.steps == 2
    assert shedder.window(busy=1.0, rate=FLOOR) == FLOOR  # never below the floor ...
    assert shedder.keyframes and shedder.steps == 3  # ... but keyframes only
    for _ in range(KEYFRAME_RECOVER):
        shedder.window(busy=LOW / 2, rate=0.5)
    assert not shedder.keyframes and shedder.target == FLOOR
    for _ in range(RECOVER - 1):
        assert shedder.window(busy=LOW / 2, rate=FLOOR) == FLOOR
    assert shedder.window(busy=LOW / 2, rate=FLOOR) == 4.0
    assert shedder.window(busy=LOW, rate=4.0) == 4.0  # not calm: the count starts again
    for _ in range(2 * RECOVER):
        shedder.window(busy=0.1, rate=4.0)
    assert shedder.target is None  # back at max_fps


def test_without_max_fps_shedding_starts_from_the_offered_rate_and_returns_to_no_limit(
) -> None:
    shedder = Shedder(ceiling=None)
    assert shedder.window(busy=0.95, rate=25.0) == 12.5
    for _ in range(RECOVER):
        shedder.window(busy=0.1, rate=12.5)
    assert shedder.target is None


def test_video_left_unread_in_the_socket_sheds_even_when_analysis_looks_idle() -> None:
    shedder = Shedder(ceiling=6.0)
    assert shedder.window(busy=0.2, rate=6.0, lag=LAG_LIMIT / 4) is None
    assert shedder.window(busy=0.2, rate=6.0, lag=LAG_LIMIT) == 3.0
    for _ in range(2 * RECOVER):  # no recovery while the backlog is still there
        assert shedder.window(busy=0.1, rate=3.0, lag=LAG_LIMIT / 2) == 3.0
    for _ in range(RECOVER):
        shedder.window(busy=0.1, rate=3.0, lag=0.05)
    assert shedder.target is None


def test_stream_lag_is_how_much_later_than_its_best_a_packet_is_read() -> None:
    lag = StreamLag()
    assert [lag.packet(m, 100.0 + m) for m in (0.0, 0.04, 0.08)] == [0.0, 0.0, 0.0]
    assert lag.packet(0.12, 100.62) == 0.5  # read half a second late: 0.5 s waiting unread
    assert lag.packet(None, 105.0) == 0.5  # a packet without a time changes nothing
    assert lag.packet(0.16, 100.16) == 0.0  # caught up
    assert lag.packet(0.0, 200.0) == 0.0  # the stream started over: a new baseline


def test_slow_analysis_is_shed_and_counted_then_recovers() -> None:
    clock = FakeClock()
    meter = AnalysisMeter(6.0, clock)
    simulate(meter, clock, fps=6.0, cost=0.3, seconds=12.0)
    assert meter.target_fps == FLOOR and meter.shedder.steps == 2  # 6 -> 3 -> 2
    assert meter.shed > 0
    shed, analysed = meter.shed, meter.analysed
    simulate(meter, clock, fps=6.0, cost=0.02, seconds=30.0)
    assert meter.target_fps == 6.0 and meter.shedder.target is None
    assert meter.shed >= shed and meter.analysed > analysed
    stages = {name: (seconds, calls) for name, seconds, calls in meter.stages()}
    assert set(stages) == {"detect", "plate"}  # a stage that took no time did not run
    assert stages["detect"][1] == meter.analysed
    assert abs(stages["detect"][0] - 3 * stages["plate"][0]) < 1e-6


def test_a_fast_analysis_is_never_shed() -> None:
    clock = FakeClock()
    meter = AnalysisMeter(6.0, clock)
    simulate(meter, clock, fps=6.0, cost=0.05, seconds=20.0)
    assert meter.shed == 0 and meter.shedder.steps == 0 and meter.target_fps == 6.0
    assert meter.analysed == 119  # every frame; the 120th is still being analysed


def test_backlog_is_the_age_of_the_frame_being_analysed() -> None:
    clock = FakeClock()
    meter = AnalysisMeter(None, clock)
    captured = clock.now()
    clock.advance(0.4)
    meter.begin(captured)
    clock.advance(0.5)
    assert abs(meter.backlog() - 0.9) < 1e-6
    meter.end({})
    clock.advance(3.0)
    assert abs(meter.backlog() - 0.9) < 1e-6  # the last analysed frame's delay


class SlowAnalyser:
    """A stand-in frame consumer that spends ``cost`` s on every frame, reporting to the
    camera's meter exactly as vigil.analysis does (begin, analyse, end)."""

    def __init__(self, cost: float) -> None:
        self.cost = cost
        self._stops: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []

    def camera_started(self, worker: CameraWorker) -> None:
        stop = self._stops[worker.camera.id] = threading.Event()
        thread = threading.Thread(target=self._run, args=(worker, stop), daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, worker: CameraWorker, stop: threading.Event) -> None:
        while not stop.is_set():
            frame = worker.slot.take(timeout=0.2)
            if frame is None:
                continue
            worker.meter.begin(frame.captured_at)
            time.sleep(self.cost)
            worker.meter.end({"detect": self.cost})

    def camera_stopped(self, camera_id: str) -> None:
        self._stops[camera_id].set()

    def close(self) -> None:
        for stop in self._stops.values():
            stop.set()
        for thread in self._threads:
            thread.join(2.0)


def shedding(status: CameraStatus) -> bool:
    return (status.state is CameraState.STREAMING and status.shed > 0
            and status.target_fps is not None and status.target_fps < 10.0)


@pytest.mark.slow  # a real camera worker on video
def test_a_worker_with_slow_analysis_sheds_frames_visibly(moving_mp4: Path) -> None:
    statuses = StatusLog()
    analyser = SlowAnalyser(cost=0.25)  # 10 fps offered, 4 fps possible
    cams = WorkerSet(statuses, consumer=analyser)
    cams.apply([camera("slow", str(moving_mp4), max_fps=10.0)])
    try:
        _, status = statuses.wait(shedding, timeout=20.0)
    finally:
        cams.stop()
    assert status.shed_steps >= 1 and status.analysed > 0
    assert status.skipped > 0  # 25 fps file, max_fps 10
    assert status.stages and status.stages[0][0] == "detect"
    # read one after the other from a running camera: one more frame may have ended between
    assert status.analysed <= status.stages[0][2] <= status.analysed + 1


@pytest.mark.slow  # a real camera worker on video, restarted
def test_counters_carry_on_across_a_restart_of_the_camera(moving_mp4: Path) -> None:
    statuses = StatusLog()
    cams = WorkerSet(statuses, consumer=SlowAnalyser(cost=0.01))
    cams.apply([camera("cam", str(moving_mp4), max_fps=5.0)])
    try:
        _, before = statuses.wait(lambda s: s.skipped > 10 and s.analysed > 5, timeout=15.0)
        restarted = time.monotonic()
        cams.apply([camera("cam", str(moving_mp4), max_fps=5.0, frozen_after=30.0)])
        _, after = statuses.wait(lambda s: s.state is CameraState.STREAMING
                                 and s.since > before.since, timeout=15.0, after=restarted)
    finally:
        cams.stop()
    assert after.skipped >= before.skipped and after.analysed >= before.analysed
    totals = [(s.skipped, s.analysed, s.shed, s.drops) for s in statuses.of("cam")]
    assert all(a <= b for x, y in itertools.pairwise(totals)
               for a, b in zip(x, y, strict=True))  # every counter only ever grows


def test_one_more_overloaded_window_at_the_floor_means_keyframes_only() -> None:
    shedder = Shedder(ceiling=4.0)
    assert shedder.window(busy=1.0, rate=4.0) == FLOOR
    assert not shedder.keyframes
    assert shedder.window(busy=1.0, rate=FLOOR) == FLOOR
    assert shedder.keyframes and shedder.steps == 2
    assert shedder.window(busy=1.0, rate=0.5) == FLOOR and shedder.steps == 2  # no deeper


def calm_windows_until_every_frame(shedder: Shedder, limit: int = 200) -> int:
    for n in range(1, limit + 1):
        shedder.window(busy=0.05, rate=0.5)
        if not shedder.keyframes:
            return n
    raise AssertionError("never left keyframes-only")


def test_keyframes_only_ends_after_calm_windows_and_waits_longer_each_time_back() -> None:
    shedder = Shedder(ceiling=4.0)
    for _ in range(2):
        shedder.window(busy=1.0, rate=4.0)
    assert shedder.keyframes
    assert calm_windows_until_every_frame(shedder) == KEYFRAME_RECOVER
    assert shedder.target == FLOOR  # every frame decoded again, still at the floor rate
    shedder.window(busy=1.0, rate=FLOOR)  # overloaded again: back to keyframes
    assert calm_windows_until_every_frame(shedder) == 2 * KEYFRAME_RECOVER
    for _ in range(3):
        shedder.window(busy=1.0, rate=FLOOR)
        calm_windows_until_every_frame(shedder)
    shedder.window(busy=1.0, rate=FLOOR)
    assert calm_windows_until_every_frame(shedder) == KEYFRAME_RECOVER_MAX
    for _ in range(4 * RECOVER):  # calm at the floor: the rate climbs back to max_fps
        shedder.window(busy=0.05, rate=FLOOR)
    assert shedder.target is None
    for _ in range(2):
        shedder.window(busy=1.0, rate=4.0)
    assert calm_windows_until_every_frame(shedder) == KEYFRAME_RECOVER  # the wait starts over


def test_the_meter_reports_keyframes_only_to_the_source() -> None:
    clock = FakeClock()
    meter = AnalysisMeter(ceiling=4.0, clock=clock)
    simulate(meter, clock, fps=4.0, cost=1.0, seconds=30.0)  # hopeless: 1 s per frame
    assert meter.keyframes_only and meter.target_fps == FLOOR
