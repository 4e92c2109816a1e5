"""The one backoff/retry helper (exponential with full jitter, capped).

Used for RTSP reconnects, Redis, the database and dispatch, so every retry loop in Vigil
behaves the same and is tuned in one place. Full jitter (delay drawn uniformly from
``[0, min(cap, base * 2**attempt)]``) spreads reconnect storms when a whole NVR comes back.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from core.errors import RetryableError

T = TypeVar("T")
log = logging.getLogger(__name__)
_RNG = random.Random()


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay policy. ``attempt`` counts failures so far, starting at 0."""

    base: float = 0.5
    cap: float = 5.0
    jitter: bool = True

    def ceiling(self, attempt: int) -> float:
        return min(self.cap, self.base * (2.0 ** min(attempt, 30)))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        top = self.ceiling(attempt)
        if not self.jitter:
            return top
        return (rng or _RNG).uniform(0.0, top)


def _wait_after(exc: RetryableError, backoff: Backoff, attempt: int, attempts: int) -> float:
    """The delay before the next attempt, or re-raise ``exc`` when none is left."""
    if attempt >= attempts - 1:
        raise exc
    wait = backoff.delay(attempt)
    log.warning("retryable failure (%s); attempt %d/%d, next in %.2fs",
                exc, attempt + 1, attempts, wait)
    return wait


def retry(
    fn: Callable[[], T],
    backoff: Backoff,
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` until it succeeds, retrying :class:`RetryableError` up to ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return fn()
        except RetryableError as exc:
            sleep(_wait_after(exc, backoff, attempt, attempts))
    raise ValueError("attempts must be >= 1")


async def aretry(
    fn: Callable[[], Awaitable[T]],
    backoff: Backoff,
    attempts: int,
) -> T:
    """Async twin of :func:`retry`."""
    for attempt in range(attempts):
        try:
            return await fn()
        except RetryableError as exc:
            await asyncio.sleep(_wait_after(exc, backoff, attempt, attempts))
    raise ValueError("attempts must be >= 1")
