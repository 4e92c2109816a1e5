"""Watchlist entries (布控/撤控) and the audit log.

Every watchlist change writes its audit row in the same transaction, so there is no deploy
or withdrawal without a record of who did it (docs/integration.md §5: "both audited").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core.store import schema
from core.store.engine import StoreBase
from core.store.records import AuditEntry, JsonValue, NotFoundError, WatchlistRow
from core.store.sql import dump_json, load_json, upsert

_W, _L = schema.watchlist_entries, schema.audit_log
LIVE = ("active", "pending_approval")
IMPORT_BATCH = 1000
"""Rows per executemany in :meth:`AdminStore.import_watchlist_entries`."""
EXPIRED = "expired"
"""The statuses the store itself reads or writes (:meth:`AdminStore.expire_watchlist`); the
same words as ``alerts.watchlist.EntryStatus``, which owns them."""


def _row(row: Any) -> WatchlistRow:
    return WatchlistRow(
        entry_id=row.entry_id, plate=row.plate, pattern=row.pattern, category=row.category,
        level=row.level, reason=row.reason, applicant=row.applicant, unit=row.unit,
        valid_from=row.valid_from, valid_until=row.valid_until, scope=load_json(row.scope),
        status=row.status, approved_by=row.approved_by, withdrawn_reason=row.withdrawn_reason,
        source=row.source, entry=load_json(row.entry), updated_at=row.updated_at,
    )


def _values(entry: WatchlistRow, now: float) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id, "plate": entry.plate, "pattern": entry.pattern,
        "category": entry.category, "level": entry.level, "reason": entry.reason,
        "applicant": entry.applicant, "unit": entry.unit, "valid_from": entry.valid_from,
        "valid_until": entry.valid_until, "scope": dump_json(entry.scope),
        "status": entry.status, "approved_by": entry.approved_by,
        "withdrawn_reason": entry.withdrawn_reason, "source": entry.source,
        "entry": dump_json(entry.entry), "updated_at": now,
    }


def _bulk_upsert(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (entry_id) DO UPDATE, without values: executemany fills it."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_W)
    update = {c.name: stmt.excluded[c.name] for c in _W.columns if c.name != "entry_id"}
    return stmt.on_conflict_do_update(index_elements=["entry_id"], set_=update)


class AdminStore(StoreBase):
    def upsert_watchlist_entry(self, entry: WatchlistRow, by: str) -> WatchlistRow:
        """Create or replace an entry (keyed by ``entry_id``) and audit it as ``by``."""
        now = self.clock.now()
        detail: JsonValue = {"plate": entry.plate, "status": entry.status, "level": entry.level,
                             "reason": entry.reason}
        with self.write() as conn:
            conn.execute(upsert(self.dialect, _W, _values(entry, now), ["entry_id"]))
            self._audit(conn, by, "watchlist.upsert", f"watchlist:{entry.entry_id}", detail)
            return _row(conn.execute(sa.select(_W).where(_W.c.entry_id == entry.entry_id)).one())

    def import_watchlist_entries(self, entries: Sequence[WatchlistRow], by: str, obj: str,
                                 detail: JsonValue) -> int:
        """Create or replace many entries and write ONE audit row (``watchlist.import`` on
        ``obj``), all in one transaction: an import is all or nothing, even when the
        process dies halfway (nothing is visible before the commit). Rows go in batches of
        :data:`IMPORT_BATCH` (executemany), so 70,000 rows take seconds, not the quarter of
        an hour that a commit (and fsync) per row took."""
        now = self.clock.now()
        with self.write() as conn:
            for start in range(0, len(entries), IMPORT_BATCH):
                batch = [_values(e, now) for e in entries[start:start + IMPORT_BATCH]]
                conn.execute(_bulk_upsert(self.dialect), batch)
            self._audit(conn, by, "watchlist.import", obj, detail)
        return len(entries)

    def get_watchlist_entry(self, entry_id: str) -> WatchlistRow | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_W).where(_W.c.entry_id == entry_id)).first()
        return None if row is None else _row(row)

    def list_watchlist_entries(
        self, status: str | None = None, source: str | None = None
    ) -> list[WatchlistRow]:
        """Entries by ``entry_id``, optionally only one status and/or source."""
        stmt = sa.select(_W).order_by(_W.c.entry_id)
        if status is not None:
            stmt = stmt.where(_W.c.status == status)
        if source is not None:
            stmt = stmt.where(_W.c.source == source)
        with self.read() as conn:
            return [_row(row) for row in conn.execute(stmt)]

    def set_watchlist_status(
        self, entry_id: str, status: str, by: str, reason: str | None = None
    ) -> WatchlistRow:
        """Change an entry's status (approve, withdraw ...), audited with ``reason``.

        ``reason`` is also kept as ``withdrawn_reason`` when given (withdrawal needs one; the
        watchlist module enforces that rule, the store records it).
        """
        values: dict[str, Any] = {"status": status, "updated_at": self.clock.now()}
        if reason is not None:
            values["withdrawn_reason"] = reason
        with self.write() as conn:
            stmt = sa.update(_W).where(_W.c.entry_id == entry_id).values(values)
            if conn.execute(stmt).rowcount != 1:
                raise NotFoundError(f"watchlist entry {entry_id}")
            self._audit(conn, by, f"watchlist.{status}", f"watchlist:{entry_id}",
                        {"status": status, "reason": reason})
            return _row(conn.execute(sa.select(_W).where(_W.c.entry_id == entry_id)).one())

    def expire_watchlist(self, now: float) -> list[str]:
        """Move live (active or pending-approval) entries whose ``valid_until`` has passed to
        ``expired`` (audited as ``system``); returns their ids. The stored ``entry`` blob is
        left as it was: its owner re-derives the status at read time."""
        due = sa.and_(_W.c.status.in_(LIVE), _W.c.valid_until.is_not(None),
                      _W.c.valid_until <= now)
        with self.write() as conn:
            ids = list(conn.execute(sa.select(_W.c.entry_id).where(due)
                                    .order_by(_W.c.entry_id)).scalars())
            if ids:
                conn.execute(sa.update(_W).where(_W.c.entry_id.in_(ids))
                             .values(status=EXPIRED, updated_at=self.clock.now()))
            for entry_id in ids:
                self._audit(conn, "system", "watchlist.expired", f"watchlist:{entry_id}",
                            {"valid_until_passed_at": now})
        return ids

    def audit(self, who: str, action: str, obj: str, detail: JsonValue = None) -> int:
        """Record that ``who`` did ``action`` to ``obj`` now; returns the entry id."""
        with self.write() as conn:
            return self._audit(conn, who, action, obj, detail)

    def audit_log(
        self, obj: str | None = None, who: str | None = None, since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Audit entries, newest first, optionally for one object, one person, or since."""
        stmt = sa.select(_L).order_by(_L.c.at.desc(), _L.c.id.desc()).limit(limit)
        if obj is not None:
            stmt = stmt.where(_L.c.object == obj)
        if who is not None:
            stmt = stmt.where(_L.c.who == who)
        if since is not None:
            stmt = stmt.where(_L.c.at >= since)
        with self.read() as conn:
            return [AuditEntry(r.id, r.at, r.who, r.action, r.object, load_json(r.detail))
                    for r in conn.execute(stmt)]

    def _audit(
        self, conn: sa.Connection, who: str, action: str, obj: str, detail: JsonValue
    ) -> int:
        result = conn.execute(_L.insert().values(
            at=self.clock.now(), who=who, action=action, object=obj, detail=dump_json(detail),
        ))
        key = result.inserted_primary_key
        if key is None:
            raise RuntimeError("audit_log insert returned no id")
        return int(key[0])
