"""Fixtures for the ingest tests: synthetic clips (made once per session) and RTSP servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.ingest.ingest_media as media
from tests.ingest.ingest_rtsp import RtspServer, StartServer, gst_rtsp_missing
from tests.services import require


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def moving_mp4(clip_dir: Path) -> Path:
    return media.encode(clip_dir / "moving.mp4", media.moving(4.0))


@pytest.fixture(scope="session")
def frozen_mp4(clip_dir: Path) -> Path:
    return media.encode(clip_dir / "frozen.mp4", media.still(3.0, media.background()))


@pytest.fixture(scope="session")
def black_mp4(clip_dir: Path) -> Path:
    return media.encode(clip_dir / "black.mp4", media.still(2.0, media.uniform((0, 0, 0))))


@pytest.fixture(scope="session")
def blank_mp4(clip_dir: Path) -> Path:
    blue = media.uniform((160, 60, 20))
    return media.encode(clip_dir / "blank.mp4", media.still(2.0, blue))


@pytest.fixture(scope="session")
def rtsp_available() -> None:
    """Skip without the GStreamer RTSP server; fail under CI (tests/services.py)."""
    require(gst_rtsp_missing())


@pytest.fixture
def rtsp(rtsp_available: None, tmp_path: Path) -> Iterator[StartServer]:
    """``rtsp("--file", path)`` starts a server (``start=False`` only reserves a port)."""
    servers: list[RtspServer] = []

    def start(*mode: str, start: bool = True) -> RtspServer:
        server = RtspServer(list(mode), tmp_path)
        servers.append(server)
        return server.start() if start else server

    yield start
    for server in servers:
        server.kill()
