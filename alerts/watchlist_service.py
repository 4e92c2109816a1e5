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
    Watchlist,
    WatchlistEntry,
    WatchlistError,
    approve,
    check_request,
    deploy,
    expire,
    withdraw,
)
from alerts.watchlist_io import (
    CHINA_TZ,
    WatchlistWatcher,
    export_csv,
    import_csv,
    request_from_cells,
)
from core.clock import Clock
from core.errors import RequestError
from core.store import Store
from core.store.records import NotFoundError, WatchlistRow

log = logging.getLogger(__name__)
_ENTRY = pydantic.TypeAdapter(WatchlistEntry)
CONSOLE_SOURCE = "console"


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
    """Owns the merged watchlist; thread-safe (console requests run in worker threads)."""

    def __init__(self, store: Store, files: WatchlistWatcher | None, clock: Clock) -> None:
        self._store, self._files, self._clock = store, files, clock
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
        cells = {k: str(v) for k, v in fields.items()}
        cells.setdefault("applicant", by)
        cells.pop("entry_id", None)
        request, problems = request_from_cells(cells, CONSOLE_SOURCE, CHINA_TZ)
        if request is None or problems:
            raise RequestError(problems)
        approval = cells.get("requires_approval", "").strip().lower() in {"1", "true", "yes"}
        request = replace(request, entry_id=None, requires_approval=approval)
        now = self._clock.now()
        late = check_request(request, now)
        if late:
            raise RequestError(late)
        with self._lock:
            return self._save(deploy(request, now), by, "deploy")

    def approve(self, entry_id: str, by: str) -> WatchlistRow:
        with self._lock, _as_request_error():
            return self._save(approve(self._stored(entry_id), by, self._clock.now()), by,
                              "approve")

    def withdraw(self, entry_id: str, by: str, reason: str) -> WatchlistRow:
        with self._lock, _as_request_error():
            entry = withdraw(self._stored(entry_id), by, reason, self._clock.now())
            return self._save(entry, by, "withdraw")

    def import_csv(self, text: str, source: str, by: str) -> list[WatchlistRow]:
        entries = import_csv(text, source)  # all rows or a ConfigError listing every bad row
        with self._lock:
            rows = [self._store.upsert_watchlist_entry(
                to_row(_as_console(e)), by) for e in entries]
            self._store.audit(by, "watchlist.import", source, {"rows": len(rows)})
            self.rebuild()
        return rows

    def export_csv(self) -> str:
        return export_csv(self._current.entries.values())

    def entries(self, status: str | None = None) -> list[WatchlistRow]:
        now = self._clock.now()
        rows = [to_row(expire(e, now)) for e in self._current.entries.values()]
        return [r for r in rows if status is None or r.status == status]


@contextlib.contextmanager
def _as_request_error() -> Iterator[None]:
    """Watchlist rule violations ("another person must approve") reach the API as 422s."""
    try:
        yield
    except WatchlistError as exc:
        pairs = [tuple(p.split(": ", 1)) for p in exc.problems]
        raise RequestError([(p[0], p[-1]) for p in pairs]) from exc


def _as_console(entry: WatchlistEntry) -> WatchlistEntry:
    return replace(entry, source=CONSOLE_SOURCE)
