"""A real, scriptable webhook receiver on loopback (used by the dispatch tests) and its tests.

:class:`Receiver` is a tiny HTTP/1.1 server on ``127.0.0.1`` built on asyncio streams, run on
the test's own event loop. It behaves like a careful 110 gateway: it verifies every
Standard Webhooks signature over the raw body, de-duplicates on ``webhook-id`` (counting the
duplicates), and answers one request per connection. Tests script it:

* ``stop()`` closes the listening socket, so the next attempt gets *connection refused*;
  ``start()`` listens again on the same port;
* ``script`` decides each answer: ``(status, delay)`` from the request number and the
  webhook id; a 2xx request is recorded as processed *before* the delay, so a slow answer
  beyond the client's timeout produces a genuine duplicate on retry.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from alerts.dispatch_sign import SignatureError, sign_headers, verify
from core.clock import Clock, FakeClock
from core.messages import Alert, Evidence, Sighting

Script = Callable[[int, str], tuple[int, float]]
"""(request number from 1, webhook id) → (HTTP status, seconds to wait before answering)."""
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"""The Standard Webhooks specification's example secret."""
GB_CAMERA = "34020000001320000001"
T0 = 1_700_000_000.0


def make_alert(n: int, level: int = 1, category: str = "stolen", review_only: bool = False,
               camera: str = GB_CAMERA) -> Alert:
    """A watchlist alert on a plate sighting with full evidence (event time T0 + n)."""
    at = T0 + n
    sighting = Sighting(
        f"s-{n}", camera, "京AD12345", "京AD·12345", "ne_small_8", "green", 0.934, at - 2.5, at,
        Evidence(snapshot=f"snap/2023/11/15/s-{n}.jpg", plate_crop=f"snap/2023/11/15/s-{n}-p.jpg",
                 clip_from=at - 8.0, clip_to=at + 7.0, box=(412.0, 230.5, 980.0, 700.0)))
    return Alert(
        alert_id=str(uuid.UUID(int=n + 1)), rule_id="stolen-vehicles", level=level,
        category=category, observation=sighting, raised_at=at,
        summary_zh="布控车辆 京AD12345（盗抢车辆）出现在 解放路与人民路交叉口",
        summary_en="Watchlisted vehicle 京AD12345 (stolen) seen at Jiefang Rd / Renmin Rd",
        subject="京AD12345", camera_id=camera, camera_name="解放路口东向",
        address="解放路与人民路交叉口", lon=116.397128, lat=39.916527,
        watchlist_entry_id="wl-2023-0042", review_only=review_only)


def always_ok(_n: int, _webhook_id: str) -> tuple[int, float]:
    return 200, 0.0


def free_port() -> int:
    """A port nothing listens on right now (bind to 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    secret: str
    clock: Clock
    script: Script = always_ok
    tolerance: float = 300.0
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    processed: Counter[str] = field(default_factory=Counter)
    """webhook-id → how many times a 2xx request with it was processed."""
    bodies: dict[str, bytes] = field(default_factory=dict)
    bad_signatures: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.processed.values())

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            status, delay = await self._handle(reader)
            if delay:
                await asyncio.sleep(delay)
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n"
                         f"\r\nok".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (timeout): exactly what some tests provoke
        finally:
            writer.close()
            self._tasks.discard(task)

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, float]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in head[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        try:
            webhook_id = verify(headers, body, self.secret, self.tolerance, self.clock.now())
        except SignatureError:
            self.bad_signatures += 1
            self.requests.append(Received(headers.get("webhook-id", ""), headers, body, 401))
            return 401, 0.0
        status, delay = self.script(len(self.requests) + 1, webhook_id)
        self.requests.append(Received(webhook_id, headers, body, status))
        if 200 <= status < 300:
            self.processed[webhook_id] += 1
            self.bodies[webhook_id] = body
        return status, delay


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


async def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient() as http:
        return (await http.post(url, content=body, headers=headers)).status_code


async def test_receiver_accepts_good_signatures_and_counts_duplicates(clock: FakeClock) -> None:
    receiver = Receiver(SECRET, clock)
    await receiver.start()
    try:
        body = b'{"a": 1}'
        headers = sign_headers("msg_1", int(clock.now()), body, SECRET)
        assert await _post(receiver.url, body, headers) == 200
        assert await _post(receiver.url, body, headers) == 200
        bad = {**headers, "webhook-signature": "v1,AAAA"}
        assert await _post(receiver.url, body, bad) == 401
        assert await _post(receiver.url, b'{"a": 2}', headers) == 401  # body changed
        assert receiver.processed == Counter({"msg_1": 2})
        assert (receiver.duplicates, receiver.bad_signatures) == (1, 2)
    finally:
        await receiver.stop()


async def test_stopped_receiver_refuses_connections_and_restarts_on_its_port(
        clock: FakeClock) -> None:
    receiver = Receiver(SECRET, clock)
    with pytest.raises(httpx.ConnectError):
        await _post(receiver.url, b"{}", {})
    await receiver.start()
    try:
        headers = sign_headers("msg_2", int(clock.now()), b"{}", SECRET)
        assert await _post(receiver.url, b"{}", headers) == 200
    finally:
        await receiver.stop()
    with pytest.raises(httpx.ConnectError):
        await _post(receiver.url, b"{}", headers)
