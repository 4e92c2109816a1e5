"""The rule engine's memory of what it already said: cool-downs and observation ids.

Both are bounded (architecture rule 4): when full, the oldest entry goes first. Losing an
old cool-down can at worst repeat an alert; it can never hide one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass

CooldownKey = tuple[str, str, str]
"""``(camera_id, rule_id, subject)``."""


@dataclass(slots=True)
class _Entry:
    last: float
    until: float


class Cooldowns:
    """Event time of the last *raised* alert per (camera, rule, subject).

    A candidate within ``cooldown`` seconds of that time (either side: observations from
    several nodes may arrive out of order) is suppressed. Suppressed candidates do not
    extend the window, so a plate that keeps passing alerts again every ``cooldown``.
    """

    def __init__(self, capacity: int = 500_000) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[CooldownKey, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def allows(self, key: CooldownKey, at: float, cooldown: float) -> bool:
        entry = self._entries.get(key)
        return entry is None or abs(at - entry.last) >= cooldown

    def record(self, key: CooldownKey, at: float, cooldown: float) -> None:
        entry = self._entries.pop(key, None)
        last = at if entry is None else max(at, entry.last)
        self._entries[key] = _Entry(last, last + cooldown)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def purge(self, now: float) -> int:
        """Forget entries whose cool-down ended before ``now``; returns how many."""
        stale = [key for key, entry in self._entries.items() if entry.until < now]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def keep_rules(self, rule_ids: Collection[str]) -> None:
        """Forget the cool-downs of rules that no longer exist (after a reload)."""
        for key in [k for k in self._entries if k[1] not in rule_ids]:
            del self._entries[key]


class RecentIds:
    """(rule id, observation id) pairs that already raised an alert.

    The plate consensus emits an early and a final Sighting for one pass with the same
    ``sighting_id`` (and the bus may redeliver any message); a pass alerts once per rule
    even when the cool-down is zero or the final vote changed the plate."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._ids

    def add(self, key: tuple[str, str]) -> None:
        self._ids[key] = None
        self._ids.move_to_end(key)
        while len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    def keep_rules(self, rule_ids: Collection[str]) -> None:
        for key in [k for k in self._ids if k[0] not in rule_ids]:
            del self._ids[key]
