"""Watchlists in force: entries from files (configs/watchlists) plus entries deployed from
the console (kept in the store). Implements :class:`core.ports.WatchlistPort`.

Files are the integrator's list and are reloaded when they change; console entries are
the operators' list, persisted with every transition audited. The rule engine sees one
:class:`Watchlist` holding both, rebuilt whenever either side changes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import pydantic

from alerts.watchlist import (
    EntryStatus,
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    approve,
    check_request,
    deploy,
    expire,
    status_at,
    withdraw,
)
from alerts.watchlist_export import export_csv
from alerts.watchlist_io import (
    CHINA_TZ,
    WatchlistWatcher,
    import_csv,
    request_from_cells,
)
from core.clock import Clock
from core.errors import RequestError, RetryableError
from core.ports import WatchlistStore
from core.store.records import JsonValue, NotFoundError, WatchlistRow

log = logging.getLogger(__name__)
_ENTRY = pydantic.TypeAdapter(WatchlistEntry)
CONSOLE_SOURCE = "console"
APPROVAL_LEVELS = frozenset({1, 2})
"""Levels whose console entries always need a second person's approval (docs/watchlists.md)."""
LOCK_WAIT = 10.0
"""Seconds a change waits for the service lock before answering "busy" (503)."""


def to_row(entry: WatchlistEntry) -> WatchlistRow:
    blob: Any = _ENTRY.dump_python(entry, mode="json")
    return WatchlistRow(
        entry_id=entry.entry_id, plate=entry.plate or "", pattern=entry.pattern or "",
        category=entry.category.value, level=entry.level, reason=entry.reason,
        applicant=entry.applicant, unit=entry.unit, valid_from=entry.valid_from,
        valid_until=entry.valid_until, scope=blob["scope"], status=entry.status.value,
        approved_by=entry.approved_by, withdrawn_reason=entry.withdrawn_reason,
        source=entry.source or CONSOLE_SOURCE, entry=blob)


def from_row(row: WatchlistRow) -> WatchlistEntry:
    return _ENTRY.validate_python(row.entry)


class WatchlistService:
    """Owns the merged watchlist; thread-safe (console requests run in worker threads).

    Two-person rule (issue 11, item 6): the applicant of a console entry is always the
    signed-in user who deploys or imports it, and entries of ``approval_levels`` (1 and 2,
    the most urgent: they page 110) always wait for a second person's approval."""

    def __init__(self, store: WatchlistStore, files: WatchlistWatcher | None, clock: Clock,
                 approval_levels: frozenset[int] = APPROVAL_LEVELS) -> None:
        self._store, self._files, self._clock = store, files, clock
        self._approval_levels = approval_levels
        self._lock = threading.Lock()
        self._current = Watchlist(())
        self.rebuild()

    def current(self) -> Watchlist:
        return self._current

    def rebuild(self) -> None:
        """Merge file entries with stored console entries (a console id wins a clash)."""
        stored = [from_row(r) for r in self._store.list_watchlist_entries(source=CONSOLE_SOURCE)]
        entries = {e.entry_id: e for e in (self._files.entries if self._files else ())}
        entries.update({e.entry_id: e for e in stored})
        self._current = Watchlist(tuple(entries.values()))

    def poll(self) -> bool:
        """Reload changed files and expire entries past valid_until; True if anything moved."""
        changed = bool(self._files and self._files.poll())
        if self._store.expire_watchlist(self._clock.now()):
            changed = True
        if changed:
            self.rebuild()
        return changed

    def _save(self, entry: WatchlistEntry, by: str, action: str) -> WatchlistRow:
        row = self._store.upsert_watchlist_entry(to_row(entry), by)
        self._store.audit(by, f"watchlist.{action}", entry.entry_id,
                          {"target": entry.target, "level": entry.level})
        self.rebuild()
        return row

    def _stored(self, entry_id: str) -> WatchlistEntry:
        row = self._store.get_watchlist_entry(entry_id)
        if row is None or row.source != CONSOLE_SOURCE:
            raise NotFoundError(f"no console watchlist entry {entry_id!r} (file entries are "
                                "changed in their file)")
        return from_row(row)

    def deploy(self, fields: Mapping[str, str], by: str) -> WatchlistRow:
        """布控 as ``by``, who is the applicant (naming another is refused)."""
        cells = {k: str(v) for k, v in fields.items()}
        if cells.get("applicant", "").strip() not in ("", by):
            raise RequestError([("applicant", f"must be you ({by}): the applicant is whoever "
                                 "deploys, so that someone else approves")])
        cells["applicant"] = by
        cells.pop("entry_id", None)
        request, problems = request_from_cells(cells, CONSOLE_SOURCE, CHINA_TZ)
        if request is None or problems:
            raise RequestError(problems)
        asked = cells.get("requires_approval", "").strip().lower()
        needed = request.level in self._approval_levels
        if needed and asked in {"0", "false", "no"}:
            raise RequestError([("requires_approval", f"level {request.level} entries always "
                                 "need a second person's approval")])
        approval = needed or asked in {"1", "true", "yes"}
        request = replace(request, entry_id=None, requires_approval=approval)
        now = self._clock.now()
        late = check_request(request, now)
        if late:
            raise RequestError(late)
        with self._locked():
            return self._save(deploy(request, now), by, "deploy")

    def approve(self, entry_id: str, by: str) -> WatchlistRow:
        with self._locked(), _as_request_error():
            return self._save(approve(self._stored(entry_id), by, self._clock.now()), by,
                              "approve")

    def withdraw(self, entry_id: str, by: str, reason: str) -> WatchlistRow:
        with self._locked(), _as_request_error():
            entry = withdraw(self._stored(entry_id), by, reason, self._clock.now())
            return self._save(entry, by, "withdraw")

    def import_csv(self, text: str, source: str, by: str) -> list[WatchlistRow]:
        """All rows or none, in one store transaction (a crash halfway leaves nothing).
        Parsing and row building happen before the lock; the lock covers the write and
        the in-memory merge only, so deploys wait seconds, not the whole import."""
        entries = [self._as_console(e, by)  # all rows, or a ConfigError naming every bad row
                   for e in import_csv(text, source)]
        rows = [to_row(e) for e in entries]
        pending = sum(1 for e in entries if e.status is EntryStatus.PENDING_APPROVAL)
        detail: JsonValue = {"source": source, "rows": len(rows), "pending_approval": pending}
        with self._locked():
            self._store.import_watchlist_entries(rows, by, f"watchlist-import:{source}", detail)
            merged = dict(self._current.entries)
            merged.update((e.entry_id, e) for e in entries)
            self._current = Watchlist(tuple(merged.values()))
        log.info("watchlist import %r by %s: %d rows (%d pending approval)", source, by,
                 len(rows), pending)
        return rows

    def _as_console(self, entry: WatchlistEntry, by: str) -> WatchlistEntry:
        """An imported row as a console entry applied for by the importer; levels that need
        approval wait for it."""
        needs = entry.level in self._approval_levels
        return replace(entry, source=CONSOLE_SOURCE, applicant=by, requires_approval=needs,
                       status=EntryStatus.PENDING_APPROVAL if needs else EntryStatus.ACTIVE)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The service lock, waited for at most :data:`LOCK_WAIT` seconds: a request that
        cannot get it answers 503 (retry) instead of holding a worker thread."""
        if not self._lock.acquire(timeout=LOCK_WAIT):
            raise RetryableError("the watchlist is busy (an import is being written); "
                                 "try again")
        try:
            yield
        finally:
            self._lock.release()

    def export_csv(self) -> str:
        return export_csv(self._current.entries.values())

    def entries(self, status: str | None = None, offset: int = 0,
                limit: int | None = None) -> tuple[list[WatchlistRow], int]:
        """One page of the entries in force, by ``entry_id``, and how many match in all.
        Only the page is converted to rows (a 70,000-entry list is not)."""
        now = self._clock.now()
        found = [e for e in self._current.entries.values()
                 if status is None or status_at(e, now).value == status]
        found.sort(key=lambda e: e.entry_id)
        end = None if limit is None else offset + limit
        return [to_row(expire(e, now)) for e in found[offset:end]], len(found)

    def entry(self, entry_id: str) -> WatchlistRow:
        """One entry in force (file or console); NotFoundError if there is none."""
        found = self._current.entries.get(entry_id)
        if found is None:
            raise NotFoundError(f"no watchlist entry {entry_id!r}")
        return to_row(expire(found, self._clock.now()))


@contextlib.contextmanager
def _as_request_error() -> Iterator[None]:
    """Watchlist rule violations ("another person must approve") reach the API as 422s."""
    try:
        yield
    except WatchlistError as exc:
        pairs = [tuple(p.split(": ", 1)) for p in exc.problems]
        raise RequestError([(p[0], p[-1]) for p in pairs]) from exc


