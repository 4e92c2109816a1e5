"""What one delivery attempt's answer means: delivered, try again later, or give up.

Kept apart from the dispatcher so the policy is one small table that tests read directly
(see :func:`classify`; the reasons are in :mod:`alerts.dispatch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({408, 425, 429})
"""4xx answers that are transient (request timeout, too early, rate limited)."""
MAX_RETRY_AFTER = 3600.0
"""A ``Retry-After`` longer than this is capped: an alert an hour late is still worth sending
but a receiver asking for a day is misconfigured, and the dead-letter list should say so."""
SNIPPET = 200
"""Characters of a refusing receiver's answer kept in ``last_error``."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt. ``retry_after`` is the receiver's wish, in seconds."""

    delivered: bool
    retryable: bool
    error: str = ""
    status: int | None = None
    retry_after: float | None = None


def classify(status: int, text: str = "", wait: float | None = None) -> Outcome:
    """Map an HTTP status (and the answer's text, for the error) to an :class:`Outcome`."""
    if 200 <= status < 300:
        return Outcome(True, False, "", status)
    snippet = " ".join(text.split())[:SNIPPET]
    detail = f"HTTP {status}" + (f": {snippet}" if snippet else "")
    if status in RETRY_STATUSES or 500 <= status < 600:
        return Outcome(False, True, detail, status, wait)
    if 300 <= status < 400:
        return Outcome(False, False, f"HTTP {status}: redirects are not followed; point the "
                                     f"target at the final URL", status)
    return Outcome(False, False, f"{detail} (refused; fix the cause, then retry the dead "
                                 f"letter)", status)


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date), capped
    at :data:`MAX_RETRY_AFTER`; ``None`` when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))
