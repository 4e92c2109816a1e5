"""Today's numbers for the wall display: alerts by level and state, SLA compliance, cameras.

SLA compliance (docs/integration.md §4: sign within 30 s, feedback within 30 min), from the
timeline (:meth:`core.store.Store.alert_times`):

* **sign** — of today's alerts that have been answered (signed, or dismissed straight from
  new) or whose sign deadline has passed, the share answered within the deadline;
* **feedback** — of today's signed alerts that have feedback or whose feedback deadline
  (from signing) has passed, the share with feedback in time. An alert dismissed after
  signing owes no feedback, so it counts only if its deadline passed before the dismissal.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from console.settings import SlaDue
from core.retention import RETENTION, RetentionStats
from core.store.stats import AlertTimes


def day_start(now: float, timezone: str) -> float:
    """Midnight of ``now``'s day in ``timezone``, as POSIX seconds."""
    local = dt.datetime.fromtimestamp(now, ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _share(due_s: float, due: int, met: int) -> dict[str, Any]:
    return {"due_s": due_s, "due": due, "met": met, "share": (met / due) if due else None}


def sign_share(alerts: Iterable[AlertTimes], now: float, due_s: float) -> dict[str, Any]:
    due = met = 0
    for a in alerts:
        answered = a.signed_at if a.signed_at is not None else a.dismissed_at
        deadline = a.raised_at + due_s
        if answered is not None or now >= deadline:
            due += 1
            met += answered is not None and answered <= deadline
    return _share(due_s, due, met)


def feedback_share(alerts: Iterable[AlertTimes], now: float, due_s: float) -> dict[str, Any]:
    due = met = 0
    for a in alerts:
        if a.signed_at is None:
            continue
        deadline = a.signed_at + due_s
        ended = a.dismissed_at if a.feedback_at is None else None
        if a.feedback_at is not None or min(now, ended if ended is not None else now) >= deadline:
            due += 1
            met += a.feedback_at is not None and a.feedback_at <= deadline
    return _share(due_s, due, met)


def alert_stats(alerts: list[AlertTimes], now: float, sla: SlaDue) -> dict[str, Any]:
    """Counts and SLA shares over ``alerts`` (today's, from the store)."""
    levels = Counter(str(a.level) for a in alerts)
    states = Counter(a.state.value for a in alerts)
    return {
        "alerts": {"total": len(alerts), "by_level": dict(sorted(levels.items())),
                   "by_state": dict(sorted(states.items()))},
        "sla": {"sign": sign_share(alerts, now, sla.sign),
                "feedback": feedback_share(alerts, now, sla.feedback)},
    }


def evidence_use(stats: RetentionStats = RETENTION) -> dict[str, Any]:
    """Evidence disk use as the last retention round measured it (core/retention.py): the
    folder is walked there, not on every dashboard refresh."""
    return {"bytes": stats.evidence_bytes, "files": stats.evidence_files,
            "quota_bytes": stats.quota_bytes, "measured_at": stats.measured_at,
            "quota_unmet": stats.quota_unmet}
