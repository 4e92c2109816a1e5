"""``local:///path/to/socket``: one node's bus across processes, no external server.

The node's main process runs a :class:`LocalHub` (an asyncio Unix-socket server around a
:class:`MemoryLog`); camera worker processes and tools connect with :class:`LocalBus`.
The protocol is newline-delimited JSON with a request id, so one connection can have a
blocking read and publishes in flight at once. When a connection closes, every consumer
that read through it is declared dead and its pending entries go to the next reader —
a crashed worker loses nothing it had not acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
from pathlib import Path
from typing import Any

from core import codec
from core.bus.base import DEFAULT_MAXLEN, Bus, Delivery
from core.bus.memory import MemoryBus, MemoryLog
from core.errors import BusError
from core.messages import WireMessage

log = logging.getLogger(__name__)
LINE_LIMIT = 16 * 1024 * 1024


def _dump(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _wire(d: Delivery[WireMessage]) -> dict[str, Any]:
    return {"id": d.id, "topic": d.topic, "m": codec.encode(d.message).decode(), "n": d.deliveries}


class LocalHub:
    """The node-local broker. Start it once, in the process that outlives the workers."""

    def __init__(self, path: str | Path, maxlen: int = DEFAULT_MAXLEN) -> None:
        self.path = Path(path)
        self.log = MemoryLog(maxlen)
        self._bus = MemoryBus(self.log)  # the same read/ack/reclaim semantics, one place
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a stale socket from a crashed node
        self._server = await asyncio.start_unix_server(self._serve, self.path, limit=LINE_LIMIT)
        os.chmod(self.path, 0o600)
        log.info("local bus listening on %s", self.path)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        consumers: set[str] = set()
        tasks: set[asyncio.Task[None]] = set()
        lock = asyncio.Lock()
        try:
            while line := await reader.readline():
                request = json.loads(line)
                if request.get("consumer"):
                    consumers.add(request["consumer"])
                task = asyncio.create_task(self._answer(request, writer, lock))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (ConnectionError, json.JSONDecodeError, ValueError) as exc:
            log.warning("local bus client dropped: %s", exc)
        finally:
            for task in tasks:
                task.cancel()
            for consumer in consumers:
                released = self.log.release_consumer(consumer)
                if released:
                    log.info("consumer %s gone; %d pending entries released", consumer, released)
            writer.close()

    async def _answer(
        self, request: dict[str, Any], writer: asyncio.StreamWriter, lock: asyncio.Lock
    ) -> None:
        try:
            result: Any = await self._execute(request)
            reply = {"rid": request["rid"], "ok": result}
        except Exception as exc:  # the reply carries the failure to the caller
            log.exception("local bus request failed: %s", request.get("op"))
            reply = {"rid": request.get("rid"), "error": f"{type(exc).__name__}: {exc}"}
        async with lock:
            writer.write(_dump(reply))
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def _execute(self, req: dict[str, Any]) -> Any:
        op, name = req["op"], req.get("topic", "")
        bus = self._bus
        if op == "publish":
            return await bus.publish_by_name(name, codec.decode(req["m"]))
        if op == "read":
            out = await bus.read_by_name(name, req["group"], req["consumer"], req["count"],
                                         float(req["block"]))
            return [_wire(d) for d in out]
        if op == "ack":
            return await bus.ack_by_name(name, req["group"], req["ids"])
        if op == "reclaim":
            got = await bus.reclaim_by_name(name, req["group"], req["consumer"],
                                            req["min_idle"], req["count"])
            return [_wire(d) for d in got]
        if op == "dropped":
            return await bus.dropped_by_name(name)
        raise BusError(f"unknown local bus operation {op!r}")


class LocalBus(Bus):
    """Client of a :class:`LocalHub`; one socket, many requests in flight."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._pump: asyncio.Task[None] | None = None

    async def connect(self) -> LocalBus:
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(
                self.path, limit=LINE_LIMIT)
        except OSError as exc:
            raise BusError(f"local bus at {self.path} is not reachable: {exc}") from exc
        self._pump = asyncio.create_task(self._receive())
        return self

    async def _receive(self) -> None:
        assert self._reader is not None
        try:
            while line := await self._reader.readline():
                reply = json.loads(line)
                future = self._waiting.pop(reply.get("rid"), None)
                if future is None or future.done():
                    continue
                if "error" in reply:
                    future.set_exception(BusError(reply["error"]))
                else:
                    future.set_result(reply["ok"])
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(BusError("local bus connection closed"))
            self._waiting.clear()

    async def _call(self, op: str, **fields: Any) -> Any:
        if self._writer is None or self._writer.is_closing():
            raise BusError("local bus is not connected")
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        self._writer.write(_dump({"rid": rid, "op": op, **fields}))
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            raise BusError(f"local bus connection lost: {exc}") from exc
        return await future

    @staticmethod
    def _deliveries(raw: list[dict[str, Any]]) -> list[Delivery[WireMessage]]:
        return [Delivery(r["id"], r["topic"], codec.decode(r["m"]), r["n"]) for r in raw]

    async def publish_by_name(self, name: str, message: WireMessage) -> str:
        result: str = await self._call("publish", topic=name, m=codec.encode(message).decode())
        return result

    async def read_by_name(
        self, name: str, group: str, consumer: str, count: int, block: float
    ) -> list[Delivery[WireMessage]]:
        raw = await self._call("read", topic=name, group=group, consumer=consumer,
                               count=count, block=block)
        return self._deliveries(raw)

    async def ack_by_name(self, name: str, group: str, ids: list[str]) -> int:
        result: int = await self._call("ack", topic=name, group=group, ids=ids)
        return result

    async def reclaim_by_name(
        self, name: str, group: str, consumer: str, min_idle: float, count: int
    ) -> list[Delivery[WireMessage]]:
        raw = await self._call("reclaim", topic=name, group=group, consumer=consumer,
                               min_idle=min_idle, count=count)
        return self._deliveries(raw)

    async def dropped_by_name(self, name: str) -> int:
        result: int = await self._call("dropped", topic=name)
        return result

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
            self._writer = None
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
