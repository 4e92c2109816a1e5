from __future__ import annotations

import random

import pytest

from core.clock import FakeClock
from core.errors import FatalError, RetryableError
from core.retry import Backoff, retry


@pytest.mark.parametrize(("attempt", "ceiling"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0),
                                                  (4, 5.0), (50, 5.0)])
def test_ceiling_doubles_then_caps(attempt: int, ceiling: float) -> None:
    assert Backoff(base=0.5, cap=5.0).ceiling(attempt) == ceiling


def test_full_jitter_stays_within_the_ceiling_and_spreads() -> None:
    rng = random.Random(7)
    draws = [Backoff(0.5, 5.0).delay(10, rng) for _ in range(500)]
    assert all(0.0 <= d <= 5.0 for d in draws)
    assert min(draws) < 1.0 and max(draws) > 4.0


def test_retry_retries_only_retryable_errors() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableError("down")
        return "up"

    assert retry(flaky, Backoff(jitter=False), attempts=5, sleep=sleeps.append) == "up"
    assert sleeps == [0.5, 1.0]

    def fatal() -> None:
        raise FatalError("bad password")

    with pytest.raises(FatalError):
        retry(fatal, Backoff(), attempts=5, sleep=sleeps.append)
    assert len(sleeps) == 2


def test_retry_gives_up_after_attempts() -> None:
    def down() -> None:
        raise RetryableError("still down")

    with pytest.raises(RetryableError):
        retry(down, Backoff(jitter=False), attempts=3, sleep=lambda _s: None)


def test_fake_clock_moves_only_forward() -> None:
    clock = FakeClock(100.0)
    clock.advance(2.5)
    assert (clock.now(), clock.monotonic()) == (102.5, 2.5)
    with pytest.raises(ValueError):
        clock.advance(-1)
