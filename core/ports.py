"""Interfaces the console drives, implemented by the stage that owns the behaviour.

The console may import only ``core``; watchlist rules and dispatch callbacks belong to
``alerts``. ``vigil`` builds the ``alerts`` implementations and hands them to the console
app as these protocols, so the import direction stays down-only (docs/architecture.md).
Errors: :class:`~core.errors.RequestError` (422 with field paths),
:class:`~core.errors.ConfigError` (422, one ``source:row: field: why`` line per problem),
:class:`~core.store.records.NotFoundError` (404), :class:`~core.errors.TransitionError`
(409), :class:`~core.errors.AuthenticationError` (401).

The second half holds the store's ports: :class:`~core.store.Store` is one class of some
sixty methods, and each consumer depends on a small protocol listing only the methods it
calls (depend on the protocol, not on ``Store``). ``Store`` satisfies every one of them
structurally, which mypy checks wherever a ``Store`` is handed over; only the code that
opens and closes the store (``vigil``'s hubs and commands, the benches) names ``Store``.
A protocol that passes the store on to another consumer extends that consumer's protocol.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.clock import Clock
from core.lifecycle import Case, HolderChange, Step
from core.messages import Alert, AlertTransition, Sighting
from core.store.events import EventDetail
from core.store.parked import ParkedMessage, Poison
from core.store.plate_search import SightingRow, SightingSearch
from core.store.records import (
    AlertQuery,
    AlertRecord,
    AuditEntry,
    DispatchItem,
    DispatchRequest,
    HolderResult,
    JsonObject,
    JsonValue,
    TimelineEntry,
    WatchlistRow,
)
from core.store.retention import ExpiredSighting, Holding
from core.store.stats import AlertTimes
from core.store.users import TokenGrant, TokenRow, UserChange, UserRow


class WatchlistPort(Protocol):
    def deploy(self, fields: Mapping[str, str], by: str) -> WatchlistRow:
        """布控: ``fields`` use the CSV column names (plate or pattern, category, level,
        reason, unit, valid_from, valid_until, scope, strictness, requires_approval)."""
        ...

    def approve(self, entry_id: str, by: str) -> WatchlistRow:
        """Second-person approval; the approver must differ from the applicant."""
        ...

    def withdraw(self, entry_id: str, by: str, reason: str) -> WatchlistRow:
        """撤控; a reason is required."""
        ...

    def import_csv(self, text: str, source: str, by: str) -> list[WatchlistRow]:
        """All rows or none (one transaction): a bad row raises ConfigError listing every
        bad row; ``by`` is the applicant of every imported entry."""
        ...

    def export_csv(self) -> str: ...

    def entries(self, status: str | None = None, offset: int = 0,
                limit: int | None = None) -> tuple[list[WatchlistRow], int]:
        """One page of the entries in force, by ``entry_id``, and the total that match."""
        ...

    def entry(self, entry_id: str) -> WatchlistRow:
        """One entry in force; raises NotFoundError."""
        ...


@dataclass(frozen=True, slots=True)
class CallbackReceipt:
    """What a dispatch callback did: the alert it was filed to, and whether it was a
    repeat of one already recorded (same ``webhook-id``: nothing was added)."""

    alert_id: str
    duplicate: bool = False


class DispatchPort(Protocol):
    def callback(self, headers: Mapping[str, str], body: bytes) -> CallbackReceipt:
        """A signed status update from 110 dispatch (idempotent on ``webhook-id``)."""
        ...


# The store's ports: what each consumer calls on the store, and nothing more.


class OutboxStore(Protocol):
    """:class:`alerts.outbox.AlertPublisher`: commit an alert, publish what is pending."""

    def insert_alert(self, alert: Alert) -> AlertRecord: ...

    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def pending_publish(self, limit: int = 1000) -> list[AlertRecord]: ...

    def mark_published(self, alert_ids: Sequence[str]) -> int: ...


class ParkingStore(Protocol):
    """:func:`core.consume.store_parker`: keep a poison bus entry."""

    def park_message(self, poison: Poison) -> ParkedMessage: ...


class AlertServiceStore(OutboxStore, ParkingStore, Protocol):
    """:class:`alerts.service.AlertService` (it hands the store to its publisher and its
    parker)."""

    def add_sighting(self, sighting: Sighting) -> None: ...

    def list_alerts(self, query: AlertQuery) -> list[AlertRecord]: ...

    def timeline(self, alert_id: str) -> list[TimelineEntry]: ...

    def append_event(self, event: AlertTransition, detail: JsonObject | None = None) -> bool: ...


class DispatcherStore(Protocol):
    """:class:`alerts.dispatch.Dispatcher`: the 110 dispatch outbox."""

    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def append_event(self, event: AlertTransition, detail: JsonObject | None = None) -> bool: ...

    def enqueue_dispatch(
        self, request: DispatchRequest, not_before: float | None = None
    ) -> DispatchItem: ...

    def due_dispatches(
        self, now: float, limit: int = 100, lease: float = 60.0
    ) -> list[DispatchItem]: ...

    def mark_delivered(self, item_id: int) -> bool: ...

    def mark_failed(self, item_id: int, next_at: float, error: str) -> bool: ...

    def mark_dead(self, item_id: int, error: str) -> bool: ...


class CallbackStore(Protocol):
    """:mod:`alerts.dispatch_callback`: file a dispatch status update, once."""

    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def timeline(self, alert_id: str) -> list[TimelineEntry]: ...

    def append_event(self, event: AlertTransition, detail: JsonObject | None = None) -> bool: ...

    def audit(self, who: str, action: str, obj: str, detail: JsonValue = None) -> int: ...


class WatchlistStore(Protocol):
    """:class:`alerts.watchlist_service.WatchlistService`: the console's watchlist entries."""

    def list_watchlist_entries(
        self, status: str | None = None, source: str | None = None
    ) -> list[WatchlistRow]: ...

    def get_watchlist_entry(self, entry_id: str) -> WatchlistRow | None: ...

    def upsert_watchlist_entry(self, entry: WatchlistRow, by: str) -> WatchlistRow: ...

    def import_watchlist_entries(self, entries: Sequence[WatchlistRow], by: str, obj: str,
                                 detail: JsonValue) -> int: ...

    def expire_watchlist(self, now: float) -> list[str]: ...

    def audit(self, who: str, action: str, obj: str, detail: JsonValue = None) -> int: ...


class AlertingStore(AlertServiceStore, DispatcherStore, WatchlistStore, Protocol):
    """:mod:`vigil.alerting`: builds the watchlists, the service and its dispatcher."""


class PurgeStore(Protocol):
    """:class:`core.retention.Purger`: expire sightings and find who holds evidence."""

    def expire_sightings(self, cutoff: float, alert_cutoff: float,
                         dry_run: bool = False) -> Iterator[list[ExpiredSighting]]: ...

    def holdings(self, ids: Sequence[str]) -> dict[str, Holding]: ...

    def delete_sightings(self, ids: Sequence[str], closed_too: bool) -> list[str]: ...

    def drop_clips(self, ids: Sequence[str]) -> int: ...


class EventFeedStore(Protocol):
    """:class:`console.hub.Hub`: the ``alert_events`` log it replays and follows."""

    def last_event_id(self) -> int: ...

    def event_details_after(self, after: int, limit: int = 500) -> list[EventDetail]: ...


class ConsoleUsersStore(Protocol):
    """:mod:`console.users`: users, logins and tokens."""

    @property
    def clock(self) -> Clock: ...

    def add_user(self, user: UserRow, by: str) -> UserRow | None: ...

    def get_user(self, username: str) -> UserRow | None: ...

    def reserve_login_attempt(self, key: str, at: float, window: float,
                              limit: int) -> float | None: ...

    def clear_login_failures(self, keys: Sequence[str]) -> None: ...

    def add_token(self, token: TokenRow, by: str) -> TokenRow: ...

    def token_by_hash(self, token_hash: str) -> TokenGrant | None: ...

    def touch_token(self, token_id: int, used_at: float, expires_at: float | None) -> None: ...

    def audit(self, who: str, action: str, obj: str, detail: JsonValue = None) -> int: ...


class ConsoleStore(EventFeedStore, ConsoleUsersStore, ParkingStore, Protocol):
    """:class:`console.context.Context` (``ctx.store()``): what the console's routes call,
    plus what it hands to its hub, its users logic and its poison-message parker."""

    def list_alerts(self, query: AlertQuery) -> list[AlertRecord]: ...

    def get_alert(self, alert_id: str) -> AlertRecord | None: ...

    def timeline(self, alert_id: str) -> list[TimelineEntry]: ...

    def held_by(self, holder: str, limit: int = 1000) -> list[AlertRecord]: ...

    def append_transition(self, step: Step, expected: Case) -> AlertRecord: ...

    def change_holder(self, alert_id: str, change: HolderChange) -> HolderResult: ...

    def alert_times(self, since: float, until: float) -> list[AlertTimes]: ...

    def dispatches_for(self, alert_id: str) -> list[DispatchItem]: ...

    def dead_letters(self, limit: int = 100) -> list[DispatchItem]: ...

    def count_dead_letters(self) -> int: ...

    def retry_dead(self, item_id: int) -> bool: ...

    def parked(self, limit: int = 50, offset: int = 0) -> list[ParkedMessage]: ...

    def search_sightings(self, query: SightingSearch) -> tuple[list[SightingRow], bool]: ...

    def sighting_evidence(self, sighting_id: str) -> tuple[str | None, str | None] | None: ...

    def trajectory(
        self, plate_norm: str, start: float, end: float, limit: int = 10_000
    ) -> list[Sighting]: ...

    def list_users(self) -> list[UserRow]: ...

    def update_user(self, username: str, change: UserChange, by: str) -> UserRow: ...

    def list_tokens(self, kind: str = "api", username: str | None = None) -> list[TokenRow]: ...

    def revoke_token(self, token_id: int, by: str, action: str = "token.revoke") -> bool: ...

    def audit_log(
        self, obj: str | None = None, who: str | None = None, since: float | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]: ...
