"""The rule-engine benchmark runs (a small N, so the script cannot rot unnoticed)."""

from __future__ import annotations

import pytest

from bench.rules_bench import bench_rules

pytestmark = pytest.mark.slow  # runs the benchmark script (not in `make check`)


def test_bench_rules_reports_throughput() -> None:
    result = bench_rules(2_000)
    assert result["sightings"] == 2_000
    assert result["sightings_per_s"] > 0
    assert result["watchlist_alerts"] > 0
