"""A cluster under failure: takeover times and alert counts across a worker and a hub kill.

Run from the repository root (needs the local Redis and PostgreSQL, as ``make test``)::

    .venv/bin/python bench/cluster.py [--seconds 30]

Starts 2 hubs and 2 workers (``vigil run --role …``, separate processes) on four file
cameras reading the demo clip's plates with a watchlist rule without cool-down, and one
WebSocket client on the second hub (the one that survives). Then:

1. kills (SIGKILL) the worker holding ``cam-a`` and prints how long until every camera it
   held is leased by the other worker (polled every 50 ms in Redis);
2. after ``--seconds``, kills (SIGKILL) the hub that runs alerting and prints how long until
   the other hub holds the alerting lease;
3. after ``--seconds`` more, prints the alert counts: stored (in PostgreSQL, read through the
   surviving console), delivered (distinct alerts the WebSocket client received, live or
   replayed), missing (stored, never delivered), duplicated (stored alerts for the same
   rule and observation as another stored alert), then one JSON line.

Redis database 12 is used for the bus (its ``vigil:*`` keys are deleted before and after);
PostgreSQL gets a fresh database, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import redis
from psycopg import sql
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.cluster import Leases  # noqa: E402
from tests.e2e.cluster_support import CAMERAS, Cluster, write_config  # noqa: E402
from tests.e2e.test_run_node import TOKEN, wait_for  # noqa: E402

PG_ADMIN = os.environ.get("VIGIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]


class Listener(threading.Thread):
    """A console client: every alert id it is sent, reconnecting with its last event id."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.ids, self.last = port, set[str](), 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            url = f"ws://127.0.0.1:{self.port}/ws?token={TOKEN}&last_id={self.last}"
            try:
                with connect(url) as ws:
                    while not self.stop.is_set():
                        self.receive(ws)
            except Exception as exc:  # closed or refused: reconnect and replay from last
                print(f"console client: {exc!r}; reconnecting", file=sys.stderr)
                time.sleep(0.5)

    def receive(self, ws: Any) -> None:
        try:
            self.take(json.loads(ws.recv(timeout=1.0)))
        except TimeoutError:
            return

    def take(self, frame: dict[str, Any]) -> None:
        if isinstance(frame.get("id"), int):
            self.last = max(self.last, frame["id"])
        if frame["kind"] == "alert":
            self.ids.add(frame["data"]["alert_id"])


def stored_alerts(cluster: Cluster, hub: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = cluster.get(hub, f"/api/alerts?limit=200&offset={len(rows)}")
        rows += page["items"]
        if not page["has_more"]:
            return rows


def observation_key(alert: dict[str, Any]) -> str:
    seen = alert["observation"]
    return f'{alert["rule_id"]}/{seen.get("sighting_id") or seen.get("event_id") or seen}'


def until(check: Any, timeout: float) -> float:
    """Seconds until ``check()`` is true (polled every 50 ms)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def run(cluster: Cluster, namespace: str, bus: str, seconds: float) -> dict[str, Any]:
    client = redis.Redis.from_url(bus)
    cams = Leases(client, f"{namespace}:camera", 8.0)
    role = Leases(client, f"{namespace}:role", 8.0)
    cluster.start("hub1", "hub")
    wait_for(lambda: cluster.get("hub1", "/health"), timeout=30)
    for name, kind in (("hub2", "hub"), ("w1", "worker"), ("w2", "worker")):
        cluster.start(name, kind)
    wait_for(lambda: cluster.get("hub2", "/health"), timeout=30)
    listener = Listener(cluster.ports["hub2"])
    listener.start()
    held = wait_for(lambda: (h := cams.holders(list(CAMERAS))) and len(h) == 4
                    and len({x.owner for x in h.values()}) == 2 and h, timeout=40)
    wait_for(lambda: stored_alerts(cluster, "hub2"), timeout=60)
    victim = held["cam-a"].owner
    moved = [c for c, h in held.items() if h.owner == victim]
    os.kill(int(victim.rsplit("-", 2)[1]), signal.SIGKILL)
    worker_takeover = until(lambda: len(h := cams.holders(moved)) == len(moved) and all(
        x.owner != victim for x in h.values()), 30)
    print(f"worker SIGKILL → its {len(moved)} camera(s) leased elsewhere: {worker_takeover:.2f} s")
    time.sleep(seconds)
    leader = role.holder("alerting")
    assert leader is not None
    cluster.procs["hub1"].kill()
    hub_takeover = until(lambda: (h := role.holder("alerting")) is not None
                         and h.owner != leader.owner, 30)
    print(f"alerting hub SIGKILL → other hub leads: {hub_takeover:.2f} s")
    time.sleep(seconds)
    stored = stored_alerts(cluster, "hub2")
    time.sleep(2.0)  # the last pushes
    listener.stop.set()
    ids = {a["alert_id"] for a in stored}
    repeats = sum(n - 1 for n in Counter(map(observation_key, stored)).values())
    return {"worker_takeover_s": round(worker_takeover, 2), "cameras_moved": len(moved),
            "hub_takeover_s": round(hub_takeover, 2), "alerts_stored": len(stored),
            "alerts_delivered": len(ids & listener.ids), "alerts_missing": len(ids - listener.ids),
            "alerts_duplicated": repeats}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="run time after each kill (default 30)")
    args = parser.parse_args()
    namespace, database = f"bench-{uuid.uuid4().hex[:8]}", f"vigil_bench_{uuid.uuid4().hex[:8]}"
    bus = f"{REDIS}/12"
    keys = redis.Redis.from_url(bus)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin, \
            tempfile.TemporaryDirectory() as tmp:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        for key in keys.scan_iter("vigil:*"):
            keys.delete(key)
        write_config(Path(tmp) / "config", bus, PG_ADMIN.rsplit("/", 1)[0] + f"/{database}",
                     namespace)
        cluster = Cluster(Path(tmp) / "config", Path(tmp))
        try:
            result = run(cluster, namespace, bus, args.seconds)
        finally:
            cluster.stop()
            for key in keys.scan_iter(f"{namespace}:*"):
                keys.delete(key)
            for key in keys.scan_iter("vigil:*"):
                keys.delete(key)
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(database)))
    for name in ("alerts_stored", "alerts_delivered", "alerts_missing", "alerts_duplicated"):
        print(f"{name.removeprefix('alerts_')}: {result[name]}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
