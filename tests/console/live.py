"""A real uvicorn server on a free loopback port, and WebSocket client helpers.

Shared by the WebSocket tests and ``bench/console.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from core import topics
from core.bus import Bus
from core.messages import Alert
from core.store import AlertRecord, Store


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[int]:
    """Run ``app`` (with its lifespan) in this event loop; yields the port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws_per_message_deflate=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


async def raise_alert(store: Store, bus: Bus, alert: Alert) -> AlertRecord:
    """What the alert service does: commit, then publish."""
    record = await asyncio.to_thread(store.insert_alert, alert)
    await bus.publish(topics.ALERTS, record.alert)
    return record


@dataclass
class Feed:
    """Frames one client received, by kind; ``ids`` are the alert event ids in arrival
    order (duplicates kept, so a test can see them)."""

    hello: list[dict[str, Any]] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    cameras: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)

    def take(self, raw: str | bytes) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(raw)
        self.frames.append(frame)
        kind = frame["kind"]
        if kind == "hello":
            self.hello.append(frame["data"])
        elif kind == "camera":
            self.cameras.append(frame["data"])
        elif frame["id"] is not None:
            self.ids.append(frame["id"])
            self.kinds.append(kind)
        return frame


async def read_until(ws: ClientConnection, feed: Feed, last_id: int,
                     timeout: float = 10.0) -> None:
    """Receive until event ``last_id`` has arrived."""
    async with asyncio.timeout(timeout):
        while not feed.ids or feed.ids[-1] < last_id:
            feed.take(await ws.recv())


async def read_count(ws: ClientConnection, feed: Feed, count: int,
                     timeout: float = 10.0) -> None:
    """Receive until ``count`` alert events have arrived in total."""
    async with asyncio.timeout(timeout):
        while len(feed.ids) < count:
            feed.take(await ws.recv())


async def open_feed(port: int, query: str) -> tuple[ClientConnection, Feed]:
    ws = await connect(f"ws://127.0.0.1:{port}/ws?{query}", max_size=None, compression=None)
    feed = Feed()
    feed.take(await ws.recv())
    return ws, feed
