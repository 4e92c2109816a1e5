"""Durable state behind one interface chosen by URL (docs/architecture.md, rule 6).

``sqlite:///PATH`` (default; ``sqlite://`` alone is in-memory, for tests) or
``postgresql://user@host/db`` (the psycopg 3 driver). :func:`open_store` migrates the schema
before returning, so a store you hold is always at the version this code expects.
"""

from __future__ import annotations

from core.clock import Clock
from core.store.records import (
    AlertQuery,
    AlertRecord,
    AuditEntry,
    DispatchItem,
    DispatchRequest,
    DispatchState,
    JsonObject,
    JsonValue,
    NotFoundError,
    PurgeResult,
    TimelineEntry,
    WatchlistRow,
)
from core.store.store import Store

DEFAULT_URL = "sqlite:///var/vigil.db"

__all__ = [
    "DEFAULT_URL", "AlertQuery", "AlertRecord", "AuditEntry", "DispatchItem", "DispatchRequest",
    "DispatchState", "JsonObject", "JsonValue", "NotFoundError", "PurgeResult", "Store",
    "TimelineEntry", "WatchlistRow", "open_store",
]


def open_store(url: str, clock: Clock) -> Store:
    """Open (creating and migrating as needed) the store at ``url``.

    Raises :class:`~core.errors.ConfigError` for an unknown URL scheme,
    :class:`~core.errors.RetryableError` when the database is unreachable, and
    :class:`~core.errors.FatalError` when its schema is newer than this code.
    """
    store = Store(url, clock)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
