"""``redis://host:port/db``: Redis Streams with consumer groups, for several nodes.

One stream per topic (``vigil:<topic>``), trimmed approximately to ``maxlen`` (Redis counts
what it trims only roughly, so ``dropped`` reports entries this client saw trimmed by
its own XADDs). A consumer first re-reads its own pending entries (it restarted with the
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
from core.errors import BusError, CodecError
from core.messages import WireMessage

log = logging.getLogger(__name__)
PREFIX = "vigil:"


class RedisBus(Bus):
    def __init__(self, url: str, maxlen: int = DEFAULT_MAXLEN, prefix: str = PREFIX) -> None:
        self._redis: aioredis.Redis = aioredis.Redis.from_url(url)
        self._maxlen = maxlen
        self._prefix = prefix
        self._groups: set[tuple[str, str]] = set()
        self._own_pending_done: set[tuple[str, str, str]] = set()

    def _key(self, topic: str) -> str:
        return self._prefix + topic

    async def _ensure_group(self, topic: str, group: str) -> None:
        if (topic, group) in self._groups:
            return
        try:
            await self._redis.xgroup_create(self._key(topic), group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add((topic, group))

    async def publish(self, topic: str, message: WireMessage) -> str:
        try:
            entry = await self._redis.xadd(self._key(topic), {"m": codec.encode(message)},
                                           maxlen=self._maxlen, approximate=True)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis publish to {topic} failed: {exc}") from exc
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def read(
        self, topic: str, group: str, consumer: str, count: int = 10, block: float = 1.0
    ) -> list[Delivery]:
        try:
            await self._ensure_group(topic, group)
            own = (topic, group, consumer)
            if own not in self._own_pending_done:
                mine = await self._xread(own, "0", count, None)
                if mine:
                    return mine
                self._own_pending_done.add(own)
            return await self._xread(own, ">", count, int(block * 1000))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis read from {topic} failed: {exc}") from exc

    async def _xread(
        self, who: tuple[str, str, str], start: str, count: int, block_ms: int | None
    ) -> list[Delivery]:
        topic, group, consumer = who
        reply = await self._redis.xreadgroup(group, consumer, {self._key(topic): start},
                                             count=count, block=block_ms or None)
        out: list[Delivery] = []
        streams: list[Any] = list(reply or [])
        for _stream, entries in streams:
            out.extend(await self._decode(topic, group, entries))
        return out

    async def _decode(self, topic: str, group: str, entries: list[Any]) -> list[Delivery]:
        out: list[Delivery] = []
        for entry_id, fields in entries:
            eid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            if not fields:  # trimmed while pending: acknowledge the hole away
                await self._redis.xack(self._key(topic), group, eid)
                continue
            try:
                out.append(Delivery(eid, topic, codec.decode(fields[b"m"])))
            except (CodecError, KeyError) as exc:
                log.error("dropping undecodable entry %s on %s: %s", eid, topic, exc)
                await self._redis.xack(self._key(topic), group, eid)
        return out

    async def ack(self, topic: str, group: str, ids: list[str]) -> int:
        if not ids:
            return 0
        try:
            return int(await self._redis.xack(self._key(topic), group, *ids))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis ack on {topic} failed: {exc}") from exc

    async def reclaim(
        self, topic: str, group: str, consumer: str, min_idle: float, count: int = 100
    ) -> list[Delivery]:
        try:
            await self._ensure_group(topic, group)
            reply = await self._redis.xautoclaim(self._key(topic), group, consumer,
                                                 min_idle_time=int(min_idle * 1000),
                                                 start_id="0-0", count=count)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            raise BusError(f"redis reclaim on {topic} failed: {exc}") from exc
        return await self._decode(topic, group, reply[1])

    async def dropped(self, topic: str) -> int:
        """Redis does not report trimmed counts; the stream length tells if it is saturated."""
        length = int(await self._redis.xlen(self._key(topic)))
        return max(0, length - self._maxlen)

    async def close(self) -> None:
        await self._redis.aclose()
