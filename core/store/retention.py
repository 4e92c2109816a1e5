"""What the evidence retention (:mod:`core.retention`) asks of the store.

Evidence files are named after the sighting or scene event they show (``<id>_scene.jpg``,
``<id>_clip.mp4``: analytics/evidence.py), and an alert names the observation it was raised
on in the indexed ``alerts.observation_id`` column. So "may this file go?" is a question
about an observation id: :meth:`RetentionStore.holdings` answers it for a batch of ids.

An alert *holds* its evidence until it is closed or dismissed (``feedback`` still holds it:
the case is not finished), and for ``closed_alert_days`` after that. Every method works on
at most :data:`BATCH` rows per transaction, so a large purge never holds the write lock
(SQLite) or row locks (PostgreSQL) for long.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from core import codec, lifecycle
from core.messages import Sighting
from core.store import schema
from core.store.engine import StoreBase
from core.store.sql import decode_as

BATCH = 1000
"""Rows per transaction."""
TERMINAL = sorted(state.value for state in lifecycle.TERMINAL)
"""Alert states (closed, dismissed) whose evidence may expire; every other state holds it."""

_S, _A = schema.sightings, schema.alerts


class Hold(enum.Enum):
    """Who still needs the evidence of one observation id."""

    NONE = "none"
    """No sighting row and no alert: an orphan (a scene event nobody alerted on, a clip of
    a sighting already purged)."""
    SIGHTING = "sighting"
    """A sighting row that no alert refers to."""
    CLOSED = "closed"
    """Alerts refer to it and every one of them is closed or dismissed."""
    OPEN = "open"
    """An alert that is neither closed nor dismissed refers to it: never deleted."""


@dataclass(frozen=True, slots=True)
class Holding:
    hold: Hold
    ended_at: float | None = None
    """``CLOSED``: when the last of its alerts was closed or dismissed."""


@dataclass(frozen=True, slots=True)
class ExpiredSighting:
    """A sighting row deleted (or, in a dry run, that would be) and its evidence paths."""

    sighting_id: str
    paths: tuple[str, ...]


def ended_at() -> sa.ColumnElement[float]:
    """When an alert stopped being a live case (closed or dismissed)."""
    return sa.func.coalesce(_A.c.closed_at, _A.c.dismissed_at, _A.c.updated_at)


def _holding_alert(alert_cutoff: float | None) -> sa.Exists:
    """An alert on this sighting that is still open or ended at or after ``alert_cutoff``
    (``None``: only an open one)."""
    still: sa.ColumnElement[bool] = _A.c.state.not_in(TERMINAL)
    if alert_cutoff is not None:
        still = sa.or_(still, ended_at() >= alert_cutoff)
    return sa.exists().where(_A.c.observation_id == _S.c.id, still)


def _any_alert() -> sa.Exists:
    return sa.exists().where(_A.c.observation_id == _S.c.id)


def sighting_paths(snapshot: str | None, plate_crop: str | None, body: str) -> tuple[str, ...]:
    """The files a sighting row names: its pictures (columns) and its clip (the message)."""
    clip = decode_as(body, Sighting, "sightings").evidence.clip
    return tuple(p for p in (snapshot, plate_crop, clip) if p)


class RetentionStore(StoreBase):
    def expire_sightings(self, cutoff: float, alert_cutoff: float,
                         dry_run: bool = False) -> Iterator[list[ExpiredSighting]]:
        """Delete, batch by batch, sightings seen before ``cutoff`` that no alert holds
        (none at all, or only alerts that ended before ``alert_cutoff``).

        Yields each batch once it is committed, so the caller deletes files only of rows
        that are really gone. ``dry_run`` reads the same batches and deletes nothing.
        """
        where = sa.and_(_S.c.seen_at < cutoff, sa.not_(_holding_alert(alert_cutoff)))
        stmt = sa.select(_S.c.id, _S.c.snapshot, _S.c.plate_crop, _S.c.body).where(where)
        last = ""
        while True:
            with self.read() if dry_run else self.write() as conn:
                rows = conn.execute(stmt.where(_S.c.id > last).order_by(_S.c.id)
                                    .limit(BATCH)).all()
                if rows and not dry_run:
                    conn.execute(sa.delete(_S).where(_S.c.id.in_([r.id for r in rows])))
            yield [ExpiredSighting(r.id, sighting_paths(r.snapshot, r.plate_crop, r.body))
                   for r in rows]
            if len(rows) < BATCH:
                return
            last = rows[-1].id

    def holdings(self, ids: Sequence[str]) -> dict[str, Holding]:
        """Who holds the evidence of each observation id (at most :data:`BATCH` ids)."""
        wanted = list(dict.fromkeys(ids))[:BATCH]
        open_count = sa.func.sum(sa.case((_A.c.state.not_in(TERMINAL), 1), else_=0))
        alerts = (sa.select(_A.c.observation_id, open_count.label("open"),
                            sa.func.max(ended_at()).label("ended"))
                  .where(_A.c.observation_id.in_(wanted)).group_by(_A.c.observation_id))
        with self.read() as conn:
            rows = set(conn.execute(sa.select(_S.c.id).where(_S.c.id.in_(wanted))).scalars())
            held = {r.observation_id: r for r in conn.execute(alerts)}
        out: dict[str, Holding] = {}
        for key in wanted:
            alert: Any = held.get(key)
            if alert is not None and alert.open:
                out[key] = Holding(Hold.OPEN)
            elif alert is not None:
                out[key] = Holding(Hold.CLOSED, float(alert.ended))
            else:
                out[key] = Holding(Hold.SIGHTING if key in rows else Hold.NONE)
        return out

    def delete_sightings(self, ids: Sequence[str], closed_too: bool) -> list[str]:
        """Delete the rows of ``ids`` that no alert refers to (``closed_too``: none that is
        still open); the ids deleted. Checked in the deleting transaction, so an alert
        raised meanwhile keeps its sighting."""
        wanted = list(dict.fromkeys(ids))[:BATCH]
        guard = _holding_alert(None) if closed_too else _any_alert()
        with self.write() as conn:
            found = list(conn.execute(sa.select(_S.c.id).where(
                _S.c.id.in_(wanted), sa.not_(guard))).scalars())
            if found:
                conn.execute(sa.delete(_S).where(_S.c.id.in_(found)))
        return found

    def drop_clips(self, ids: Sequence[str]) -> int:
        """Forget the clip of these sightings (its file is being deleted), so a trajectory
        never offers a clip that is gone; the rows changed."""
        wanted = list(dict.fromkeys(ids))[:BATCH]
        changed = 0
        with self.write() as conn:
            for row in conn.execute(sa.select(_S.c.id, _S.c.body).where(_S.c.id.in_(wanted))):
                sighting = decode_as(row.body, Sighting, "sightings")
                if sighting.evidence.clip is None:
                    continue
                plain = replace(sighting, evidence=replace(sighting.evidence, clip=None))
                conn.execute(sa.update(_S).where(_S.c.id == row.id)
                             .values(body=codec.encode(plain).decode("utf-8")))
                changed += 1
        return changed
