"""Keyframes-only decoding (load shedding's last step, ingest/shedding.py) on a real RTSP
stream: while ``SourceStats.keyframes_only`` is set the live source decodes one picture per
GOP and counts the rest; cleared, it resumes at the next keyframe without a corrupt frame.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from core.clock import SystemClock
from ingest.source import Picture, SourceSpec, SourceStats
from ingest.source_registry import open_source
from tests.ingest.ingest_helpers import wait_until
from tests.ingest.ingest_rtsp import RtspServer, StartServer

pytestmark = pytest.mark.rtsp

FPS = 25  # tests/ingest/ingest_media.py: 25 fps, one keyframe per second (gop = FPS)


class Reader:
    """Drains a live source in a thread, keeping the time of every picture it delivers."""

    def __init__(self, url: str) -> None:
        self.stats = SourceStats()
        self.source = open_source(SourceSpec(url=url), SystemClock(), self.stats)
        self.times: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        picture: Picture
        for picture in self.source.frames():
            self.times.append(time.monotonic())
            del picture

    def rate(self, seconds: float) -> float:
        """Pictures per second delivered over the next ``seconds``."""
        before, started = len(self.times), time.monotonic()
        time.sleep(seconds)
        return (len(self.times) - before) / (time.monotonic() - started)

    def close(self) -> None:
        self.source.close()
        self._thread.join(5.0)


def test_keyframes_only_decodes_one_picture_per_gop_and_resumes_cleanly(
        rtsp: StartServer, moving_mp4: Path) -> None:
    server: RtspServer = rtsp("--file", str(moving_mp4))
    reader = Reader(server.url)
    try:
        wait_until(lambda: len(reader.times) >= FPS, 10.0, "the stream delivers pictures")
        assert reader.rate(2.0) > 0.8 * FPS
        reader.stats.keyframes_only = True
        wait_until(lambda: reader.stats.keyframe_skips > FPS, 5.0, "P-frames left undecoded")
        assert reader.rate(3.0) <= 2.0  # one keyframe a second, and nothing else
        skipped = reader.stats.keyframe_skips
        reader.stats.keyframes_only = False
        wait_until(lambda: reader.rate(0.5) > 0.8 * FPS, 5.0, "every frame decoded again")
        assert reader.stats.keyframe_skips - skipped < FPS  # only up to the next keyframe
        assert reader.stats.decode_errors == 0
    finally:
        reader.close()
