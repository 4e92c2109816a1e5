"""CameraWorker on synthetic files: picture health (f), corrupt input (e), lifecycle details."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import tests.ingest.ingest_media as media
from core.messages import CameraHealth, CameraState, CameraStatus
from ingest.worker import CameraWorker
from ingest.workerset import WorkerSet
from tests.ingest.ingest_helpers import StatusLog, camera, state_is

pytestmark = pytest.mark.slow  # real video through camera workers (not in `make check`)

S = CameraState
H = CameraHealth


def health_is(camera_id: str, health: CameraHealth) -> Callable[[CameraStatus], bool]:
    return lambda s: s.camera_id == camera_id and s.health is health


def test_frozen_black_and_blank_pictures_are_reported(moving_mp4: Path, frozen_mp4: Path,
                                                      black_mp4: Path, blank_mp4: Path) -> None:
    statuses = StatusLog()
    cams = WorkerSet(statuses)
    opts = {"frozen_after": 1.0}
    cams.apply([camera("moving", str(moving_mp4), **opts),
                camera("frozen", str(frozen_mp4), **opts),
                camera("black", str(black_mp4), **opts),
                camera("blank", str(blank_mp4), **opts)])
    try:
        for cid, health in (("frozen", H.FROZEN), ("black", H.BLACK), ("blank", H.BLANK)):
            statuses.wait(health_is(cid, health), timeout=4.0)
        moving = cams.worker("moving")
        assert moving is not None and moving.status().health is H.OK
        assert all(s.health in (H.OK, H.UNKNOWN) for s in statuses.of("moving"))
    finally:
        cams.stop()


def test_corrupt_files_never_kill_a_worker_and_spare_the_others(moving_mp4: Path,
                                                                tmp_path: Path) -> None:
    raw = media.encode(tmp_path / "raw.h264", media.moving(2.0))
    bad = {
        "flipped": media.flip_bytes(moving_mp4, tmp_path / "flipped.mp4", 300),
        "heavy": media.flip_bytes(raw, tmp_path / "heavy.h264", 40_000, keep=100),
        "spliced": media.splice_garbage(raw, tmp_path / "spliced.h264", 200_000),
        "truncated": media.truncate(moving_mp4, tmp_path / "truncated.mp4", 0.5),
        "missing": tmp_path / "missing.mp4",
    }
    statuses = StatusLog()
    cams = WorkerSet(statuses)
    cams.apply([camera("good", str(moving_mp4))]
               + [camera(cid, str(path)) for cid, path in bad.items()])
    try:
        time.sleep(3.0)
        for cid in bad:
            seen = statuses.of(cid)
            assert any(s.health is H.DEGRADED or s.state is S.BACKOFF for s in seen), cid
            worker = cams.worker(cid)
            assert worker is not None and worker.state is not S.STOPPED, cid
        assert any("no such file" in s.detail for s in statuses.of("missing"))
        assert any("corrupt" in s.detail or "no decodable" in s.detail
                   for s in statuses.of("heavy"))
        good = cams.worker("good")
        assert good is not None
        assert statuses.states("good") == [S.CONNECTING, S.STREAMING]
        assert good.status().health is H.OK
        assert good.status().fps == pytest.approx(25.0, abs=2.5)
        assert good.stats.decode_errors == 0
    finally:
        cams.stop()


def test_end_of_a_non_looping_file_stops_the_camera(moving_mp4: Path) -> None:
    statuses = StatusLog()
    worker = CameraWorker(camera("once", str(moving_mp4), realtime=False, loop=False), statuses)
    worker.start()
    _, status = statuses.wait(state_is("once", S.STOPPED), timeout=5.0)
    assert status.detail == "end of file"
    assert worker.slot.puts == 100
    worker.stop()
    assert statuses.states("once") == [S.CONNECTING, S.STREAMING, S.STOPPED]


def test_periodic_status_carries_fresh_metrics(moving_mp4: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CameraWorker, "STATUS_EVERY", 0.4)
    statuses = StatusLog()
    worker = CameraWorker(camera("tick", str(moving_mp4)), statuses)
    worker.start()
    try:
        time.sleep(1.5)
    finally:
        worker.stop()
    streaming = [s for s in statuses.of("tick") if s.state is S.STREAMING]
    assert len(streaming) >= 3
    assert streaming[-1].fps > 15 and streaming[-1].last_frame_at is not None
    assert streaming[-1].drops > 0
    assert [s.since for s in streaming] == [streaming[0].since] * len(streaming)


def test_a_failing_status_sink_does_not_stop_the_camera(moving_mp4: Path) -> None:
    calls: list[CameraStatus] = []

    def sink(status: CameraStatus) -> None:
        calls.append(status)
        raise RuntimeError("bus down")

    worker = CameraWorker(camera("robust", str(moving_mp4)), sink)
    worker.start()
    try:
        assert worker.slot.take(3.0) is not None
        time.sleep(0.3)
        assert worker.state is S.STREAMING
        assert worker.slot.take(1.0) is not None
    finally:
        worker.stop()
    assert calls[-1].state is S.STOPPED


def test_stop_is_prompt_and_leaves_no_thread(moving_mp4: Path) -> None:
    before = {t.name for t in threading.enumerate()}
    worker = CameraWorker(camera("quick", str(moving_mp4)), StatusLog())
    worker.start()
    assert worker.slot.take(3.0) is not None
    started = time.monotonic()
    worker.stop()
    assert time.monotonic() - started < 2.0
    time.sleep(0.2)
    left = {t.name for t in threading.enumerate()} - before
    assert not [name for name in left if name.startswith("ingest-quick")]
