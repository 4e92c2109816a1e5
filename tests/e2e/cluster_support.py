"""A cluster of ``vigil run --role hub|worker`` processes and a console WebSocket client,
shared by tests/e2e/test_cluster.py and bench/cluster.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.e2e.test_run_node import ROOT, TOKEN, free_port
from vigil.demo import ensure_demo_video

CAMERAS = ("cam-a", "cam-b", "cam-c", "cam-d")
CAPACITY = 6
"""Each worker's capacity: two of these cameras (3 units each, with analytics). Without a
bound, rendezvous hashing gives all four cameras to one of two workers one time in eight
(random member ids), and there would be no split to test; with it, the split is always two
and two, and the survivor of a kill takes all four beyond its capacity (a camera nobody
analyses is worse than an overloaded worker; core/cluster/assign.py)."""


def write_config(directory: Path, bus: str, store: str, namespace: str) -> None:
    """Four file cameras reading the demo clip's plates; a watchlist rule, no cool-down."""
    video = ensure_demo_video(directory.parent / "clip.mp4")
    (directory / "cameras").mkdir(parents=True)
    (directory / "watchlists").mkdir()
    (directory / "watchlists" / "demo.csv").write_bytes(
        (ROOT / "configs" / "watchlists" / "demo.csv").read_bytes())
    (directory / "service.yaml").write_text(
        f"bus: {bus}\nstore: '{store}'\nworkers: 1\n"
        f"evidence_dir: {directory.parent / 'evidence'}\nlive_dir: {directory.parent / 'live'}\n"
        f"cluster: {{name: {namespace}, capacity: {CAPACITY}}}\n", encoding="utf-8")
    (directory / "rules.yaml").write_text(
        "rules:\n  - {id: watch, kind: watchlist, level: 2, level_from_entry: true, "
        "cooldown: 0}\n", encoding="utf-8")
    lines = [f"  - {{id: {c}, name: {c}, group: demo, url: '{video}', analytics: [plates], "
             "ingest: {max_fps: 3}}" for c in CAMERAS]
    (directory / "cameras" / "cams.yaml").write_text("cameras:\n" + "\n".join(lines) + "\n",
                                                    encoding="utf-8")


@dataclass
class Cluster:
    """Hubs serve the console on their port; workers serve /metrics on theirs."""

    config: Path
    logs: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, role: str) -> None:
        env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        self.ports[name] = free_port()
        command = [sys.executable, "-m", "vigil.cli", "run", "--role", role,
                   "--config", str(self.config), "--bind", f"127.0.0.1:{self.ports[name]}"]
        with (self.logs / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen(command, cwd=self.logs, env=env, stdout=log,
                                                stderr=log)

    def get(self, name: str, path: str) -> Any:
        reply = httpx.get(f"http://127.0.0.1:{self.ports[name]}{path}",
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        reply.raise_for_status()
        return reply.json() if path != "/metrics" else reply.text

    def alerts(self, hub: str, query: str = "") -> list[dict[str, Any]]:
        """Every stored alert matching ``query`` (``camera_id=…&…``), all pages."""
        rows: list[dict[str, Any]] = []
        while True:
            page = self.get(hub, f"/api/alerts?limit=500&offset={len(rows)}&{query}")
            rows += page["items"]
            if not page["has_more"]:
                return rows

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def worker_pid(member: str) -> int:
    """Member ids are ``host-pid-random``."""
    return int(member.rsplit("-", 2)[1])


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (its ingest processes, their resource tracker)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = set[int](), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def observation_key(alert: dict[str, Any]) -> str:
    seen = alert["observation"]
    return f'{alert["rule_id"]}/{seen.get("sighting_id") or seen.get("event_id") or seen}'


class ConsoleClient(threading.Thread):
    """A console page's WebSocket: keeps the highest event id it processed and, when its
    connection drops, reconnects with ``?last_id=`` to the next hub of ``ports`` (a load
    balancer's job in production). Records every event envelope, repeats included, so a
    test can tell "exactly once" from "at least once"."""

    def __init__(self, ports: list[int], last_id: int = 0) -> None:
        super().__init__(daemon=True)
        self.ports, self.last = ports, last_id
        self.ids: list[int] = []
        self.alerts: Counter[str] = Counter()
        self.connections: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        hub = 0
        while not self.stop.is_set():
            url = f"ws://127.0.0.1:{self.ports[hub]}/ws?token={TOKEN}&last_id={self.last}"
            try:
                with connect(url, open_timeout=5) as ws:
                    self.connections.append(self.ports[hub])
                    while not self.stop.is_set():
                        self._receive(ws)
            except Exception:  # closed or refused: the next hub, from the last id
                hub = (hub + 1) % len(self.ports)
                time.sleep(0.2)

    def _receive(self, ws: Any) -> None:
        try:
            frame = json.loads(ws.recv(timeout=1.0))
        except TimeoutError:
            return
        if isinstance(frame.get("id"), int):
            self.ids.append(frame["id"])
            self.last = max(self.last, frame["id"])
            if frame["kind"] == "alert":
                self.alerts[frame["data"]["alert_id"]] += 1

