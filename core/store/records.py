"""Typed values the store takes and returns (never SQLAlchemy rows, never ``dict[str, Any]``).

The store sits under every stage, so its API speaks in messages (:class:`~core.messages.Alert`,
:class:`~core.messages.Sighting`) and in the small frozen records below. Free-form JSON
exists only where the brief asks for an opaque blob (watchlist scope and source entry, audit
detail, feedback detail) and is typed as :data:`JsonValue` so it stays JSON-serialisable.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from core.errors import FatalError
from core.lifecycle import Case
from core.messages import Alert, AlertState, AlertTransition

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
"""Anything :func:`json.dumps` accepts without a custom encoder."""

JsonObject = dict[str, JsonValue]


class NotFoundError(FatalError):
    """The alert, dispatch item or watchlist entry named does not exist."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"{what}: not found")


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert as stored: the message (with its *current* state) plus workflow bookkeeping.

    ``seq`` is gap-free and increases in commit order, so "everything after seq X" never skips
    an alert that committed late (see :meth:`core.store.Store.alerts_after`).
    """

    seq: int
    alert: Alert
    claimed_by: str | None = None
    pushed_at: float | None = None
    signed_at: float | None = None
    disposed_at: float | None = None
    feedback_at: float | None = None
    closed_at: float | None = None
    dismissed_at: float | None = None

    @property
    def case(self) -> Case:
        """What :func:`core.lifecycle.transition` needs: the alert and who holds it."""
        return Case(self.alert, self.claimed_by)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of an alert's timeline; ``seq`` counts from 1 within the alert."""

    alert_id: str
    seq: int
    kind: str
    from_state: AlertState
    to_state: AlertState
    by: str
    at: float
    note: str = ""
    detail: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Filters for :meth:`core.store.Store.list_alerts`; ``None`` means "any".

    ``since``/``until`` bound the alert's ``raised_at`` (half-open: since <= t < until).
    Results are newest first.
    """

    state: AlertState | None = None
    level: int | None = None
    camera_id: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 100
    offset: int = 0
    states: tuple[AlertState, ...] = ()
    """Any of these states (with ``state``, both must hold); empty: any."""
    levels: tuple[int, ...] = ()
    camera_ids: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    claimed_by: str | None = None
    text: str | None = None
    """Case-insensitive substring of the subject (plate, ``zone:kind``, camera id; a plate
    also matches in its normalised spelling) or of the camera id."""
    text_cameras: tuple[str, ...] = ()
    """Cameras that also match ``text`` (their name or address did, in the caller's
    camera registry: the alerts table keeps only the camera id)."""


@dataclass(frozen=True, slots=True)
class HolderResult:
    """The alert as stored afterwards; ``transition`` is ``None`` when nothing changed (it
    already was the new holder's); ``previous`` held it before."""

    record: AlertRecord
    transition: AlertTransition | None
    previous: str | None = None


class DispatchState(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class DispatchRequest:
    """One body to deliver to one target. ``webhook_id`` is the receiver's de-duplication key
    (Standard Webhooks ``webhook-id``): it stays the same across retries of this delivery."""

    alert_id: str
    target: str
    webhook_id: str
    body: str
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class DispatchItem:
    """A row of the dispatch outbox."""

    id: int
    alert_id: str
    target: str
    webhook_id: str
    body: str
    content_type: str
    state: DispatchState
    attempts: int
    next_attempt_at: float
    last_error: str = ""
    created_at: float = 0.0
    delivered_at: float | None = None


@dataclass(frozen=True, slots=True)
class WatchlistRow:
    """A watchlist (布控) entry in the GA/T 1400 Disposition shape, as plain values.

    ``entry`` is the owning module's own serialisation of the entry (opaque to the store), so
    that module can evolve its dataclass without a migration. ``status`` is free text owned by
    that module too (for example ``pending``, ``active``, ``withdrawn``, ``expired``).
    """

    entry_id: str
    plate: str
    pattern: str = ""
    category: str = ""
    level: int = 1
    reason: str = ""
    applicant: str = ""
    unit: str = ""
    valid_from: float | None = None
    valid_until: float | None = None
    scope: JsonValue = None
    status: str = "active"
    approved_by: str | None = None
    withdrawn_reason: str | None = None
    source: str = ""
    entry: JsonValue = None
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    who: str
    action: str
    object: str
    detail: JsonValue = None


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What :meth:`core.store.Store.purge` removed. The caller deletes ``evidence_paths``.

    Paths still referenced by an alert are never listed: alerts are case records and keep
    their evidence.
    """

    sightings_deleted: int = 0
    evidence_cleared: int = 0
    evidence_paths: list[str] = field(default_factory=list)
