"""Supervised long-running tasks: nothing that should run for ever stops silently.

Every long-running loop in Vigil (the alert consumers and ticker, the alert outbox, 110
dispatch, the rules/watchlist watcher, the console's status feed) is built from two pieces:

* :func:`guarded` runs one step (a tick, a poll; :mod:`core.consume` does the same for one
  bus message) and turns an exception into a log line and a counter instead of the end of
  the loop. Before this, one unexpected exception ended a consumer task without a word and
  alerting stopped for good (issue 11).
* :func:`supervise` runs a whole loop and, if it dies anyway (an exception escaping the
  guard, such as an error in the loop's own plumbing), logs it with its traceback, counts a
  restart and starts it again after a back-off (:class:`core.retry.Backoff`, full jitter,
  so a crash loop neither spins nor hammers the database).

The counters are process-wide (:data:`STATS`): the stages and the console's ``/metrics``
run in one process (``vigil run``), and ``core`` is the one package every stage may import.
The console renders them as ``vigil_consumer_errors_total{task}``,
``vigil_dead_letters_total{topic}`` and ``vigil_task_restarts_total{task}``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.errors import RetryableError
from core.retry import Backoff

T = TypeVar("T")
log = logging.getLogger(__name__)
Factory = Callable[[], Awaitable[None]]
RESTART_BACKOFF = Backoff(base=1.0, cap=60.0)


@dataclass
class SupervisionStats:
    """Counters for ``/metrics``; only ever increased."""

    errors: Counter[str] = field(default_factory=Counter)
    """Failed steps or messages, by task."""
    dead_letters: Counter[str] = field(default_factory=Counter)
    """Messages given up on (parked), by topic."""
    restarts: Counter[str] = field(default_factory=Counter)
    """Supervised tasks started again after they died, by task."""


STATS = SupervisionStats()
_TRACED: set[tuple[str, str]] = set()


def record_error(task: str, what: str, exc: BaseException) -> None:
    """Count one failure of ``task`` and log it in one line.

    A :class:`~core.errors.RetryableError` (database busy, bus down) is the world's fault
    and logs at WARNING. Anything else is a bug or a value nobody expected: ERROR, with the
    traceback the first time this task fails with this exception type and at DEBUG after
    that, so a failure that repeats every second does not bury the log in tracebacks.
    """
    STATS.errors[task] += 1
    if isinstance(exc, RetryableError):
        log.warning("%s: %s failed: %s", task, what, exc)
        return
    key = (task, type(exc).__qualname__)
    first = key not in _TRACED
    _TRACED.add(key)
    log.error("%s: %s failed: %s: %s", task, what, type(exc).__name__, exc,
              exc_info=exc if first else None)
    if not first:
        log.debug("%s: traceback of the failure above", task, exc_info=exc)


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What :func:`guarded` got: the step's value, or the exception it raised."""

    ok: bool
    value: T | None = None
    error: Exception | None = None


async def guarded(task: str, step: Callable[[], Awaitable[T]], what: str = "step") -> Outcome[T]:
    """Run ``step``; an exception is logged and counted (:func:`record_error`), not raised.

    Cancellation is not an exception here (``CancelledError`` is a ``BaseException``), so
    a guarded loop still stops when its task is cancelled.
    """
    try:
        return Outcome(True, await step())
    except Exception as exc:  # the point of the guard: one failure must not end the loop
        record_error(task, what, exc)
        return Outcome(False, None, exc)


def stopped(stop: asyncio.Event | None) -> bool:
    return stop is not None and stop.is_set()


async def pause(seconds: float, stop: asyncio.Event | None = None) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:  # asyncio.timeout, not wait_for (see core/bus/memory.py)
        async with asyncio.timeout(max(0.0, seconds)):
            await stop.wait()
    except TimeoutError:
        return


async def every(task: str, interval: float, step: Callable[[], Awaitable[object]],
                stop: asyncio.Event | None = None, wait_first: bool = False) -> None:
    """Run ``step`` every ``interval`` seconds, guarded, until ``stop`` is set (or for ever)."""
    if wait_first:
        await pause(interval, stop)
    while not stopped(stop):
        await guarded(task, step, "tick")
        await pause(interval, stop)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """Back-off between restarts; a task that ran ``healthy_after`` seconds before it
    died starts again from the shortest delay (it was not crash-looping)."""

    backoff: Backoff = RESTART_BACKOFF
    healthy_after: float = 60.0


async def supervise(name: str, factory: Factory, stop: asyncio.Event | None = None,
                    policy: RestartPolicy = RestartPolicy()) -> None:
    """Run ``factory()`` until ``stop`` is set (or the task is cancelled), restarting it
    with back-off whenever it raises or returns on its own; every restart is logged and
    counted, so a task never silently disappears."""
    failures = 0
    while not stopped(stop):
        started = time.monotonic()
        try:
            await factory()
        except Exception as exc:  # supervising is the point: log, count, restart
            why: str = f"died ({type(exc).__name__}: {exc})"
            error: Exception | None = exc
        else:
            if stopped(stop):
                return
            why, error = "ended by itself", None
        if time.monotonic() - started >= policy.healthy_after:
            failures = 0
        wait = policy.backoff.delay(failures)
        failures += 1
        STATS.restarts[name] += 1
        log.error("task %s %s; restart %d in %.1f s", name, why, failures, wait,
                  exc_info=error)
        await pause(wait, stop)


def start_supervised(name: str, factory: Factory, stop: asyncio.Event | None = None,
                     policy: RestartPolicy = RestartPolicy()) -> asyncio.Task[None]:
    """:func:`supervise` as a task named ``name`` (cancel it to stop)."""
    return asyncio.create_task(supervise(name, factory, stop, policy), name=name)
