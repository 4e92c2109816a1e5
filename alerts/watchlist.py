"""Watchlist entries (布控) and their lifecycle: deploy, approve, withdraw (撤控), expire.

An entry is shaped on the GA/T 1400 ``Disposition`` object (docs/integration.md §2, §5) so that
exporting it to a 视图库 platform is a renaming, not a redesign: ``entry_id`` ↔ DispositionID,
``plate``/``pattern`` ↔ TargetFeature, ``level`` ↔ PriorityLevel, ``applicant``/``unit`` ↔
ApplicantName/ApplicantOrg, ``valid_from``/``valid_until`` ↔ BeginTime/EndTime, ``scope`` ↔
DispositionRange + TollgateList/DispositionArea, ``status`` ↔ DispositionStatus
(:data:`DISPOSITION_STATUS`), ``reason`` ↔ Reason.

Every lifecycle step is a pure function returning a new entry; persisting it (and its audit
trail: who, when, why — all carried on the entry) is the store's job. Expiry needs no job at
all: :func:`status_at` derives it from ``valid_until`` and the event time, so an entry stops
hitting at its EndTime even if nobody ever writes "expired" down (:func:`expire` does, for the
store).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from alerts.matching import PatternError, Strictness, is_pattern
from alerts.matching import parse_pattern as _parse_pattern
from alerts.matching_index import Match, WatchlistIndex
from core.errors import FatalError, TransitionError
from core.plates import DEFAULT_CONFUSIONS, Confusions, correct, is_valid, normalize


class Category(enum.StrEnum):
    WANTED = "wanted"
    STOLEN = "stolen"
    KEY_VEHICLE = "key_vehicle"
    CLONED_SUSPECT = "cloned_suspect"
    CUSTOM = "custom"


CATEGORY_ALIASES: Mapping[str, Category] = {
    "盗抢": Category.STOLEN, "被盗抢": Category.STOLEN, "在逃": Category.WANTED,
    "通缉": Category.WANTED, "重点": Category.KEY_VEHICLE, "重点车辆": Category.KEY_VEHICLE,
    "套牌": Category.CLONED_SUSPECT, "自定义": Category.CUSTOM,
}
"""Chinese names accepted for categories in watchlist files."""


class EntryStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


DISPOSITION_STATUS: Mapping[EntryStatus, int] = {
    EntryStatus.ACTIVE: 0, EntryStatus.WITHDRAWN: 1, EntryStatus.EXPIRED: 2,
}
"""GA/T 1400 ``DispositionStatus``; a pending entry has not been deployed and has no code."""
LEVELS = range(1, 5)
"""1 is the most urgent (一级布控), 4 the least."""


class WatchlistError(FatalError):
    """A deploy, approve or withdraw that cannot be honoured. ``problems`` holds one
    ``field: why`` line per reason, all of them, so a form can mark every bad field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _area_prefix(code: str) -> str:
    """``110000`` → ``11`` (province), ``110100`` → ``1101`` (city), else as written."""
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an entry applies. All three empty = every camera ("deploy once, respond
    network-wide"). ``areas`` are GB/T 2260 codes of 2 (province), 4 (city) or 6 (county)
    digits, matched against the first digits of a 20-digit GB/T 28181 camera id; a camera
    without such an id is in no area (list it by id or group instead)."""

    cameras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    @property
    def network_wide(self) -> bool:
        return not (self.cameras or self.groups or self.areas)

    def contains(self, camera_id: str, group: str | None) -> bool:
        if self.network_wide or camera_id in self.cameras or group in self.groups:
            return True
        if len(camera_id) != 20 or not camera_id.isdigit():
            return False
        return any(camera_id.startswith(_area_prefix(area)) for area in self.areas)

    def __str__(self) -> str:
        if self.network_wide:
            return "all"
        parts = [f"camera:{c}" for c in self.cameras] + [f"group:{g}" for g in self.groups]
        return ";".join(parts + [f"area:{a}" for a in self.areas])


NETWORK_WIDE = Scope()
_SCOPE_KINDS = ("camera", "group", "area")


def parse_scope(text: str) -> Scope:
    """``all`` (or empty) or ``;``-separated ``camera:ID``, ``group:NAME``, ``area:CODE``
    items. Raises ``ValueError`` naming the bad item."""
    items = [item.strip() for item in text.replace("；", ";").split(";") if item.strip()]
    if not items or items == ["all"]:
        return NETWORK_WIDE
    found: dict[str, list[str]] = {kind: [] for kind in _SCOPE_KINDS}
    for item in items:
        kind, sep, value = (part.strip() for part in item.partition(":"))
        if not sep or kind not in found or not value:
            raise ValueError(f"'{item}' is not camera:ID, group:NAME or area:CODE "
                             "(or 'all' alone)")
        if kind == "area" and (not value.isdigit() or len(value) not in (2, 4, 6)):
            raise ValueError(f"area '{value}' must be a GB/T 2260 code of 2, 4 or 6 digits")
        found[kind].append(value)
    return Scope(tuple(found["camera"]), tuple(found["group"]), tuple(found["area"]))


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One listed plate or pattern (exactly one of ``plate``/``pattern`` is set; ``plate`` is
    normalised). Times are POSIX seconds; ``valid_until`` is exclusive."""

    entry_id: str
    plate: str | None
    pattern: str | None
    category: Category
    level: int
    reason: str
    applicant: str
    unit: str = ""
    valid_from: float | None = None
    valid_until: float | None = None
    scope: Scope = NETWORK_WIDE
    strictness: Strictness = Strictness.STRICT
    requires_approval: bool = False
    status: EntryStatus = EntryStatus.ACTIVE
    deployed_at: float | None = None
    approved_by: str | None = None
    approved_at: float | None = None
    withdrawn_by: str | None = None
    withdrawn_at: float | None = None
    withdrawn_reason: str | None = None
    source: str = ""
    """The file an entry was loaded from; empty for entries deployed from the console."""

    @property
    def target(self) -> str:
        """The plate, or the pattern: what the operator listed."""
        return self.plate if self.plate is not None else (self.pattern or "")


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """What an operator fills in to deploy (布控). ``target`` is a plate or a pattern;
    ``entry_id`` None lets :func:`deploy` pick a random one."""

    target: str
    category: Category
    level: int
    reason: str
    applicant: str
    unit: str = ""
    valid_from: float | None = None
    valid_until: float | None = None
    scope: Scope = NETWORK_WIDE
    strictness: Strictness = Strictness.STRICT
    requires_approval: bool = False
    entry_id: str | None = None
    source: str = ""


def _check_target(target: str) -> str | None:
    if is_pattern(target):
        try:
            _parse_pattern(target)
        except PatternError as exc:
            return str(exc)
        return None
    plate = normalize(target)
    if not plate:
        return "empty; write the plate (京A12345) or a pattern (京A12*)"
    if is_valid(plate):
        return None
    fixed = correct(plate)
    hint = f"did you mean {fixed}? " if is_valid(fixed) else ""
    return (f"{plate} is not a valid plate (GA 36 formats); {hint}"
            "write a pattern (京A1234?) for partial or non-standard plates")


def check_request(request: DeployRequest, at: float | None = None) -> list[tuple[str, str]]:
    """Every ``(field, why)`` wrong with ``request``; empty when it can be deployed.
    With ``at``, an end time already past is wrong too (files are checked without it)."""
    problems: list[tuple[str, str]] = []
    target_problem = _check_target(request.target)
    if target_problem:
        problems.append(("plate", target_problem))
    if request.level not in LEVELS:
        problems.append(("level", f"{request.level} is not a level; use 1 (most urgent) to 4"))
    if not request.reason.strip():
        problems.append(("reason", "a deploy needs a reason (布控事由)"))
    if not request.applicant.strip():
        problems.append(("applicant", "a deploy needs an applicant"))
    start, end = request.valid_from, request.valid_until
    if start is not None and end is not None and end <= start:
        problems.append(("valid_until", "ends before it begins; swap or fix the times"))
    elif at is not None and end is not None and end <= at:
        problems.append(("valid_until", "is already past; nothing would ever match"))
    return problems


def deploy(request: DeployRequest, at: float | None = None) -> WatchlistEntry:
    """A new entry: ``active``, or ``pending_approval`` when the request needs approval.
    ``at`` is the deploy time (``None`` for entries loaded from files).
    Raises :class:`WatchlistError` listing every problem of :func:`check_request`."""
    problems = check_request(request, at)
    if problems:
        raise WatchlistError([f"{field}: {why}" for field, why in problems])
    pattern = request.target if is_pattern(request.target) else None
    return WatchlistEntry(
        entry_id=request.entry_id or f"wl-{uuid.uuid4().hex}",
        plate=None if pattern else normalize(request.target), pattern=pattern,
        category=request.category, level=request.level, reason=request.reason.strip(),
        applicant=request.applicant.strip(), unit=request.unit.strip(),
        valid_from=request.valid_from, valid_until=request.valid_until, scope=request.scope,
        strictness=request.strictness, requires_approval=request.requires_approval,
        status=(EntryStatus.PENDING_APPROVAL if request.requires_approval
                else EntryStatus.ACTIVE),
        deployed_at=at, source=request.source,
    )


def _entity(entry: WatchlistEntry) -> str:
    return f"watchlist entry {entry.entry_id}"


def approve(entry: WatchlistEntry, by: str, at: float) -> WatchlistEntry:
    """Activate a pending entry. Four eyes: the approver may not be the applicant."""
    if entry.status is not EntryStatus.PENDING_APPROVAL:
        raise TransitionError(_entity(entry), EntryStatus.PENDING_APPROVAL, entry.status)
    if not by.strip():
        raise WatchlistError(["approved_by: say who approves"])
    if by.strip() == entry.applicant:
        raise WatchlistError([f"approved_by: {by} applied for this entry; "
                              "another person must approve it"])
    return replace(entry, status=EntryStatus.ACTIVE, approved_by=by.strip(), approved_at=at)


def withdraw(entry: WatchlistEntry, by: str, reason: str, at: float) -> WatchlistEntry:
    """Withdraw (撤控) an active or pending entry; who and why are required for the audit."""
    current = status_at(entry, at)
    if current not in (EntryStatus.ACTIVE, EntryStatus.PENDING_APPROVAL):
        raise TransitionError(_entity(entry), "active or pending_approval", current)
    problems = [] if by.strip() else ["withdrawn_by: say who withdraws"]
    if not reason.strip():
        problems.append("withdrawn_reason: a withdrawal needs a reason (撤控原因)")
    if problems:
        raise WatchlistError(problems)
    return replace(entry, status=EntryStatus.WITHDRAWN, withdrawn_by=by.strip(),
                   withdrawn_at=at, withdrawn_reason=reason.strip())


def status_at(entry: WatchlistEntry, at: float) -> EntryStatus:
    """The status at event time ``at``: a live entry past its ``valid_until`` is expired."""
    live = entry.status in (EntryStatus.ACTIVE, EntryStatus.PENDING_APPROVAL)
    if live and entry.valid_until is not None and at >= entry.valid_until:
        return EntryStatus.EXPIRED
    return entry.status


def expire(entry: WatchlistEntry, at: float) -> WatchlistEntry:
    """``entry`` with ``status`` expired if it has run out by ``at`` (else unchanged), so
    the store can record the expiry; matching does not depend on anyone calling this."""
    current = status_at(entry, at)
    return entry if current is entry.status else replace(entry, status=current)


def is_active(entry: WatchlistEntry, at: float) -> bool:
    """Whether ``entry`` can hit at event time ``at`` (approved, started, not ended)."""
    started = entry.valid_from is None or at >= entry.valid_from
    return started and status_at(entry, at) is EntryStatus.ACTIVE


def in_scope(entry: WatchlistEntry, camera_id: str, group: str | None = None) -> bool:
    """Whether a sighting at ``camera_id`` (in camera ``group``) concerns ``entry``."""
    return entry.scope.contains(camera_id, group)


class Hit(NamedTuple):
    entry: WatchlistEntry
    match: Match


class Watchlist:
    """Entries by id plus a :class:`WatchlistIndex` of those whose stored status is active.

    Withdrawn and expired entries stay readable (for the audit view) but leave the index.
    Time windows and scopes are checked per hit, at the sighting's event time. One writer at
    a time: the rule engine owns its watchlist, and a reload builds a new one.
    """

    def __init__(self, entries: Iterable[WatchlistEntry] = (),
                 confusions: Confusions = DEFAULT_CONFUSIONS) -> None:
        self._entries: dict[str, WatchlistEntry] = {}
        self._index = WatchlistIndex(confusions=confusions)
        duplicates = []
        for entry in entries:
            if entry.entry_id in self._entries:
                duplicates.append(f"entry_id: {entry.entry_id} is used twice")
            self.put(entry)
        if duplicates:
            raise WatchlistError(duplicates)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    @property
    def entries(self) -> Mapping[str, WatchlistEntry]:
        return self._entries

    def get(self, entry_id: str) -> WatchlistEntry:
        """The entry with this id; ``KeyError`` if there is none."""
        return self._entries[entry_id]

    def put(self, entry: WatchlistEntry) -> None:
        """Add or replace ``entry`` (e.g. the result of :func:`approve` or :func:`withdraw`)."""
        self._entries[entry.entry_id] = entry
        if entry.status is EntryStatus.ACTIVE:
            self._index.add(entry)
        else:
            self._index.discard(entry.entry_id)

    def remove(self, entry_id: str) -> None:
        """Forget an entry entirely (``KeyError`` if unknown); withdrawing is usually right."""
        del self._entries[entry_id]
        self._index.discard(entry_id)

    def hits(self, plate: str, camera_id: str, group: str | None, at: float) -> list[Hit]:
        """Entries that ``plate`` seen at ``camera_id`` at event time ``at`` hits: best match
        first, then the most urgent level."""
        found = []
        for match in self._index.match(plate):
            entry = self._entries[match.entry_id]
            if is_active(entry, at) and in_scope(entry, camera_id, group):
                found.append(Hit(entry, match))
        found.sort(key=lambda h: (h.match.distance, not h.match.exact, h.entry.level,
                                  h.entry.entry_id))
        return found
