"""Interfaces the console drives, implemented by the stage that owns the behaviour.

The console may import only ``core``; watchlist rules and dispatch callbacks belong to
``alerts``. ``vigil`` builds the ``alerts`` implementations and hands them to the console
app as these protocols, so the import direction stays down-only (docs/architecture.md).
Errors: :class:`~core.errors.RequestError` (422 with field paths),
:class:`~core.errors.ConfigError` (422, one ``source:row: field: why`` line per problem),
:class:`~core.store.records.NotFoundError` (404), :class:`~core.errors.TransitionError`
(409), :class:`~core.errors.AuthenticationError` (401).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from core.store.records import WatchlistRow


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
