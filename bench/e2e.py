"""End to end: from the frame where a plate (or a person in a zone) is first seen to the
alert on a console's WebSocket, through the whole of ``vigil run``.

Run from the repository root::

    .venv/bin/python bench/e2e.py [--seconds 60]

Starts ``vigil run --config configs`` (the shipped demo: a generated video played in real
time, plates read, the person walking into the zone) in a temporary directory, connects
one WebSocket client as the console does, and for every alert prints the time from the
observation to the push:

* plate alerts: ``first_seen`` of the sighting, the capture time (wall clock at decode) of
  the first frame in which the plate was read. The latency therefore includes the vote
  that decides the plate (``analytics.consensus``), the bus, the rule engine, the store
  commit, the outbox, the hub and the socket.
* scene alerts: the event's ``at``, when the person had stayed ``min_dwell`` in the zone.

All processes run on this machine, so their clocks agree. The figure that matters to a
monitoring centre is the whole path; the brief's bar is one second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Push:
    rule: str
    subject: str
    observed: float
    received: float

    @property
    def latency_ms(self) -> float:
        return (self.received - self.observed) * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def observed_at(alert: dict[str, object]) -> float:
    """When what raised the alert was seen: a sighting's ``first_seen``, an event's ``at``."""
    obs = alert.get("observation")
    if isinstance(obs, dict):
        for key in ("first_seen", "at"):
            value = obs.get(key)
            if isinstance(value, (int, float)):
                return float(value)
    raised = alert.get("raised_at")
    return float(raised) if isinstance(raised, (int, float)) else float("nan")


async def watch(port: int, token: str, seconds: float) -> list[Push]:
    """Every alert pushed within ``seconds`` of connecting (live ones, not replays)."""
    pushes: list[Push] = []
    deadline = time.monotonic() + seconds
    async with connect(f"ws://127.0.0.1:{port}/ws?token={token}&last_id=0",
                       max_size=None) as ws:
        while (left := deadline - time.monotonic()) > 0:
            try:
                async with asyncio.timeout(left):
                    raw = await ws.recv()
            except TimeoutError:
                break
            now = time.time()
            envelope = json.loads(raw)
            if envelope.get("kind") != "alert":
                continue
            alert = envelope["data"]
            pushes.append(Push(str(alert.get("rule_id")), str(alert.get("subject")),
                               observed_at(alert), now))
    return pushes


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"vigil run exited with {proc.returncode}; see its log")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("vigil run did not answer /health in time")


def report(pushes: list[Push], started: float) -> None:
    print(f"{'after start':>11}  {'latency':>9}  rule / subject")
    for p in pushes:
        print(f"{p.received - started:10.1f}s  {p.latency_ms:7.0f}ms  {p.rule} / {p.subject}")
    if not pushes:
        print("no alerts pushed")
        return
    lat = sorted(p.latency_ms for p in pushes)
    print(f"alerts {len(lat)}: observation -> console push ms: min {lat[0]:.0f}  "
          f"median {lat[len(lat) // 2]:.0f}  max {lat[-1]:.0f}  "
          f"(over 1,000 ms: {sum(1 for x in lat if x > 1000)})")
    first: dict[str, float] = {}
    for p in pushes:
        first.setdefault(p.rule, p.received - started)
    print("first alert after `vigil run` started: "
          + ", ".join(f"{rule} {t:.1f} s" for rule, t in first.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description="observation -> console push, whole node")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long to watch the console feed")
    parser.add_argument("--config", type=Path, default=ROOT / "configs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vigil-e2e-"))
    if (ROOT / "models").is_dir():
        (work / "models").symlink_to(ROOT / "models")
    token, port = secrets.token_urlsafe(24), free_port()
    env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": token, "PYTHONPATH": str(ROOT)}
    log_path = work / "vigil.log"
    started = time.time()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.cli", "run", "--config", str(args.config),
             "--bind", f"127.0.0.1:{port}"], cwd=work, env=env, stdout=log, stderr=log)
        try:
            wait_healthy(port, proc)
            print(f"vigil run up after {time.time() - started:.1f} s (log {log_path})")
            pushes = asyncio.run(watch(port, token, args.seconds))
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    report(pushes, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
