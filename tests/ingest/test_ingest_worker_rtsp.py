"""CameraWorker against a real RTSP server: connect, kill, restart, down at start, silence.

Items (a)-(d) of the issue, plus a clip cut from a live stream's ring. No fixed sleeps: each
step waits for the status, counter or ring span it needs, with a timeout.
"""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest

from core.messages import CameraHealth, CameraState
from ingest.worker import CameraWorker
from tests.ingest.ingest_helpers import StatusLog, camera, state_is, wait_until
from tests.ingest.ingest_media import flip_bytes
from tests.ingest.ingest_rtsp import RtspServer, StartServer, UdpPusher, free_udp_port

pytestmark = pytest.mark.rtsp

S = CameraState
STALL = 2.0


def started(worker: CameraWorker) -> CameraWorker:
    worker.start()
    return worker


def recovers(worker: CameraWorker, within: float) -> bool:
    """True once the worker streams and hands out fresh frames again."""
    deadline = time.monotonic() + within
    worker.slot.take(0)
    while time.monotonic() < deadline:
        if worker.slot.take(0.5) is not None and worker.state is S.STREAMING:
            return True
    return False


def test_stream_connects_frames_arrive_fps_measured(rtsp: StartServer, moving_mp4: Path,
                                                   tmp_path: Path) -> None:
    server: RtspServer = rtsp("--file", str(moving_mp4))
    statuses = StatusLog()
    worker = started(CameraWorker(camera("a", server.url, ring_seconds=10.0), statuses))
    try:
        statuses.wait(state_is("a", S.STREAMING), timeout=5.0)
        first = worker.slot.take(2.0)
        assert first is not None and first.image.shape == (240, 320, 3)
        taken, deadline = 0, time.monotonic() + 3.0
        while time.monotonic() < deadline:
            taken += worker.slot.take(0.5) is not None
        status = worker.status()
        assert status.state is S.STREAMING
        assert status.fps == pytest.approx(25.0, abs=2.5)
        assert taken >= 65
        assert status.decode_ms > 0 and status.health is CameraHealth.OK
        assert status.last_frame_at is not None
        clip = tmp_path / "live.mp4"
        end = status.last_frame_at
        written = worker.ring.write_clip(clip, end - 2.0, end) if worker.ring else 0
        with av.open(str(clip)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == written and 50 <= frames <= 80
    finally:
        worker.stop()
    assert worker.state is S.STOPPED


def test_killed_server_stalls_then_recovers_other_camera_untouched(
        rtsp: StartServer, moving_mp4: Path) -> None:
    victim: RtspServer = rtsp("--file", str(moving_mp4))
    bystander: RtspServer = rtsp("--file", str(moving_mp4))
    statuses = StatusLog()
    a = started(CameraWorker(camera("a", victim.url, stall_after=STALL), statuses))
    b = started(CameraWorker(camera("b", bystander.url, stall_after=STALL), statuses))
    try:
        statuses.wait(state_is("a", S.STREAMING), timeout=5.0)
        statuses.wait(state_is("b", S.STREAMING), timeout=5.0)
        wait_until(lambda: a.slot.puts >= 5 and b.slot.puts >= 5, 5.0, "frames from both")
        b_before, t_kill = b.slot.puts, time.monotonic()
        victim.kill()
        at, _ = statuses.wait(state_is("a", S.STALLED, S.BACKOFF), timeout=STALL + 1.0,
                              after=t_kill)
        assert at - t_kill <= STALL + 1.0
        # a reconnect attempt fails while the server is down, before it comes back
        at, _ = statuses.wait(state_is("a", S.CONNECTING), timeout=5.0, after=at)
        statuses.wait(state_is("a", S.BACKOFF), timeout=5.0, after=at)
        t_restart = time.monotonic()
        victim.restart()
        at, _ = statuses.wait(state_is("a", S.STREAMING), timeout=5.0, after=t_restart)
        assert at - t_restart <= 5.0
        elapsed = time.monotonic() - t_kill
        assert b.slot.puts - b_before >= 25 * elapsed * 0.8
        assert statuses.states("b") == [S.CONNECTING, S.STREAMING]
        assert a.reconnects >= 1
    finally:
        a.stop()
        b.stop()


def test_camera_down_at_start_connects_when_it_comes_up(rtsp: StartServer, moving_mp4: Path
                                                        ) -> None:
    server: RtspServer = rtsp("--file", str(moving_mp4), start=False)
    statuses = StatusLog()
    worker = started(CameraWorker(camera("late", server.url), statuses))
    try:
        wait_until(lambda: len(statuses.states("late")) >= 3, 5.0, "a second connection attempt")
        states = statuses.states("late")
        assert states[:3] == [S.CONNECTING, S.BACKOFF, S.CONNECTING]
        assert S.STREAMING not in states
        t_up = time.monotonic()
        server.start()
        at, _ = statuses.wait(state_is("late", S.STREAMING), timeout=5.0, after=t_up)
        assert at - t_up <= 5.0
        assert worker.slot.take(2.0) is not None
    finally:
        worker.stop()


def test_silent_server_is_stalled_by_the_watchdog(rtsp: StartServer, moving_mp4: Path
                                                  ) -> None:
    server: RtspServer = rtsp("--file", str(moving_mp4))
    statuses = StatusLog()
    worker = started(CameraWorker(camera("quiet", server.url, stall_after=STALL), statuses))
    try:
        statuses.wait(state_is("quiet", S.STREAMING), timeout=5.0)
        assert worker.slot.take(2.0) is not None
        t_stop = time.monotonic()
        server.pause()
        at, status = statuses.wait(state_is("quiet", S.STALLED), timeout=STALL + 1.0,
                                   after=t_stop)
        assert at - t_stop <= STALL + 1.0
        assert "no frame for" in status.detail
        statuses.wait(state_is("quiet", S.BACKOFF), timeout=1.0, after=t_stop)
        t_cont = time.monotonic()
        server.resume()
        statuses.wait(state_is("quiet", S.STREAMING), timeout=8.0, after=t_cont)
        server.pause()
        # stop while the decode thread is blocked reading the silent server
        wait_until(lambda: worker.slot.take(0.2) is None, 5.0, "the paused stream going quiet")
        t_join = time.monotonic()
        worker.stop()
        assert time.monotonic() - t_join < 2.0
    finally:
        server.resume()
        worker.stop()


def test_corrupt_stream_degrades_one_camera_only(rtsp: StartServer, moving_mp4: Path,
                                                 tmp_path: Path) -> None:
    damaged = flip_bytes(moving_mp4, tmp_path / "flipped.mp4", 400)
    bad: RtspServer = rtsp("--file", str(damaged))
    good: RtspServer = rtsp("--file", str(moving_mp4))
    statuses = StatusLog()
    a = started(CameraWorker(camera("bad", bad.url), statuses))
    b = started(CameraWorker(camera("good", good.url), statuses))
    try:
        statuses.wait(state_is("good", S.STREAMING), timeout=5.0)
        statuses.wait(lambda s: s.camera_id == "bad" and (
            s.health is CameraHealth.DEGRADED or s.state is S.BACKOFF), timeout=8.0)
        good_from = b.slot.puts
        wait_until(lambda: a.stats.decode_errors > 0 and b.slot.puts >= good_from + 25, 5.0,
                   "decode errors on the bad camera while the good one streams on")
        assert a.state in (S.STREAMING, S.CONNECTING, S.BACKOFF)
        assert b.status().health is CameraHealth.OK
        assert b.stats.decode_errors == 0
        assert statuses.states("good") == [S.CONNECTING, S.STREAMING]
    finally:
        a.stop()
        b.stop()


def test_damaged_live_link_degrades_then_recovers(rtsp: StartServer, moving_mp4: Path) -> None:
    port = free_udp_port()
    link: RtspServer = rtsp("--udp", str(port))
    good: RtspServer = rtsp("--file", str(moving_mp4))
    pusher = UdpPusher(port, seconds=8.0, damage=(2.5, 4.0))
    pusher.start()
    statuses = StatusLog()
    a = started(CameraWorker(camera("link", link.url), statuses))
    b = started(CameraWorker(camera("good", good.url), statuses))
    try:
        statuses.wait(state_is("link", S.STREAMING), timeout=5.0)
        statuses.wait(lambda s: s.camera_id == "link" and (
            s.health is CameraHealth.DEGRADED or s.state in (S.STALLED, S.BACKOFF)), timeout=5.0)
        assert pusher.damaged > 0
        assert pusher.healed.wait(10.0), "the pusher never sent intact data after the damage"
        assert recovers(a, within=5.0)
        assert a.stats.decode_errors > 0
        assert statuses.states("good") == [S.CONNECTING, S.STREAMING]
        assert b.stats.decode_errors == 0
    finally:
        a.stop()
        b.stop()
        pusher.stop()


def test_evidence_stream_feeds_the_ring_without_decoding(rtsp: StartServer, moving_mp4: Path,
                                                         tmp_path: Path) -> None:
    sub: RtspServer = rtsp("--file", str(moving_mp4))
    main: RtspServer = rtsp("--testsrc", "352x288")
    statuses = StatusLog()
    cam = camera("ev", sub.url, ring_seconds=5.0).model_copy(update={"evidence_url": main.url})
    worker = started(CameraWorker(cam, statuses))
    try:
        statuses.wait(state_is("ev", S.STREAMING), timeout=5.0)
        frame = worker.slot.take(2.0)
        assert frame is not None and frame.image.shape == (240, 320, 3)
        ring = worker.ring
        assert ring is not None
        wait_until(lambda: (s := ring.span()) is not None and s[1] - s[0] >= 2.0, 10.0,
                   "2 s of evidence packets in the ring")
        span = ring.span()
        assert span is not None
        clip = tmp_path / "evidence.mp4"
        written = ring.write_clip(clip, span[1] - 1.5, span[1])
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (352, 288)
            assert sum(1 for _ in container.decode(stream)) == written >= 30
    finally:
        worker.stop()
