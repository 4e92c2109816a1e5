"""The FastAPI application: health, metrics and the camera API.

The app holds no pipeline objects: it reads the :class:`CameraRegistry` that a bus
consumer task keeps fresh, so the same app works on a node that runs cameras and on a
console-only node reading a shared Redis bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Response

from console.auth import Principal, TokenBook, require_token
from console.metrics import render
from console.registry import CameraRegistry
from core import topics
from core.bus import Bus
from core.errors import BusError
from core.messages import CameraStatus

log = logging.getLogger(__name__)
Auth = Annotated[Principal, Depends(require_token)]


def create_app(cameras: CameraRegistry, tokens: TokenBook, bus: Bus | None = None) -> FastAPI:
    """Build the app. With ``bus``, camera statuses are consumed from it while serving."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(consume_statuses(bus, cameras)) if bus else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="Vigil", version="0.1.0", lifespan=lifespan)
    app.state.tokens = tokens
    app.state.cameras = cameras

    @app.get("/health")
    def health() -> dict[str, Any]:
        views = cameras.views()
        return {"status": "ok", "cameras": len(views),
                "streaming": sum(1 for v in views if v.status and v.status.state == "streaming")}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(render(cameras), media_type="text/plain; version=0.0.4")

    @app.get("/api/cameras")
    def list_cameras(_who: Auth) -> list[dict[str, Any]]:
        return [v.as_json() for v in cameras.views()]

    @app.get("/api/cameras/{camera_id}")
    def get_camera(camera_id: str, _who: Auth) -> dict[str, Any]:
        view = cameras.view(camera_id)
        if view is None:
            raise HTTPException(404, f"no camera {camera_id!r}")
        return view.as_json()

    return app


async def consume_statuses(bus: Bus, cameras: CameraRegistry) -> None:
    """Follow ``camera.status`` in a group of its own (every console sees every status)."""
    group = f"console-{socket.gethostname()}-{os.getpid()}"
    while True:
        try:
            batch = await bus.read(topics.CAMERA_STATUS, group, "console", count=100, block=1.0)
        except BusError as exc:
            log.warning("camera status feed interrupted: %s", exc)
            await asyncio.sleep(1.0)
            continue
        for delivery in batch:
            if isinstance(delivery.message, CameraStatus):
                cameras.apply(delivery.message)
        if batch:
            await bus.ack(topics.CAMERA_STATUS, group, [d.id for d in batch])
