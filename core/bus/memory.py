"""``memory://NAME``: the bus inside one process (tests, single-process tools).

The same ``NAME`` in one process returns the same bus, so a producer and a consumer opened
separately meet. The :class:`MemoryLog` here is also the engine behind ``local://``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from core.bus.base import DEFAULT_MAXLEN, Bus, Delivery
from core.messages import WireMessage


@dataclass(slots=True)
class _Pending:
    consumer: str
    since: float
    deliveries: int


@dataclass(slots=True)
class _Group:
    cursor: int
    pending: dict[int, _Pending] = field(default_factory=dict)
    released: deque[int] = field(default_factory=deque)


@dataclass(slots=True)
class _Topic:
    maxlen: int
    base: int = 0
    entries: deque[WireMessage] = field(default_factory=deque)
    groups: dict[str, _Group] = field(default_factory=dict)
    dropped: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def get(self, seq: int) -> WireMessage | None:
        idx = seq - self.base
        return self.entries[idx] if 0 <= idx < len(self.entries) else None


class MemoryLog:
    """Topics, groups and pending entries, kept in plain Python structures.

    Not thread-safe: use it from one event loop. Ids are decimal sequence numbers.
    """

    def __init__(self, maxlen: int = DEFAULT_MAXLEN, clock: Callable[[], float] = time.monotonic):
        self._maxlen = maxlen
        self._clock = clock
        self._topics: dict[str, _Topic] = {}

    def _topic(self, name: str) -> _Topic:
        topic = self._topics.get(name)
        if topic is None:
            topic = self._topics[name] = _Topic(self._maxlen)
        return topic

    def _group(self, topic: _Topic, name: str) -> _Group:
        group = topic.groups.get(name)
        if group is None:
            group = topic.groups[name] = _Group(cursor=topic.base)
        return group

    def append(self, name: str, message: WireMessage) -> str:
        topic = self._topic(name)
        seq = topic.base + len(topic.entries)
        topic.entries.append(message)
        if len(topic.entries) > topic.maxlen:
            topic.entries.popleft()
            topic.base += 1
            topic.dropped += 1
        topic.changed.set()
        topic.changed = asyncio.Event()
        return str(seq)

    def take(
        self, name: str, group_name: str, consumer: str, count: int
    ) -> list[Delivery[WireMessage]]:
        """Non-blocking read: released entries first, then new ones."""
        topic = self._topic(name)
        group = self._group(topic, group_name)
        out: list[Delivery[WireMessage]] = []
        while group.released and len(out) < count:
            seq = group.released.popleft()
            out.extend(self._deliver(topic, group, seq, consumer, name))
        group.cursor = max(group.cursor, topic.base)
        while group.cursor < topic.base + len(topic.entries) and len(out) < count:
            out.extend(self._deliver(topic, group, group.cursor, consumer, name))
            group.cursor += 1
        return out

    def _deliver(
        self, topic: _Topic, group: _Group, seq: int, consumer: str, name: str
    ) -> list[Delivery[WireMessage]]:
        message = topic.get(seq)
        if message is None:  # trimmed while pending: nothing left to deliver
            group.pending.pop(seq, None)
            return []
        previous = group.pending.get(seq)
        count = previous.deliveries + 1 if previous else 1
        group.pending[seq] = _Pending(consumer, self._clock(), count)
        return [Delivery(str(seq), name, message, count)]

    def waiter(self, name: str) -> asyncio.Event:
        return self._topic(name).changed

    def ack(self, name: str, group_name: str, ids: list[str]) -> int:
        group = self._group(self._topic(name), group_name)
        return sum(1 for i in ids if group.pending.pop(int(i), None) is not None)

    def reclaim(
        self, name: str, group_name: str, consumer: str, min_idle: float, count: int
    ) -> list[Delivery[WireMessage]]:
        topic = self._topic(name)
        group = self._group(topic, group_name)
        now = self._clock()
        stale = [s for s, p in group.pending.items() if now - p.since >= min_idle][:count]
        out: list[Delivery[WireMessage]] = []
        for seq in sorted(stale):
            out.extend(self._deliver(topic, group, seq, consumer, name))
        return out

    def release_consumer(self, consumer: str) -> int:
        """A consumer died: hand its pending entries to the next reader of each group."""
        released = 0
        for topic in self._topics.values():
            for group in topic.groups.values():
                mine = sorted(s for s, p in group.pending.items() if p.consumer == consumer)
                group.released.extend(mine)
                released += len(mine)
            if released:
                topic.changed.set()
                topic.changed = asyncio.Event()
        return released

    def dropped(self, name: str) -> int:
        return self._topic(name).dropped


async def wait_for_entries(log: MemoryLog, name: str, block: float) -> None:
    """Sleep until something is appended to ``name`` or ``block`` seconds pass."""
    if block <= 0:
        return
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
    # arrives as the event fires, which leaves consumer loops impossible to stop.
    try:
        async with asyncio.timeout(block):
            await log.waiter(name).wait()
    except TimeoutError:
        return


class MemoryBus(Bus):
    def __init__(self, log: MemoryLog | None = None) -> None:
        self.log = log or MemoryLog()

    async def publish_by_name(self, name: str, message: WireMessage) -> str:
        return self.log.append(name, message)

    async def read_by_name(
        self, name: str, group: str, consumer: str, count: int, block: float
    ) -> list[Delivery[WireMessage]]:
        out = self.log.take(name, group, consumer, count)
        if not out:
            await wait_for_entries(self.log, name, block)
            out = self.log.take(name, group, consumer, count)
        return out

    async def ack_by_name(self, name: str, group: str, ids: list[str]) -> int:
        return self.log.ack(name, group, ids)

    async def reclaim_by_name(
        self, name: str, group: str, consumer: str, min_idle: float, count: int
    ) -> list[Delivery[WireMessage]]:
        return self.log.reclaim(name, group, consumer, min_idle, count)

    async def dropped_by_name(self, name: str) -> int:
        return self.log.dropped(name)

    async def close(self) -> None:
        return None


_NAMED: dict[str, MemoryBus] = {}


def named_memory_bus(name: str) -> MemoryBus:
    bus = _NAMED.get(name)
    if bus is None:
        bus = _NAMED[name] = MemoryBus()
    return bus
