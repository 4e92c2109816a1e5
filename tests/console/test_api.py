"""The console API through FastAPI's in-process client, statuses fed through a real bus."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from console.app import create_app
from console.identity import Principal
from console.registry import CameraRegistry
from console.tokens import TokenBook
from core import topics
from core.bus import MemoryBus
from core.config.models import Camera, Location
from core.messages import CameraHealth, CameraState, CameraStatus

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def cameras() -> list[Camera]:
    return [
        Camera(id="34020000001320000001", name="人民路与建设路口", group="skynet",
               url="rtsp://admin:secret@10.0.0.5:554/sub",
               location=Location(lon=106.38, lat=39.02, address="大武口区人民路")),
        Camera(id="gate-3", name="Gate 3", url="rtsp://127.0.0.1:8554/gate3"),
    ]


@pytest.fixture
def registry() -> CameraRegistry:
    return CameraRegistry(cameras())


@pytest.fixture
def client(registry: CameraRegistry) -> httpx.AsyncClient:
    app = create_app(registry, TokenBook({TOKEN: Principal("t", "admin")}))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://vigil")


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    reply = await client.get("/health")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok", "cameras": 2, "streaming": 0}


@pytest.mark.parametrize("path", ["/api/cameras", "/api/cameras/gate-3"])
@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dGVzdA==", "Bearer"])
async def test_api_requires_a_valid_bearer_token(
    client: httpx.AsyncClient, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    reply = await client.get(path, headers=headers)
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"


async def test_camera_list_joins_config_and_status_and_redacts(
    client: httpx.AsyncClient, registry: CameraRegistry
) -> None:
    registry.apply(CameraStatus("gate-3", CameraState.STREAMING, since=10.0, fps=24.8,
                                health=CameraHealth.OK, last_frame_at=12.0))
    body = (await client.get("/api/cameras", headers=AUTH)).json()
    by_id = {c["id"]: c for c in body}
    gb = by_id["34020000001320000001"]
    assert gb["url"] == "rtsp://***@10.0.0.5:554/sub"
    assert "secret" not in str(body)
    assert gb["state"] == "connecting" and gb["detail"] == "no status yet"
    assert gb["gb28181"]["type"] == "132" and gb["gb28181"]["type_name"] == "IPC"
    assert gb["location"]["crs"] == "WGS84"
    assert by_id["gate-3"]["state"] == "streaming"
    assert by_id["gate-3"]["fps"] == 24.8 and by_id["gate-3"]["last_frame_at"] == 12.0
    assert (await client.get("/api/cameras/nope", headers=AUTH)).status_code == 404


async def test_metrics_expose_per_camera_series(
    client: httpx.AsyncClient, registry: CameraRegistry
) -> None:
    registry.apply(CameraStatus("gate-3", CameraState.BACKOFF, since=1.0, reconnects=3,
                                drops=7, decode_ms=1.5))
    text = (await client.get("/metrics")).text
    assert 'vigil_ingest_state{camera="gate-3",state="backoff"} 1.0' in text
    assert 'vigil_ingest_state{camera="gate-3",state="streaming"} 0.0' in text
    assert 'vigil_ingest_reconnects_total{camera="gate-3"} 3.0' in text
    assert 'vigil_ingest_frame_drops_total{camera="gate-3"} 7.0' in text
    assert 'vigil_ingest_decode_ms{camera="gate-3"} 1.5' in text


async def test_statuses_published_on_the_bus_reach_the_api(registry: CameraRegistry) -> None:
    bus = MemoryBus()
    app = create_app(registry, TokenBook({TOKEN: Principal("t", "admin")}), bus)
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://v")
        await bus.publish(topics.CAMERA_STATUS,
                          CameraStatus("gate-3", CameraState.STALLED, since=5.0, detail="no frame"))
        for _ in range(50):
            state = (await client.get("/api/cameras/gate-3", headers=AUTH)).json()["state"]
            if state == "stalled":
                break
            await asyncio.sleep(0.05)
        assert state == "stalled"


def test_older_status_does_not_overwrite_newer(registry: CameraRegistry) -> None:
    registry.apply(CameraStatus("gate-3", CameraState.STREAMING, since=20.0))
    registry.apply(CameraStatus("gate-3", CameraState.CONNECTING, since=10.0))
    view = registry.view("gate-3")
    assert view is not None and view.status is not None
    assert view.status.state == CameraState.STREAMING


async def test_docs_page_loads_only_local_files(client: httpx.AsyncClient) -> None:
    """No CDN (offline network) and no inline script (CSP): every script and stylesheet the
    page names is served by the app itself. The browser test renders it."""
    page = await client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) == 3 and all(a.startswith("/docs/") for a in assets)
    assert "<script>" not in page.text
    for asset in assets:
        reply = await client.get(asset)
        assert reply.status_code == 200 and len(reply.content) > 100, asset
    assert "/openapi.json" in (await client.get("/docs/init.js")).text
    assert (await client.get("/")).headers["content-security-policy"].startswith("default-src")
