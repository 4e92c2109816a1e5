"""Watchlist CSV import throughput through the real console app and a real SQLite store.

``.venv/bin/python -m bench.watchlist_import [--rows N] [--store URL]`` builds an N-row CSV
(random valid plates, seed 2026, about 70 bytes a row), posts it to
``POST /api/watchlists/import`` as an admin (FastAPI TestClient over the real app and
:class:`alerts.watchlist_service.WatchlistService`) and prints rows/s, plus how long a
``/health`` request took while the import ran (the import must not starve the other routes).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from alerts.plategen import random_plates
from alerts.watchlist_service import WatchlistService
from console.app import create_app
from console.deps import ConsoleDeps
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from console.users import create_api_token
from core.clock import SystemClock
from core.store import open_store
from vigil.process import settle_heap

HEADER = "plate,category,level,reason,unit,valid_until,scope\n"


def make_csv(rows: int, seed: int = 2026) -> str:
    """``rows`` distinct plates at level 3 (no approval needed), one CSV line each."""
    plates = random_plates(random.Random(seed), rows)
    lines = [f"{p},stolen,3,2026-11 盗抢车辆 批次{i // 1000},刑侦大队,2030-01-01,all\n"
             for i, p in enumerate(plates)]
    return HEADER + "".join(lines)


def probe(client: TestClient, stop: threading.Event, worst: list[float]) -> None:
    """Time ``/health`` every 50 ms while the import runs; keep the slowest."""
    while not stop.is_set():
        start = time.perf_counter()
        client.get("/health")
        worst[0] = max(worst[0], time.perf_counter() - start)
        stop.wait(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=70_000)
    parser.add_argument("--store", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = SystemClock()
        store = open_store(args.store or f"sqlite:///{Path(tmp) / 'v.db'}", clock)
        secret, _ = create_api_token(store, "bench", "admin", "bench")
        deps = ConsoleDeps(store=store, watchlists=WatchlistService(store, None, clock),
                           clock=clock, settings=ConsoleSettings(
                               live_dir=Path(tmp), evidence_dir=Path(tmp),
                               max_upload=64 * 1024 * 1024))
        app = create_app(CameraRegistry([]), TokenBook({}), None, deps, started=settle_heap)
        text = make_csv(args.rows)
        with TestClient(app) as client:
            stop, worst = threading.Event(), [0.0]
            watcher = threading.Thread(target=probe, args=(client, stop, worst))
            watcher.start()
            start = time.perf_counter()
            reply = client.post("/api/watchlists/import?source=bench", content=text.encode(),
                                headers={"Authorization": f"Bearer {secret}",
                                         "content-type": "text/csv"})
            took = time.perf_counter() - start
            stop.set()
            watcher.join()
        print(f"{args.rows:,} rows, {len(text.encode()) / 1e6:.1f} MB: HTTP {reply.status_code} "
              f"in {took:.2f} s = {args.rows / took:,.0f} rows/s; reply {len(reply.content):,} B; "
              f"slowest /health during the import {worst[0] * 1000:.0f} ms")
        store.close()


if __name__ == "__main__":
    main()
