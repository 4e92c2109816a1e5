"""The bus interface every backend implements (docs/architecture.md, rule 6).

The shape follows Redis Streams because that is the strongest contract of the three
backends: a topic is an append-only, bounded log; a *group* of consumers shares the work
(each entry goes to one consumer of the group, every group sees every entry); an entry is
*pending* until the consumer acknowledges it, and entries a dead consumer never acknowledged
can be reclaimed by a live one. ``memory://`` and ``local://`` implement the same contract,
so tests written against one hold for all.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from core.messages import WireMessage

DEFAULT_MAXLEN = 100_000
"""Entries kept per topic; older ones are dropped (and counted) — rule 4: bounded queues."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One entry handed to a consumer. ``id`` orders entries within a topic."""

    id: str
    topic: str
    message: WireMessage
    deliveries: int = 1


class Bus(abc.ABC):
    """Publish small typed facts; read them in consumer groups with acknowledgement."""

    @abc.abstractmethod
    async def publish(self, topic: str, message: WireMessage) -> str:
        """Append ``message`` to ``topic``; returns the entry id."""

    @abc.abstractmethod
    async def read(
        self, topic: str, group: str, consumer: str, count: int = 10, block: float = 1.0
    ) -> list[Delivery]:
        """Up to ``count`` entries for ``consumer`` in ``group``: first entries released by
        dead consumers, then new ones; waits at most ``block`` seconds when there are none.
        The group is created on first use and starts at the oldest retained entry."""

    @abc.abstractmethod
    async def ack(self, topic: str, group: str, ids: list[str]) -> int:
        """Mark entries done; returns how many were pending."""

    @abc.abstractmethod
    async def reclaim(
        self, topic: str, group: str, consumer: str, min_idle: float, count: int = 100
    ) -> list[Delivery]:
        """Take over entries pending longer than ``min_idle`` seconds (their consumer died)."""

    @abc.abstractmethod
    async def dropped(self, topic: str) -> int:
        """Entries discarded because the topic was full (counted, never silent)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""
