"""The store: one class, every table, either database (chosen by URL)."""

from __future__ import annotations

from core.clock import Clock
from core.store.admin import AdminStore
from core.store.alerts import AlertStore
from core.store.dispatch import DispatchStore
from core.store.events import EventStore
from core.store.migrations import migrate
from core.store.parked import ParkedStore
from core.store.retention import RetentionStore
from core.store.sightings import SightingStore
from core.store.stats import StatsStore
from core.store.users import UserStore


class Store(SightingStore, AlertStore, DispatchStore, UserStore, AdminStore, EventStore,
            StatsStore, ParkedStore, RetentionStore):
    """Durable state for one Vigil deployment. Synchronous and thread-safe: every method
    runs in its own transaction on a pooled connection, so async code calls it through
    ``asyncio.to_thread``. Each part lives in its own module (sightings, alerts, dispatch,
    admin, users, events, stats, parked messages, retention); this class only joins them."""

    def __init__(self, url: str, clock: Clock) -> None:
        super().__init__(url, clock)
        self.schema_version = 0

    def migrate(self) -> int:
        """Apply pending schema migrations (done by :func:`open_store`)."""
        self.schema_version = migrate(self)
        return self.schema_version
