"""The adapter between the watchlist index and the rule engine.

The engine only knows :data:`~alerts.rule_match.WatchlistLookup`, so it can be tested with
a dict; production hands it this view of a live :class:`~alerts.watchlist.Watchlist`.
The engine's ``max_distance`` counts differing characters, which is what a rule author can
reason about ("one character may be misread"), so the hit's distance is
``confusions + edits`` rather than the index's weighted cost.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alerts.rule_match import WatchlistHit, WatchlistLookup
from alerts.watchlist import Watchlist


def watchlist_lookup(current: Callable[[], Watchlist]) -> WatchlistLookup:
    """``current`` returns the watchlist in force (hot reload swaps it between calls)."""

    def lookup(plate: str, camera_id: str, group: str, at: float) -> Sequence[WatchlistHit]:
        hits = current().hits(plate, camera_id, group, at)
        return [
            WatchlistHit(
                entry_id=h.entry.entry_id,
                plate=h.entry.target,
                category=h.entry.category.value,
                level=h.entry.level,
                reason=h.entry.reason,
                distance=h.match.confusions + h.match.edits,
                exact=h.match.exact,
            )
            for h in hits
        ]

    return lookup
