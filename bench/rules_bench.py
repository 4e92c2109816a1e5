"""Rule-engine throughput: sightings evaluated per second on one core.

Run from the repository root::

    .venv/bin/python -m bench.rules_bench [N_SIGHTINGS]

The engine runs the four example rule kinds (watchlist, scene, camera health, cloned plate)
over 200 cameras with positions. The watchlist is a plain dict of 100,000 plates (the real
watchlist index with fuzzy matching is slower and is measured by its own benchmark); 2 % of
sightings are watchlisted plates, the rest come from a pool of 100,000 other plates, so the
cloned-plate memory sees repeats at different cameras as on a real road network.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Sequence

from alerts.rules import RuleEngine, WatchlistHit, WatchlistLookup
from alerts.rules_loader import parse_rules
from core.clock import FakeClock
from core.config.models import Camera, Location
from core.messages import Alert, Sighting

START = 1_714_716_000.0
WATCHLIST_SIZE = 100_000
CAMERA_COUNT = 200
RULES = """\
rules:
  - {id: watchlist, kind: watchlist, level: 2, groups: [skynet, demo], cooldown: 300}
  - {id: night, kind: scene, level: 2, events: [intrusion], groups: [skynet],
     schedule: {windows: ["22:00-06:00"]}}
  - {id: down, kind: camera_health, level: 3, states: [offline], for: 120}
  - {id: cloned, kind: cloned_plate, level: 2, max_speed_kmh: 150, min_dt: 60,
     min_confidence: 0.9}
"""


def _cameras(rng: random.Random) -> dict[str, Camera]:
    """Cameras scattered over a 40 km square around central Beijing, in two groups."""
    cameras: dict[str, Camera] = {}
    for index in range(CAMERA_COUNT):
        location = Location(lon=116.2 + rng.random() * 0.45, lat=39.75 + rng.random() * 0.36,
                            address=f"测试路 {index} 号")
        cameras[f"cam-{index}"] = Camera(
            id=f"cam-{index}", name=f"卡口 {index}", group="skynet" if index % 2 else "demo",
            url=f"rtsp://bench.test/{index}", location=location)
    return cameras


def _sightings(rng: random.Random, count: int) -> list[Sighting]:
    made: list[Sighting] = []
    for index in range(count):
        listed = rng.random() < 0.02
        plate = f"京B{rng.randrange(WATCHLIST_SIZE):05d}" if listed \
            else f"京A{rng.randrange(100_000):05d}"
        at = START + index * 0.05
        made.append(Sighting(
            sighting_id=f"s{index}", camera_id=f"cam-{rng.randrange(CAMERA_COUNT)}",
            plate=plate, plate_raw=plate, plate_type="small", color="blue",
            confidence=0.95, first_seen=at - 1.5, last_seen=at))
    return made


def listed_plates() -> list[str]:
    """The plates on the bench watchlist (some of the bench's sightings carry them)."""
    return [f"京B{n:05d}" for n in range(WATCHLIST_SIZE)]


def dict_lookup() -> WatchlistLookup:
    """A plain dict as the watchlist: the engine's own cost, without matching."""
    index = {p: (WatchlistHit(f"entry-{n}", p, "stolen", 1 + n % 4),)
             for n, p in enumerate(listed_plates())}

    def lookup(plate: str, camera_id: str, group: str, at: float) -> Sequence[WatchlistHit]:
        return index.get(plate, ())

    return lookup


def bench_rules(n_sightings: int, lookup: WatchlistLookup | None = None) -> dict[str, float]:
    """Evaluate ``n_sightings`` sightings; returns throughput and counts. ``lookup``
    defaults to :func:`dict_lookup`; bench/alerts.py passes the real watchlist index."""
    rng = random.Random(20240503)
    cameras = _cameras(rng)
    lookup = lookup or dict_lookup()

    rules = parse_rules(RULES, "bench", list(cameras))
    engine = RuleEngine(rules, cameras, lookup, FakeClock(START))
    sightings = _sightings(rng, n_sightings)
    raised: list[Alert] = []
    began = time.perf_counter()
    for sighting in sightings:
        raised += engine.evaluate(sighting)
    elapsed = time.perf_counter() - began
    cloned = sum(1 for alert in raised if alert.category == "cloned_plate")
    return {
        "sightings": float(n_sightings),
        "seconds": elapsed,
        "sightings_per_s": n_sightings / elapsed if elapsed > 0 else float("inf"),
        "us_per_sighting": elapsed / n_sightings * 1e6 if n_sightings else 0.0,
        "watchlist_alerts": float(len(raised) - cloned),
        "cloned_alerts": float(cloned),
    }


def main(argv: list[str]) -> int:
    count = int(argv[1]) if len(argv) > 1 else 200_000
    result = bench_rules(count)
    print(f"rule engine: {result['sightings_per_s']:,.0f} sightings/s "
          f"({result['us_per_sighting']:.1f} µs each, {int(result['sightings']):,} sightings, "
          f"{int(result['watchlist_alerts']):,} watchlist + {int(result['cloned_alerts']):,} "
          f"cloned-plate alerts; dict watchlist of {WATCHLIST_SIZE:,} plates)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
