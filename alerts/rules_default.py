"""What a watchlist does when no rule says: the built-in rule and the coverage check.

A person who puts a CSV into ``watchlists/`` expects a listed plate to raise an alert; a
config folder without ``rules.yaml`` used to load the entries and raise nothing, silently.
So (docs/rules.md, "Watchlists without a rule"):

* **No ``rules.yaml`` at all** → :data:`DEFAULT_WATCHLIST_RULE`: every camera, every
  category, the entry's own level, fuzzy matches one character off, a 5-minute cool-down.
  Writing a ``rules.yaml`` replaces it (an empty one means "no rules", deliberately).
* **A ``rules.yaml`` whose watchlist rules leave entries unmatched** (no watchlist rule at
  all, or none for that category or level) → :func:`uncovered` names the files, and
  ``vigil validate-config`` and ``vigil run`` print it as a warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

from alerts.rules_config import Rule, WatchlistRule
from alerts.watchlist import WatchlistEntry

DEFAULT_WATCHLIST_RULE: Final = WatchlistRule(
    id="watchlist-default", kind="watchlist", level=2, level_from_entry=True,
    min_level=4, max_distance=1, cooldown=300.0,
    description="built in: used when the config folder has no rules.yaml")
CONSOLE_SOURCE = "console"
"""How entries deployed from the console (no file) are named in warnings."""


def _matches(rule: WatchlistRule, entry: WatchlistEntry) -> bool:
    return (rule.enabled and entry.level <= rule.min_level
            and (not rule.categories or str(entry.category) in rule.categories))


def uncovered(rules: Sequence[Rule], entries: Iterable[WatchlistEntry]) -> dict[str, int]:
    """Entries that no enabled watchlist rule matches by category and level, counted per
    source file (``console`` for entries deployed from the console)."""
    watch = [r for r in rules if isinstance(r, WatchlistRule)]
    missed = Counter(e.source or CONSOLE_SOURCE for e in entries
                     if not any(_matches(r, e) for r in watch))
    return dict(sorted(missed.items()))


def coverage_warning(rules: Sequence[Rule], entries: Iterable[WatchlistEntry]) -> str | None:
    """One sentence naming the watchlist files with entries that can never alert, or
    ``None`` when every entry is matched by some watchlist rule."""
    missed = uncovered(rules, entries)
    if not missed:
        return None
    files = ", ".join(f"{name} ({count} entr{'y' if count == 1 else 'ies'})"
                      for name, count in missed.items())
    return (f"watchlist entries that no rule in rules.yaml matches will never raise an "
            f"alert: {files}; add a `kind: watchlist` rule for their category and level "
            f"(docs/rules.md), or delete rules.yaml to use the built-in watchlist rule")
