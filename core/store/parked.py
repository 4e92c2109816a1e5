"""Parked bus messages: entries a consumer could not process after several deliveries.

A message whose handling raises (a bug, a value no stage expected) would otherwise stay
unacknowledged and stop its consumer on every delivery, for good. After a configured number
of failed deliveries :mod:`core.consume` writes it here and acknowledges it, so the
messages behind it flow again and the poison one is kept, whole, for a person to look at
(``GET /api/admin/parked-messages``).

The table is added by schema migration 3. ``payload`` is the message in the wire codec's
JSON, exactly as the bus handed it over (re-encoded from the decoded message), so it can be
inspected or published again by hand once the cause is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.store.engine import StoreBase
from core.store.schema import metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME: sa.Double[float] = sa.Double()

parked_messages = sa.Table(
    "parked_messages", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("task", sa.String(128), nullable=False),
    sa.Column("topic", sa.String(128), nullable=False),
    sa.Column("entry_id", sa.String(64), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_failed_at", _TIME, nullable=False),
    sa.Column("parked_at", _TIME, nullable=False),
    sa.Index("ix_parked_topic_entry", "topic", "entry_id"),
)

V3_TABLES = [parked_messages]
"""The tables migration 3 creates."""


def create_v3(conn: Connection) -> None:
    metadata.create_all(conn, tables=V3_TABLES)


@dataclass(frozen=True, slots=True)
class Poison:
    """A bus entry given up on: which consumer (``task``) failed it, where it came from,
    the message as wire JSON, the last error, and how often and since when it failed."""

    task: str
    topic: str
    entry_id: str
    payload: str
    error: str
    attempts: int
    first_failed_at: float


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """A :class:`Poison` as stored: with its row ``id`` and when it was parked."""

    id: int
    parked_at: float
    poison: Poison


def _parked(row: sa.Row[tuple[object, ...]]) -> ParkedMessage:
    m = row._mapping
    poison = Poison(task=m["task"], topic=m["topic"], entry_id=m["entry_id"],
                    payload=m["payload"], error=m["error"], attempts=m["attempts"],
                    first_failed_at=m["first_failed_at"])
    return ParkedMessage(id=m["id"], parked_at=m["parked_at"], poison=poison)


class ParkedStore(StoreBase):
    def park_message(self, poison: Poison) -> ParkedMessage:
        """Keep ``poison`` (parked now). Not de-duplicated: an entry parked again after a
        lost acknowledgement appears twice, which is louder than losing it."""
        now = self.clock.now()
        values = {
            "task": poison.task, "topic": poison.topic, "entry_id": poison.entry_id,
            "payload": poison.payload, "error": poison.error, "attempts": poison.attempts,
            "first_failed_at": poison.first_failed_at, "parked_at": now,
        }
        stmt = parked_messages.insert().values(values).returning(parked_messages.c.id)
        with self.write() as conn:
            row_id = conn.execute(stmt).scalar_one()
        return ParkedMessage(id=int(row_id), parked_at=now, poison=poison)

    def parked(self, limit: int = 50, offset: int = 0) -> list[ParkedMessage]:
        """Parked messages, newest first, one page at a time."""
        stmt = (sa.select(parked_messages).order_by(parked_messages.c.id.desc())
                .limit(limit).offset(offset))
        with self.read() as conn:
            return [_parked(row) for row in conn.execute(stmt)]
