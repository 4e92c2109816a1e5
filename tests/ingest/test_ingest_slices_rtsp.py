"""Multi-slice H.264 through the live path: every picture equals the file's own decoding.

Issue 13 reported half-green pictures, not flagged corrupt, from a stream whose keyframes
were 2 slices (PyAV's default x264 slice threading). bench/capacity_clip.py avoided the
condition by encoding single slices, without finding a cause. Many real cameras send
several slices per picture, so here a 2-slice clip is served by the real GStreamer RTSP
server. The real :class:`ingest.live_source.LiveSource`, feeding the evidence ring as a
camera does, reads it across the server's loop. Each picture must be bit-identical to a
frame of the same file decoded directly. (2026-12-06: it is; the report is not reproduced.)
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from core.clock import SystemClock
from core.config.models import Camera
from ingest.ring import PacketRing
from ingest.source import SourceSpec, SourceStats
from ingest.source_registry import open_source
from tests.ingest import ingest_media as media
from tests.ingest.ingest_rtsp import StartServer

pytestmark = pytest.mark.rtsp

FRAMES = 50
"""Two seconds at 25 fps, GOP 25: two keyframes per loop."""


def idr_slices(path: Path) -> int:
    """IDR slice NAL units (type 5) in the file's first packet (length-prefixed NALs)."""
    with av.open(str(path)) as container:
        data = bytes(next(container.demux(container.streams.video[0])))
    count, at = 0, 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        count += data[at + 4] & 0x1F == 5
        at += 4 + size
    return count


def test_two_slice_pictures_arrive_intact_across_the_loop(rtsp: StartServer,
                                                          tmp_path: Path) -> None:
    clip = media.encode(tmp_path / "two_slice.mp4", media.moving(FRAMES / media.FPS), gop=25,
                        slices=2)
    assert idr_slices(clip) == 2  # the premise: keyframes really are 2 slices
    with av.open(str(clip)) as container:
        reference = [f.to_ndarray(format="bgr24").astype(np.int16)
                     for f in container.decode(container.streams.video[0])]
    server = rtsp("--file", str(clip))
    stats = SourceStats()
    camera = Camera(id="slices", name="slices", url=server.url)
    source = open_source(SourceSpec.for_camera(camera), SystemClock(), stats, PacketRing(10))
    differences = []
    try:
        for picture in source.frames():
            image = picture.image.astype(np.int16)
            differences.append(min(float(np.abs(r - image).mean()) for r in reference))
            if len(differences) >= FRAMES * 3 // 2:  # past the server's first loop
                break
    finally:
        source.close()
    assert max(differences) == 0.0
    assert stats.decode_errors == 0
