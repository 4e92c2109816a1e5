"""What the capacity bench collects while ``vigil run`` works: ``/metrics`` scrapes, the
process tree's CPU and PSS, the alerts pushed on the console's WebSocket (with the time each
arrived), and afterwards the sightings in the node's store.

The WebSocket client is the console's own protocol (``/ws?token=...``, docs/console-api.md)
in a thread with its own event loop, so the sampling loop stays plain and synchronous.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from bench.capacity_node import Node, TreeSample, tree_sample
from bench.capacity_report import Alerted, Scrape, Seen, parse_metrics


@dataclass
class AlertFeed:
    """Alerts pushed to one WebSocket client: the first push of each alert id, stamped
    with the wall time it arrived (before JSON decoding)."""

    port: int
    token: str
    alerts: list[Alerted] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True,
                                        name="capacity-ws")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    async def _run(self) -> None:
        """Listen until stopped; reconnect (from the last event id) if the socket closes."""
        seen: set[str] = set()
        last_id = 0
        while not self._stop.is_set():
            try:
                last_id = await self._listen(seen, last_id)
            except Exception as exc:  # a refused or closed socket: note it, reconnect
                self.errors.append(f"{time.time():.0f} {exc!r}")
                await asyncio.sleep(1)

    async def _listen(self, seen: set[str], last_id: int) -> int:
        url = f"ws://127.0.0.1:{self.port}/ws?token={self.token}&last_id={last_id}"
        async with connect(url, max_size=None, open_timeout=30) as ws:
            while not self._stop.is_set():
                try:
                    async with asyncio.timeout(0.5):
                        raw = await ws.recv()
                except TimeoutError:
                    continue
                now = time.time()
                envelope = json.loads(raw)
                if isinstance(envelope.get("id"), int):
                    last_id = max(last_id, envelope["id"])
                alert = parsed_alert(envelope, now)
                if alert is not None and alert.alert_id not in seen:
                    seen.add(alert.alert_id)
                    self.alerts.append(alert)
        return last_id


def parsed_alert(envelope: dict[str, object], received: float) -> Alerted | None:
    """The plate alert of a live ``alert`` envelope, or ``None`` (replays of old events,
    other kinds, alerts not raised by a sighting)."""
    data = envelope.get("data")
    if envelope.get("kind") != "alert" or envelope.get("replay") or not isinstance(data, dict):
        return None
    obs = data.get("observation")
    if not isinstance(obs, dict) or not isinstance(obs.get("first_seen"), (int, float)):
        return None
    return Alerted(str(data.get("alert_id")), str(data.get("camera_id")),
                   str(data.get("subject")), str(obs.get("sighting_id")),
                   float(obs["first_seen"]), float(obs.get("last_seen") or obs["first_seen"]),
                   received)


def scrape(port: int) -> Scrape | None:
    """One ``/metrics`` reading (``None`` when the node did not answer in 5 s)."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    except httpx.HTTPError:
        return None
    return Scrape(time.time(), parse_metrics(response.text))


def sightings(db: Path) -> list[Seen]:
    """Every sighting in the node's SQLite store (one row per pass: the final vote
    replaces the early one)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        rows = conn.execute(
            "SELECT id, camera_id, plate_norm, first_seen, last_seen FROM sightings").fetchall()
    return [Seen(str(r[0]), str(r[1]), str(r[2]), float(r[3]), float(r[4])) for r in rows]


@dataclass
class Samples:
    """Everything sampled during the measured window."""

    scrapes: list[Scrape] = field(default_factory=list)
    tree: list[TreeSample] = field(default_factory=list)


def sample_for(node: Node, seconds: float, every: float, out: Samples) -> None:
    """Scrape ``/metrics`` and the process tree every ``every`` s for ``seconds``."""
    if node.proc is None:
        raise RuntimeError("the node is not running")
    deadline = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < deadline:
        if node.proc.poll() is not None:
            raise SystemExit(f"vigil run exited with {node.proc.returncode}; see {node.log}")
        reading = scrape(node.port)
        if reading is not None:
            out.scrapes.append(reading)
        out.tree.append(tree_sample(node.proc.pid))
        next_at += every
        time.sleep(max(0.0, min(next_at, deadline) - time.monotonic()))
    out.tree.append(tree_sample(node.proc.pid))
    reading = scrape(node.port)
    if reading is not None:
        out.scrapes.append(reading)


def wait_streaming(node: Node, cameras: int, timeout: float = 120.0) -> float:
    """Wait until every camera reports a decode rate above zero; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        reading = scrape(node.port)
        if reading is not None:
            fps = reading.by_camera("vigil_ingest_fps")
            if len(fps) >= cameras and all(v > 0 for v in fps.values()):
                return time.monotonic() - started
        time.sleep(1)
    raise SystemExit(f"not every camera streamed within {timeout:.0f} s; see {node.log}")
