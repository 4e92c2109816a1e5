"""File and live sources: pacing, looping, rate limit, errors mapped and redacted, close."""

from __future__ import annotations

import functools
import http.server
import itertools
import logging
import threading
import time
from pathlib import Path

import av
import pytest

import tests.ingest.ingest_media as media
from core.clock import SystemClock
from core.config.urls import SOURCE_SCHEMES
from core.errors import SourceError, SourceTimeout
from core.messages import CameraState
from ingest.errors import SourceRefused
from ingest.file_source import FileSource
from ingest.live_source import LiveSource
from ingest.source import (
    Picture,
    SourceSpec,
    SourceStats,
    file_path,
    is_file,
    url_to_open,
)
from ingest.source_registry import OTHER_SCHEMES, SOURCES, open_source, source_factory
from ingest.worker import CameraWorker
from tests.ingest.ingest_helpers import StatusLog, camera
from tests.ingest.ingest_rtsp import free_port


def pictures(spec: SourceSpec, limit: int = 10_000) -> tuple[list[Picture], SourceStats]:
    stats = SourceStats()
    out: list[Picture] = []
    for picture in open_source(spec, SystemClock(), stats).frames():
        out.append(picture)
        if len(out) >= limit:
            break
    return out, stats


def test_file_fast_replay_keeps_media_time(moving_mp4: Path) -> None:
    got, stats = pictures(SourceSpec(str(moving_mp4), realtime=False, loop=False))
    assert len(got) == 100 == stats.frames
    assert got[0].image.shape == (240, 320, 3)
    assert not got[0].image.flags.writeable
    gaps = [b.captured_at - a.captured_at for a, b in itertools.pairwise(got)]
    assert min(gaps) == pytest.approx(0.04, abs=1e-3)
    assert max(gaps) == pytest.approx(0.04, abs=1e-3)
    assert all(p.decode_ms > 0 for p in got)


def test_file_loops_with_increasing_times(moving_mp4: Path) -> None:
    got, _ = pictures(SourceSpec(f"file://{moving_mp4}", realtime=False, loop=True), limit=250)
    times = [p.captured_at for p in got]
    assert len(got) == 250
    assert all(b > a for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] == pytest.approx(249 * 0.04, abs=0.05)


@pytest.mark.slow  # plays a clip in real time
def test_file_realtime_pacing(clip_dir: Path) -> None:
    clip = media.encode(clip_dir / "one_second.mp4", media.moving(1.0))
    started = time.monotonic()
    got, _ = pictures(SourceSpec(str(clip), realtime=True, loop=False))
    elapsed = time.monotonic() - started
    assert len(got) == 25
    assert 0.85 <= elapsed <= 1.6


def test_max_fps_limits_delivery(moving_mp4: Path) -> None:
    got, _ = pictures(SourceSpec(str(moving_mp4), realtime=False, loop=False, max_fps=5))
    assert 19 <= len(got) <= 21


def test_close_from_another_thread_ends_iteration(moving_mp4: Path) -> None:
    source = open_source(SourceSpec(str(moving_mp4), realtime=True, loop=True), SystemClock(),
                         SourceStats())
    threading.Timer(0.3, source.close).start()
    started = time.monotonic()
    count = sum(1 for _ in source.frames())
    assert time.monotonic() - started < 1.5
    assert 3 <= count <= 20


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceRefused, match="no such file"):
        pictures(SourceSpec(str(tmp_path / "nope.mp4")))


def test_truncated_mp4_is_a_source_error(moving_mp4: Path, tmp_path: Path) -> None:
    cut = media.truncate(moving_mp4, tmp_path / "cut.mp4", 0.5)
    with pytest.raises(SourceError):
        pictures(SourceSpec(str(cut), loop=False, realtime=False))


def test_flipped_bytes_are_counted_not_raised(moving_mp4: Path, tmp_path: Path) -> None:
    bad = media.flip_bytes(moving_mp4, tmp_path / "flip.mp4", 300)
    got, stats = pictures(SourceSpec(str(bad), loop=False, realtime=False))
    assert len(got) >= 50
    assert stats.decode_errors > 0


def test_garbage_run_ends_in_source_error(moving_mp4: Path, tmp_path: Path) -> None:
    raw = media.encode(tmp_path / "raw.h264", media.moving(2.0))
    bad = media.flip_bytes(raw, tmp_path / "heavy.h264", 40_000, keep=100)
    with pytest.raises(SourceError, match=r"corrupt|no decodable"):
        pictures(SourceSpec(str(bad), loop=True, realtime=False))


def test_unreachable_camera_error_is_redacted() -> None:
    url = f"rtsp://admin:s3cret@127.0.0.1:{free_port()}/ch1"
    with pytest.raises(SourceError) as info:
        pictures(SourceSpec(url, open_timeout=2.0, read_timeout=1.0))
    assert "s3cret" not in str(info.value)
    assert "rtsp://***@127.0.0.1" in str(info.value)
    assert not isinstance(info.value, SourceRefused | SourceTimeout)


@pytest.mark.parametrize(("url", "expected"), [
    ("/data/a.mp4", True), ("a.mp4", True), ("file:///data/a.mp4", True),
    ("C:/video/a.mp4", True), ("rtsp://h/1", False), ("https://h/a.m3u8", False),
    ("rtmp://h/live", False),
])
def test_is_file(url: str, expected: bool) -> None:
    assert is_file(url) is expected


@pytest.mark.parametrize(("url", "expected"), [
    ("/data/a.mp4", FileSource), ("file:///data/a.mp4", FileSource), ("C:/v/a.mp4", FileSource),
    ("rtsp://h/1", LiveSource), ("RTSPS://h/1", LiveSource), ("rtmp://h/live", LiveSource),
    ("https://h/a.m3u8", LiveSource), ("srt://h:9000", LiveSource),
])
def test_the_registry_picks_the_source_by_scheme(url: str, expected: type) -> None:
    assert source_factory(url) is expected
    assert (expected is FileSource) is is_file(url)


def test_the_registry_covers_exactly_the_schemes_the_config_accepts() -> None:
    """A scheme the config lets through has its own entry, and the registry names no scheme
    a camera could never use; anything else is only tried live (``OTHER_SCHEMES``)."""
    assert set(SOURCES) == set(SOURCE_SCHEMES)
    assert OTHER_SCHEMES is LiveSource


def test_file_path() -> None:
    assert file_path("file:///data/a.mp4") == "/data/a.mp4"
    assert file_path("/data/a.mp4") == "/data/a.mp4"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep test output clean."""


@pytest.mark.slow  # an HTTP server and a live HLS playlist
def test_hls_over_http_reads_then_reports_disconnect(tmp_path: Path) -> None:
    with av.open(str(tmp_path / "cam.m3u8"), "w", format="hls",
                 options={"hls_time": "1", "hls_playlist_type": "vod"}) as out:
        stream = out.add_stream("libx264", rate=media.FPS,
                                options={"preset": "ultrafast", "g": "25", "bf": "0"})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for img in media.moving(2.0):
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(stream.encode(None))
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cam.m3u8"
    got: list[Picture] = []
    try:
        with pytest.raises(SourceError, match="stream ended"):
            for picture in open_source(SourceSpec(url), SystemClock(), SourceStats()).frames():
                got.append(picture)
    finally:
        server.shutdown()
        server.server_close()
    assert len(got) == 50


def test_url_to_open_injects_credentials_and_logs_never_show_them(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    cam = camera("cred", f"rtsp://127.0.0.1:{port}/ch1", open_timeout=1.0).model_copy(
        update={"username": "admin", "password": "s3cr@t", "evidence_url": "rtsp://10.1.1.1/main"})
    assert url_to_open(cam) == f"rtsp://admin:s3cr%40t@127.0.0.1:{port}/ch1"
    assert url_to_open(cam, evidence=True) == "rtsp://admin:s3cr%40t@10.1.1.1/main"
    statuses = StatusLog()
    caplog.set_level(logging.DEBUG)
    worker = CameraWorker(cam.model_copy(update={"evidence_url": None}), statuses)
    worker.start()
    try:
        statuses.wait(lambda s: s.state is CameraState.BACKOFF, timeout=5.0)
    finally:
        worker.stop()
    text = "\n".join(r.getMessage() for r in caplog.records)
    details = "\n".join(s.detail for s in statuses.of("cred"))
    assert "rtsp://***@127.0.0.1" in details
    assert "s3cr" not in text + details
