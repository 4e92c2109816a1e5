"""Plate search (车辆查询) at scale: N sightings in PostgreSQL, typical wildcard queries timed.

``nice -n 10 .venv/bin/python -m bench.plate_search [--rows N] [--admin-url URL]`` creates
a database of its own (``vigil_bench_plates_<random>`` next to the admin URL's database),
migrates it with :func:`core.store.open_store` (so the schema and the plate-keys GIN index
are exactly a deployment's), drops the sightings indexes, bulk-loads N sightings with
``COPY``, builds the indexes again (:func:`core.store.plate_search.create_search_index` for
the GIN one), runs ``ANALYZE`` and then times each query ``--repeat`` times through
:meth:`core.store.Store.search_sightings` (the code the console route calls: SQL built,
run, rows decoded), printing p50 and max milliseconds for a 50-row page. The first run of
each query counts too (it may read pages from disk). The database is dropped at the end
(``--keep`` keeps it).

Data (seed 2026): a vehicle population of ``--plates`` distinct plates from
:func:`alerts.plategen.random_plates` (the format mix of a city street), each vehicle
passing with a Zipf-like frequency (a few commuters pass daily, most vehicles once or
twice), 1,000 cameras (20-digit GB/T 28181 ids), 30 days of passes in arrival order (the
table is physically in time order, as an append-only table is), a message body as the
store writes it (the codec JSON of the sighting; the first rows are decoded as a check).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import TypeVar

import psycopg
from psycopg import sql

from alerts.plategen import random_plates
from core import codec
from core.clock import SystemClock
from core.messages import Sighting
from core.store import Store, open_store, schema
from core.store.plate_search import KEYS_INDEX, SightingSearch, create_search_index, parse_pattern

T = TypeVar("T")
DAY = 86400.0
START = 1_780_000_000.0
"""The first pass (2026-05-28): fixed, so two runs load the same rows."""
COLUMNS = ("id", "camera_id", "plate_norm", "plate_raw", "plate_type", "color", "confidence",
           "seen_at", "first_seen", "last_seen", "final", "snapshot", "plate_crop", "body")
CHUNK = 20_000
"""Rows per COPY write."""


def camera_ids(count: int) -> list[str]:
    return [f"3402000000132{n:07d}" for n in range(count)]


def _kind(plate: str) -> tuple[str, str]:
    """(plate_type, color) as the reader reports them, by format (good enough for a load)."""
    if len(plate) == 8:
        return "ne_small", "green"
    if plate.endswith(("挂", "学")):
        return "trailer", "yellow"
    if plate.startswith("使"):
        return "embassy", "black"
    return "small", "blue"


def _body(sid: str, cam: str, plate: str, conf: float, at: float) -> str:
    """The codec JSON of the sighting (checked against :func:`core.codec.decode`)."""
    kind, snap = _kind(plate), _snap(sid, at)
    ev = (f'{{"snapshot":"{snap}.jpg","plate_crop":"{snap}.plate.jpg","clip_from":null,'
          f'"clip_to":null,"frame_seq":null,"box":null,"clip":null}}')
    return (f'{{"type":"sighting","data":{{"sighting_id":"{sid}","camera_id":"{cam}",'
            f'"plate":"{plate}","plate_raw":"{plate}","plate_type":"{kind[0]}",'
            f'"color":"{kind[1]}","confidence":{conf!r},"first_seen":{at!r},'
            f'"last_seen":{at + 4.0!r},"evidence":{ev},"final":true}}}}')


def _snap(sid: str, at: float) -> str:
    return f"sightings/{int(at // DAY)}/{sid}"


def rows(total: int, plates: list[str], cameras: list[str], days: float,
         seed: int = 2026) -> Iterator[str]:
    """COPY text lines, in time order. Vehicle ``k`` is drawn with weight 1/(k+1)^0.8."""
    rng = random.Random(seed)
    weights = [1.0 / (k + 1) ** 0.8 for k in range(len(plates))]
    step = days * DAY / total
    for base in range(0, total, CHUNK):
        picks = rng.choices(plates, weights=weights, k=min(CHUNK, total - base))
        for offset, plate in enumerate(picks):
            i = base + offset
            at = round(START + i * step + rng.random() * step, 3)
            cam = cameras[rng.randrange(len(cameras))]
            sid, kind, conf = f"b{i:010d}", _kind(plate), round(0.8 + rng.random() * 0.19, 3)
            snap = _snap(sid, at)
            body = _body(sid, cam, plate, conf, at)
            yield (f"{sid}\t{cam}\t{plate}\t{plate}\t{kind[0]}\t{kind[1]}\t{conf!r}\t{at!r}\t"
                   f"{at!r}\t{at + 4.0!r}\tt\t{snap}.jpg\t{snap}.plate.jpg\t{body}\n")


def check_body(line: str) -> None:
    """The generated body must be what the store itself would write."""
    fields = line.rstrip("\n").split("\t")
    message = codec.decode(fields[-1].encode())
    assert isinstance(message, Sighting) and message.sighting_id == fields[0], fields[0]
    assert codec.encode(message).decode() == fields[-1], "body differs from the codec's"


def load(url: str, total: int, plates: list[str], cameras: list[str], days: float) -> float:
    """COPY ``total`` rows into ``sightings``; returns the seconds it took."""
    began = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        with cur.copy(sql.SQL("COPY sightings ({}) FROM STDIN").format(names)) as copy:
            batch: list[str] = []
            for n, line in enumerate(rows(total, plates, cameras, days)):
                if n < 3:
                    check_body(line)
                batch.append(line)
                if len(batch) >= CHUNK:
                    copy.write("".join(batch).encode())
                    batch.clear()
            if batch:
                copy.write("".join(batch).encode())
    return time.perf_counter() - began


def drop_indexes(store: Store) -> None:
    with store.write() as conn:
        for index in schema.sightings.indexes:
            conn.exec_driver_sql(f"DROP INDEX {index.name}")
        conn.exec_driver_sql(f"DROP INDEX {KEYS_INDEX}")


def build_indexes(store: Store) -> dict[str, float]:
    """Each sightings index as the migrations create it; seconds per index."""
    took: dict[str, float] = {}
    for index in [*schema.sightings.indexes, None]:
        began = time.perf_counter()
        with store.write() as conn:
            conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
            if index is None:
                create_search_index(conn)
            else:
                index.create(conn)
        took[KEYS_INDEX if index is None else str(index.name)] = time.perf_counter() - began
    return took


def vacuum(url: str) -> float:
    """``VACUUM ANALYZE``: what autovacuum does to a table that has settled (visibility map
    set, statistics fresh), so the timings are those of a running deployment."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE sightings")
    return time.perf_counter() - began


def cases(plates: list[str], cameras: list[str], days: float) -> list[tuple[str, SightingSearch]]:
    """Typical investigator queries: each pattern alone, in an evening's two hours, in those
    two hours at two cameras, and over a week."""
    evening = START + (days - 10) * DAY + 20 * 3600
    holes = "".join("?" if i in (2, 4, 6) else c for i, c in enumerate(plates[500]))
    patterns = [plates[0], plates[len(plates) // 2], "京A?1?3?5", holes, "*123*", "京A*"]
    two = (cameras[7], cameras[420])
    filters: list[tuple[str, SightingSearch]] = [
        ("all time", SightingSearch(limit=50)),
        ("2 h", SightingSearch(since=evening, until=evening + 7200, limit=50)),
        ("2 h, 2 cameras", SightingSearch(since=evening, until=evening + 7200, cameras=two,
                                          limit=50)),
        ("7 days", SightingSearch(since=evening - 7 * DAY, until=evening, limit=50)),
    ]
    return [(f"{text:<10} {name}", dataclasses.replace(base, pattern=parse_pattern(text)))
            for text in patterns for name, base in filters]


def timed(call: Callable[[], T], repeat: int) -> tuple[float, float, T]:
    """``call`` run ``repeat`` times (at least once; the first, coldest, run counts)."""
    times: list[float] = []
    while True:
        began = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - began) * 1000)
        if len(times) >= repeat:
            return statistics.median(times), max(times), result


def run_queries(store: Store, plates: list[str], cameras: list[str], days: float,
                repeat: int) -> float:
    """Print p50/max ms per query; returns the worst max."""
    print(f"{'query':<34} {'rows':>5} {'more':>5} {'p50 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name, query in cases(plates, cameras, days):
        p50, top, (found, more) = timed(partial(store.search_sightings, query), repeat)
        print(f"{name:<34} {len(found):>5} {more!s:>5} {p50:>8.1f} {top:>8.1f}")
        worst = max(worst, top)
        if found and more:
            last = found[-1]
            page2 = dataclasses.replace(query, after=(last.seen_at, last.sighting_id))
            p50, top, _ = timed(partial(store.search_sightings, page2), repeat)
            print(f"{'  … its next page':<34} {'':>5} {'':>5} {p50:>8.1f} {top:>8.1f}")
            worst = max(worst, top)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--plates", type=int, default=0,
                        help="distinct vehicles (default rows / 10, at most 2,000,000)")
    parser.add_argument("--cameras", type=int, default=1000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    name = f"vigil_bench_plates_{uuid.uuid4().hex[:8]}"
    url = args.admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        bench(url, args)
    finally:
        if not args.keep:
            with psycopg.connect(args.admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                              .format(sql.Identifier(name)))
        else:
            print(f"kept database {name}")


def bench(url: str, args: argparse.Namespace) -> None:
    began = time.perf_counter()
    population = args.plates or min(args.rows // 10, 2_000_000)
    plates = random_plates(random.Random(2026), max(population, 1000))
    cameras = camera_ids(args.cameras)
    store = open_store(url, SystemClock())
    try:
        drop_indexes(store)
        copied = load(url, args.rows, plates, cameras, args.days)
        print(f"COPY {args.rows:,} rows ({len(plates):,} vehicles, {len(cameras)} cameras, "
              f"{args.days:g} days): {copied:.1f} s ({args.rows / copied:,.0f} rows/s)")
        for index, took in build_indexes(store).items():
            print(f"  index {index}: {took:.1f} s")
        print(f"  VACUUM ANALYZE: {vacuum(url):.1f} s")
        with store.read() as conn:
            size = conn.exec_driver_sql(
                "SELECT pg_size_pretty(pg_total_relation_size('sightings')), "
                f"pg_size_pretty(pg_relation_size('{KEYS_INDEX}'))").one()
        print(f"load total {time.perf_counter() - began:.0f} s; table with indexes {size[0]}, "
              f"plate-keys index {size[1]}")
        worst = run_queries(store, plates, cameras, args.days, args.repeat)
        print(f"slowest query (max of {args.repeat} runs): {worst:.1f} ms")
    finally:
        store.close()


if __name__ == "__main__":
    main()
