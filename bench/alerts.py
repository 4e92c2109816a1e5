"""Alert-stage benchmarks: the figures docs/watchlists.md quotes.

Run from the repository root::

    .venv/bin/python bench/alerts.py [--seed N] [--entries N] [--queries N]

Sections print independently; each is a function returning its lines, so a new section is
one function and one line in :func:`main`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# This file is named like the ``alerts`` package: drop its own folder from the import path and
# put the repository root first, so ``import alerts`` finds the package, not this script.
_HERE, _ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(_ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from alerts.lookup import watchlist_lookup  # noqa: E402
from alerts.matching import Strictness  # noqa: E402
from alerts.matching_index import WatchlistIndex  # noqa: E402
from alerts.plategen import measure_accuracy, misread, random_plates  # noqa: E402
from alerts.watchlist import Category, DeployRequest, Watchlist, deploy  # noqa: E402
from bench.rules_bench import WATCHLIST_SIZE, bench_rules, listed_plates  # noqa: E402

T0 = 1_800_000_000.0


def _percentiles(samples_ns: Sequence[int]) -> str:
    ordered = sorted(samples_ns)
    p50 = statistics.median(ordered) / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    over = sum(1 for ns in ordered if ns > 1_000_000)
    return (f"p50 {p50:6.1f} µs  p99 {p99:6.1f} µs  max {ordered[-1] / 1000:7.1f} µs  "
            f"> 1 ms: {over}")


def _time_each(call: Callable[[str], object], queries: Sequence[str]) -> list[int]:
    for query in queries[:200]:                          # warm caches and branch predictors
        call(query)
    samples: list[int] = []
    for query in queries:
        start = time.perf_counter_ns()
        call(query)
        samples.append(time.perf_counter_ns() - start)
    return samples


def _queries(rng: random.Random, listed: Sequence[str], count: int) -> list[str]:
    """Half misreads of listed plates (hits), half other random plates (misses)."""
    hits = [misread(rng, rng.choice(listed)) or listed[0] for _ in range(count // 2)]
    queries = hits + random_plates(rng, count - len(hits), exclude=listed)
    rng.shuffle(queries)
    return queries


def bench_latency(seed: int, entries: int, queries: int) -> list[str]:
    """(a) one plate against ``entries`` active entries: index alone and full ``hits()``."""
    rng = random.Random(seed)
    plates = random_plates(rng, entries)
    start = time.perf_counter()
    watchlist = Watchlist(
        deploy(DeployRequest(p, Category.STOLEN, 1 + i % 4, "bench", "bench", entry_id=f"e{i}"))
        for i, p in enumerate(plates))
    built = time.perf_counter() - start
    sample = _queries(rng, plates, queries)
    hits_ns = _time_each(lambda q: watchlist.hits(q, "cam-1", None, T0), sample)
    lines = [f"{entries:,} active entries (strict), built in {built:.2f} s; "
             f"{queries:,} queries, half of them misreads of listed plates",
             f"  Watchlist.hits()                   {_percentiles(hits_ns)}"]
    mixed = WatchlistIndex(watchlist.entries.values())
    for i, plate in enumerate(plates[: entries // 10]):       # 10 % loose, 500 patterns
        mixed.add(deploy(DeployRequest(plate, Category.STOLEN, 1, "b", "b", entry_id=f"e{i}",
                                       strictness=Strictness.LOOSE)))
    for i, plate in enumerate(plates[:500]):
        mixed.add(deploy(DeployRequest(plate[:4] + "*", Category.CUSTOM, 4, "b", "b",
                                       entry_id=f"p{i}")))
    mixed_ns = _time_each(mixed.match, sample)
    lines.append(f"  index, 10 % loose + 500 patterns  {_percentiles(mixed_ns)}")
    return lines


def bench_accuracy(seed: int) -> list[str]:
    """(b) 1,000 listed plates: false matches on 10,000 other valid plates, and the share of
    every single look-alike misread of a listed plate that hits its entry."""
    lines = []
    for strictness in (Strictness.STRICT, Strictness.EXACT, Strictness.LOOSE):
        found = measure_accuracy(seed, listed=1000, probes=10_000, strictness=strictness)
        label = f"{strictness.value} (default)" if strictness is Strictness.STRICT else strictness
        lines.append(f"  {label:<16} false matches {found.false_matches} / {found.probes:,}   "
                     f"misreads caught {found.caught:,} / {found.misreads:,} "
                     f"({100 * found.caught_share:.2f} %)")
    return lines


def bench_engine(sightings: int) -> list[str]:
    """(c) sightings/s through the rule engine (watchlist + cloned-plate rules) with the
    real :class:`Watchlist` of 100,000 active entries behind it."""
    watchlist = Watchlist(
        deploy(DeployRequest(p, Category.STOLEN, 1 + i % 4, "bench", "bench", entry_id=f"e{i}"))
        for i, p in enumerate(listed_plates()))
    result = bench_rules(sightings, watchlist_lookup(lambda: watchlist))
    return [f"  {result['sightings_per_s']:,.0f} sightings/s ({result['us_per_sighting']:.1f} µs "
            f"each; {int(result['sightings']):,} sightings, "
            f"{int(result['watchlist_alerts']):,} watchlist + "
            f"{int(result['cloned_alerts']):,} cloned-plate alerts)"]


def _section(title: str, lines: list[str]) -> None:
    print(f"== {title}")
    for line in lines:
        print(line)
    print()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--sightings", type=int, default=100_000)
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, seed {args.seed}\n")
    _section("watchlist matching latency (one plate)",
             bench_latency(args.seed, args.entries, args.queries))
    _section("watchlist matching accuracy, 1,000 listed plates, 10,000 other plates",
             bench_accuracy(args.seed))
    _section(f"rule engine throughput, real watchlist index of {WATCHLIST_SIZE:,} entries",
             bench_engine(args.sightings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
