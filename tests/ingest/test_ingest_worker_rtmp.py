"""CameraWorker against a real RTMP server (nginx-rtmp) fed by a real publisher.

The RTMP failure that matters is the publisher going away while the server stays up: the
server ends the play session, and Vigil must mark the camera down and pick the stream up
again when the encoder comes back, without touching any other camera.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.messages import CameraHealth, CameraState
from ingest.worker import CameraWorker
from tests.ingest.ingest_helpers import StatusLog, camera, state_is
from tests.ingest.ingest_rtmp import RtmpServer, rtmp_missing
from tests.services import require

pytestmark = pytest.mark.rtmp

S = CameraState
STALL = 2.0


@pytest.fixture
def rtmp(tmp_path: Path) -> Iterator[RtmpServer]:
    require(rtmp_missing())  # skip without nginx-rtmp; fail under CI
    server = RtmpServer(tmp_path).start()
    yield server
    server.kill()


def test_rtmp_stream_connects_and_frames_arrive(rtmp: RtmpServer) -> None:
    rtmp.publish("352x288")
    statuses = StatusLog()
    worker = CameraWorker(camera("r", rtmp.url), statuses)
    worker.start()
    try:
        statuses.wait(state_is("r", S.STREAMING), timeout=10.0)
        first = worker.slot.take(2.0)
        assert first is not None and first.image.shape == (288, 352, 3)
        time.sleep(3.0)
        status = worker.status()
        assert status.state is S.STREAMING and status.health is CameraHealth.OK
        assert status.fps == pytest.approx(25.0, abs=3.0)
    finally:
        worker.stop()


def test_publisher_loss_marks_the_camera_down_then_it_recovers(rtmp: RtmpServer) -> None:
    rtmp.publish()
    statuses = StatusLog()
    worker = CameraWorker(camera("r", rtmp.url, stall_after=STALL), statuses)
    worker.start()
    try:
        statuses.wait(state_is("r", S.STREAMING), timeout=10.0)
        t_loss = time.monotonic()
        rtmp.stop_publishing()
        at, _ = statuses.wait(state_is("r", S.STALLED, S.BACKOFF), timeout=STALL + 3.0,
                              after=t_loss)
        assert at - t_loss <= STALL + 3.0
        assert worker.slot.take(0.5) is None or worker.state is not S.STREAMING
        t_back = time.monotonic()
        rtmp.publish()
        at, _ = statuses.wait(state_is("r", S.STREAMING), timeout=15.0, after=t_back)
        assert worker.slot.take(2.0) is not None
        assert worker.reconnects >= 1
    finally:
        worker.stop()
