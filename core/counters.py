"""Process-wide counters of the alert side that the console renders on ``/metrics``.

``core`` is the one package both the dispatcher (``alerts``) and the console may import,
and ``vigil run`` runs both in one process, so a plain counter here is what connects them
(the same pattern as :data:`core.supervise.STATS`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class DispatchStats:
    """110 dispatch outcomes; only ever increased."""

    deliveries: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Settled attempts by ``(target, result)``; result is ``delivered``, ``retried``
    (failed, another attempt is scheduled) or ``dead`` (given up on: a dead letter)."""


DISPATCH = DispatchStats()


@dataclass(slots=True)
class FlowStats:
    """How far behind the node's main process runs: the alert service's lag and the depth
    of its bus publishers' queues (worker processes report theirs in camera statuses)."""

    alert_lag_s: float | None = None
    """Age of the newest sighting when the alert service handled it (now − last_seen)."""
    sightings_handled: int = 0
    publishers: dict[str, Callable[[], int]] = field(default_factory=dict)
    """Queue depth readers of this process's bus publishers, by name."""


FLOW = FlowStats()
