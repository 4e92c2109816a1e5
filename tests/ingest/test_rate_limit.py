"""``max_fps`` delivers the rate asked for, on jittery arrival times, and counts the rest."""

from __future__ import annotations

import itertools
import random

import pytest

from ingest.decode import RateLimit


def delivered(limit: RateLimit, times: list[float]) -> list[float]:
    return [t for t in times if limit.allow(t)]


def jittery(fps: float, seconds: float, jitter: float, seed: int = 7) -> list[float]:
    """Arrival times of a ``fps`` camera over ``seconds``, each ±``jitter`` s (sorted)."""
    rng = random.Random(seed)
    return sorted(i / fps + rng.uniform(-jitter, jitter) for i in range(int(fps * seconds)))


@pytest.mark.parametrize(("max_fps", "low"), [(5.0, 4.95), (6.0, 5.94), (12.5, 12.37),
                                              (25.0, 24.0)])
def test_the_rate_asked_for_is_delivered_despite_jitter(max_fps: float, low: float) -> None:
    times = jittery(25.0, 60.0, jitter=0.012)
    limit = RateLimit(max_fps)
    out = delivered(limit, times)
    rate = len(out) / 60.0
    assert low <= rate <= max_fps + 0.05, rate  # the old rule gave 4.75 for 5, ~19 for 25
    assert limit.skipped == len(times) - len(out)
    # never a burst: no two deliveries closer than 3/4 of a period
    assert min(b - a for a, b in itertools.pairwise(out)) >= 0.75 / max_fps - 0.03


def test_after_a_stall_the_schedule_restarts_without_a_burst() -> None:
    limit = RateLimit(5.0)
    before = delivered(limit, [i / 25 for i in range(50)])  # 2 s
    after = delivered(limit, [10 + i / 25 for i in range(50)])  # 8 s of nothing, then 2 s
    # 2 s at 5 fps; the frame at 1.96 s is within a quarter period of 2.0 s and counts
    assert len(before) == len(after) == 11
    assert after[0] == 10.0 and after[1] >= 10.15


def test_no_limit_delivers_everything() -> None:
    limit = RateLimit(None)
    assert len(delivered(limit, jittery(25.0, 4.0, 0.01))) == 100 and limit.skipped == 0
