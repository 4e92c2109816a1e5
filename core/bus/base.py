"""The bus interface every backend implements (docs/architecture.md, rule 6).

The shape follows Redis Streams because that is the strongest contract of the three
backends: a topic is an append-only, bounded log; a *group* of consumers shares the work
(each entry goes to one consumer of the group, every group sees every entry); an entry is
*pending* until the consumer acknowledges it, and entries a dead consumer never acknowledged
can be reclaimed by a live one. ``memory://`` and ``local://`` implement the same contract,
so tests written against one hold for all.

Callers speak in typed topics (:class:`core.topics.Topic`): ``read(topics.SIGHTINGS, ...)``
returns ``Delivery[Sighting]``. A backend only moves entries of a *named* log (the
``*_by_name`` methods), so the typing and its one runtime check live here, once, rather
than in three backends and every consumer.
"""

from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from core.messages import WireMessage
from core.topics import Topic

log = logging.getLogger(__name__)
DEFAULT_MAXLEN = 100_000
"""Entries kept per topic; older ones are dropped (and counted) — rule 4: bounded queues."""

M = TypeVar("M", bound=WireMessage)
M_co = TypeVar("M_co", bound=WireMessage, covariant=True)


@dataclass(frozen=True, slots=True)
class Delivery(Generic[M_co]):
    """One entry handed to a consumer. ``id`` orders entries within a topic; ``topic`` is
    the topic's name. Covariant: a ``Delivery[Sighting]`` is a ``Delivery[Observation]``,
    so one handler can serve several topics."""

    id: str
    topic: str
    message: M_co
    deliveries: int = 1


class Bus(abc.ABC):
    """Publish small typed facts; read them in consumer groups with acknowledgement."""

    async def publish(self, topic: Topic[M], message: M) -> str:
        """Append ``message`` to ``topic``; returns the entry id."""
        return await self.publish_by_name(topic.name, message)

    async def read(
        self, topic: Topic[M], group: str, consumer: str, count: int = 10, block: float = 1.0
    ) -> list[Delivery[M]]:
        """Up to ``count`` entries for ``consumer`` in ``group``: first entries released by
        dead consumers, then new ones; waits at most ``block`` seconds when there are none.
        The group is created on first use and starts at the oldest retained entry."""
        raw = await self.read_by_name(topic.name, group, consumer, count, block)
        return await self._typed(topic, group, raw)

    async def ack(self, topic: Topic[Any], group: str, ids: list[str]) -> int:
        """Mark entries done; returns how many were pending."""
        return await self.ack_by_name(topic.name, group, ids)

    async def reclaim(
        self, topic: Topic[M], group: str, consumer: str, min_idle: float, count: int = 100
    ) -> list[Delivery[M]]:
        """Take over entries pending longer than ``min_idle`` seconds (their consumer died)."""
        raw = await self.reclaim_by_name(topic.name, group, consumer, min_idle, count)
        return await self._typed(topic, group, raw)

    async def dropped(self, topic: Topic[Any]) -> int:
        """Entries discarded because the topic was full (counted, never silent)."""
        return await self.dropped_by_name(topic.name)

    async def _typed(
        self, topic: Topic[M], group: str, raw: list[Delivery[WireMessage]]
    ) -> list[Delivery[M]]:
        """The entries that are what ``topic`` carries. Another message class on the topic
        (a producer of another version) is logged and acknowledged away, as an undecodable
        entry is: no consumer of the topic could use it, and left pending it would come
        back for ever."""
        out: list[Delivery[M]] = []
        for d in raw:
            if topic.carries(d.message):
                out.append(Delivery(d.id, d.topic, d.message, d.deliveries))
                continue
            log.error("dropping entry %s on %s: a %s, not a %s", d.id, topic.name,
                      type(d.message).__name__, topic.message.__name__)
            await self.ack_by_name(topic.name, group, [d.id])
        return out

    @abc.abstractmethod
    async def publish_by_name(self, name: str, message: WireMessage) -> str:
        """Append ``message`` to the log ``name``; returns the entry id."""

    @abc.abstractmethod
    async def read_by_name(
        self, name: str, group: str, consumer: str, count: int, block: float
    ) -> list[Delivery[WireMessage]]:
        """:meth:`read` on the log ``name``, whatever the entries are."""

    @abc.abstractmethod
    async def ack_by_name(self, name: str, group: str, ids: list[str]) -> int:
        """:meth:`ack` on the log ``name``."""

    @abc.abstractmethod
    async def reclaim_by_name(
        self, name: str, group: str, consumer: str, min_idle: float, count: int
    ) -> list[Delivery[WireMessage]]:
        """:meth:`reclaim` on the log ``name``, whatever the entries are."""

    @abc.abstractmethod
    async def dropped_by_name(self, name: str) -> int:
        """:meth:`dropped` of the log ``name``."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""
