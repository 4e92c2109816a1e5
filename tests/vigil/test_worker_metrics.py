"""vigil/worker_metrics.py: a worker's /metrics shows the cameras it holds (from their
statuses), its lease count and capacity, and no console families; a taken address is a
config error naming --bind. (The cluster test reads a real worker's endpoint.)"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from console.registry import CameraRegistry
from core.config.models import Camera
from core.errors import ConfigError
from core.messages import CameraState, CameraStatus
from vigil.worker_metrics import MetricsServer, serve_metrics


def camera(camera_id: str) -> Camera:
    return Camera.model_validate({"id": camera_id, "name": camera_id,
                                  "url": "rtsp://127.0.0.1/x"})


@pytest.fixture
def served() -> Iterator[tuple[MetricsServer, CameraRegistry]]:
    cameras = CameraRegistry([camera("cam-1"), camera("cam-2")])
    cameras.apply(CameraStatus("cam-1", CameraState.STREAMING, since=1.0, fps=12.5,
                               analysed=40))
    server = serve_metrics("127.0.0.1:0", cameras, lambda: 2, 6.0)
    try:
        yield server, cameras
    finally:
        server.close()


def test_a_worker_serves_its_cameras_and_leases(
    served: tuple[MetricsServer, CameraRegistry],
) -> None:
    server, cameras = served
    text = httpx.get(f"http://{server.address}/metrics", timeout=5).text
    assert 'vigil_ingest_state{camera="cam-1",state="streaming"} 1.0' in text
    assert 'vigil_ingest_fps{camera="cam-1"} 12.5' in text
    assert 'vigil_analysis_frames_total{camera="cam-1"} 40.0' in text
    assert "vigil_cluster_cameras_held 2.0" in text
    assert "vigil_cluster_capacity 6.0" in text
    for console_only in ("vigil_console_ws", "vigil_dispatch", "vigil_evidence_bytes"):
        assert console_only not in text
    cameras.set_cameras([camera("cam-2")])  # cam-1 moved to another worker
    text = httpx.get(f"http://{server.address}/metrics", timeout=5).text
    assert 'camera="cam-1"' not in text and 'vigil_ingest_fps{camera="cam-2"} 0.0' in text


def test_a_taken_address_names_the_flag() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="--bind HOST:PORT"):
            serve_metrics(f"127.0.0.1:{port}", CameraRegistry(), lambda: 0, 0.0)
