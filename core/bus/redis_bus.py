"""``redis://host:port/db``: Redis Streams with consumer groups, for several nodes.

One stream per topic (``vigil:<topic>``; with ``?namespace=`` in the URL
``vigil:<namespace>:<topic>`` and consumer groups ``<namespace>:<group>``, so deployments
sharing one Redis stay apart: core/bus/redis_names.py), trimmed approximately to ``maxlen``
(Redis counts what it trims only roughly, so ``dropped`` reports entries this client saw
trimmed by its own XADDs). A consumer first re-reads its own pending entries (it restarted with the
same name) and then new ones; entries of a consumer that died are taken over with
XAUTOCLAIM after ``min_idle``. Connection failures surface as :class:`BusError`
(retryable), so callers use the common retry helper.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import codec
from core.bus.base import DEFAULT_MAXLEN, Bus, Delivery
from core.bus.redis_names import split_namespace
from core.errors import BusError, CodecError, ConfigError
from core.messages import WireMessage

log = logging.getLogger(__name__)
PREFIX = "vigil:"


class RedisBus(Bus):
    def __init__(self, url: str, maxlen: int = DEFAULT_MAXLEN, prefix: str = PREFIX) -> None:
        """``prefix`` starts every stream key (tests isolate themselves with it); a
        ``namespace`` in ``url`` goes after it and before every group name."""
        try:
            url, namespace = split_namespace(url)
        except ValueError as exc:
            raise ConfigError([str(exc)]) from None
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url)
        self._maxlen = maxlen
        self._prefix = f"{prefix}{namespace}:" if namespace else prefix
        self._group_prefix = f"{namespace}:" if namespace else ""
        self._groups: set[tuple[str, str]] = set()
        self._own_pending_done: set[tuple[str, str, str]] = set()

    def _key(self, name: str) -> str:
        return self._prefix + name

    def _group(self, group: str) -> str:
        return self._group_prefix + group

    async def _ensure_group(self, name: str, group: str) -> None:
        if (name, group) in self._groups:
            return
        try:
            await self._redis.xgroup_create(self._key(name), group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add((name, group))

    async def publish_by_name(self, name: str, message: WireMessage) -> str:
        try:
            entry = await self._redis.xadd(self._key(name), {"m": codec.encode(message)},
                                           maxlen=self._maxlen, approximate=True)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis publish to {name} failed: {exc}") from exc
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def read_by_name(
        self, name: str, group: str, consumer: str, count: int, block: float
    ) -> list[Delivery[WireMessage]]:
        group = self._group(group)
        try:
            await self._ensure_group(name, group)
            own = (name, group, consumer)
            if own not in self._own_pending_done:
                mine = await self._xread(own, "0", count, None)
                if mine:
                    return mine
                self._own_pending_done.add(own)
            return await self._xread(own, ">", count, int(block * 1000))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis read from {name} failed: {exc}") from exc

    async def _xread(
        self, who: tuple[str, str, str], start: str, count: int, block_ms: int | None
    ) -> list[Delivery[WireMessage]]:
        name, group, consumer = who
        reply = await self._redis.xreadgroup(group, consumer, {self._key(name): start},
                                             count=count, block=block_ms or None)
        out: list[Delivery[WireMessage]] = []
        streams: list[Any] = list(reply or [])
        for _stream, entries in streams:
            out.extend(await self._decode(name, group, entries))
        return out

    async def _decode(
        self, name: str, group: str, entries: list[Any]
    ) -> list[Delivery[WireMessage]]:
        out: list[Delivery[WireMessage]] = []
        for entry_id, fields in entries:
            eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            if not fields:  # trimmed while pending: acknowledge the hole away
                await self._redis.xack(self._key(name), group, eid)
                continue
            try:
                out.append(Delivery(eid, name, codec.decode(fields[b"m"])))
            except (CodecError, KeyError) as exc:
                log.error("dropping undecodable entry %s on %s: %s", eid, name, exc)
                await self._redis.xack(self._key(name), group, eid)
        return out

    async def ack_by_name(self, name: str, group: str, ids: list[str]) -> int:
        if not ids:
            return 0
        try:
            return int(await self._redis.xack(self._key(name), self._group(group), *ids))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis ack on {name} failed: {exc}") from exc

    async def reclaim_by_name(
        self, name: str, group: str, consumer: str, min_idle: float, count: int
    ) -> list[Delivery[WireMessage]]:
        group = self._group(group)
        try:
            await self._ensure_group(name, group)
            reply = await self._redis.xautoclaim(self._key(name), group, consumer,
                                                 min_idle_time=int(min_idle * 1000),
                                                 start_id="0-0", count=count)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis reclaim on {name} failed: {exc}") from exc
        return await self._decode(name, group, reply[1])

    async def dropped_by_name(self, name: str) -> int:
        """Redis does not report trimmed counts; the stream length tells if it is saturated."""
        length = int(await self._redis.xlen(self._key(name)))
        return max(0, length - self._maxlen)

    async def close(self) -> None:
        await self._redis.aclose()
