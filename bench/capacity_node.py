"""The capacity bench's moving parts: its config folder, the RTSP server, ``vigil run``, the
full-rate ``vigil replay`` reference, and what is read from ``/proc`` while it runs.

Everything runs on this machine from a temporary folder; the RTSP server is
tests/ingest/rtsp_server.py (GStreamer, system interpreter) with one mount per camera and
``--events``, whose ``PLAY``/``LOOP`` lines say when each camera's loop started on the wire.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.capacity_clip import LOOP_S, WATCHED
from bench.e2e import free_port, wait_healthy
from bench.soak import children

ROOT = Path(__file__).resolve().parents[1]
RTSP_SERVER = ROOT / "tests" / "ingest" / "rtsp_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
REPLAY_START = 1_767_578_400.0
"""Wall time given to the reference replay's first frame (2026-01-05 10:00 +08:00)."""
TICK = os.sysconf("SC_CLK_TCK")
RULES = """\
# One watchlist rule without a cool-down: every pass of the watched plate may alert.
rules:
  - id: capacity-watch
    kind: watchlist
    level: 2
    max_distance: 1
    cooldown: 0
"""


def camera_id(k: int) -> str:
    return f"cam{k:02d}"


def write_config(folder: Path, urls: list[str], analytics: list[str],
                 max_fps: float | None, detect_fps: float | None = None,
                 *, workers: int = 0) -> Path:
    """A config folder for ``vigil run`` (and ``vigil replay --camera cam00``): one camera
    per URL, the watchlist rule above and :data:`~bench.capacity_clip.WATCHED` on it."""
    (folder / "cameras").mkdir(parents=True, exist_ok=True)
    (folder / "watchlists").mkdir(exist_ok=True)
    (folder / "service.yaml").write_text(
        f"bus: local://\nstore: sqlite:///var/vigil.db\nmodels:\n  dir: {ROOT / 'models'}\n"
        f"retention:\n  interval: 86400\nworkers: {workers}\n", encoding="utf-8")
    fps = "" if max_fps is None else f"\n    ingest: {{max_fps: {max_fps}}}"
    fps += "" if detect_fps is None else f"\n    detect_fps: {detect_fps}"
    cams = "".join(
        f"\n  - id: {camera_id(k)}\n    name: capacity {k}\n    group: bench\n"
        f"    url: {url}\n    analytics: [{', '.join(analytics)}]{fps}"
        for k, url in enumerate(urls))
    (folder / "cameras" / "bench.yaml").write_text(f"cameras:{cams}\n", encoding="utf-8")
    (folder / "rules.yaml").write_text(RULES, encoding="utf-8")
    (folder / "watchlists" / "bench.csv").write_text(
        "plate,category,level,reason,applicant,unit,valid_until,scope,strictness\n"
        f"{WATCHED},stolen,1,capacity bench,bench,bench,,all,strict\n", encoding="utf-8")
    return folder


@dataclass
class RtspServer:
    """tests/ingest/rtsp_server.py serving ``clips`` at /cam0, /cam1, ... with events."""

    clips: list[Path]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def url(self, k: int) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam{k}"

    def start(self) -> None:
        files = [a for clip in self.clips for a in ("--file", str(clip))]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(RTSP_SERVER), "--port", str(self.port), "--events", *files],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while b"READY" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the RTSP server did not start; see {self.log}")
            time.sleep(0.1)

    def loop_starts(self) -> dict[int, list[tuple[float, bool]]]:
        """Mount number → (wall time its loop began, True for a fresh ``PLAY``) for the
        first play and every ``LOOP``."""
        starts: dict[int, list[tuple[float, bool]]] = {}
        for line in self.log.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] in ("PLAY", "LOOP") and parts[1][4:].isdigit():
                starts.setdefault(int(parts[1][4:]), []).append(
                    (float(parts[2]), parts[0] == "PLAY"))
        return starts

    def stop(self) -> None:
        stop(self.proc, signal.SIGTERM)


def stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGINT) -> None:
    """Ask ``proc`` to end with ``sig``; kill it after 30 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class Node:
    """``vigil run`` on ``config`` in ``work`` (its own var/), with a bootstrap token."""

    config: Path
    work: Path
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.work / "vigil.log"

    def start(self) -> None:
        env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": self.token, "PYTHONPATH": str(ROOT)}
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "vigil.cli", "run", "--config", str(self.config),
                 "--bind", f"127.0.0.1:{self.port}"],
                cwd=self.work, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_healthy(self.port, self.proc, timeout=180.0)

    def stop(self) -> None:
        stop(self.proc)


@dataclass(frozen=True, slots=True)
class TreeSample:
    """The ``vigil run`` process tree at one moment: CPU seconds so far (user + system,
    live processes only) and proportional set size (shared pages split between sharers)."""

    at: float
    cpu_s: float
    pss_bytes: int
    processes: int


def stat_cpu_seconds(stat: Path) -> float | None:
    """utime + stime in a ``/proc/.../stat`` file (a process's or a thread's); None when
    it has gone."""
    try:
        text = stat.read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (0 for a process that has gone)."""
    return stat_cpu_seconds(Path(f"/proc/{pid}/stat")) or 0.0


def pss(pid: int) -> int:
    """``Pss`` of ``/proc/PID/smaps_rollup`` in bytes (0 for a process that has gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def tree_sample(pid: int) -> TreeSample:
    tree = children(pid)
    return TreeSample(time.time(), sum(cpu_seconds(p) for p in tree),
                      sum(pss(p) for p in tree), len(tree))


def harness_sample(server_pid: int) -> TreeSample:
    """The harness's own cost: the RTSP server's tree plus this process (the bench's
    scrapes and WebSocket client), which share the cores with the node under test."""
    server = tree_sample(server_pid)
    return TreeSample(server.at, server.cpu_s + cpu_seconds(os.getpid()),
                      server.pss_bytes + pss(os.getpid()), server.processes + 1)


def reference_replay(clip: Path, config: Path, cache: Path) -> list[dict[str, object]]:
    """``vigil replay`` of one loop of ``clip`` at full rate (every frame) with camera
    cam00 of ``config``: its sightings and alerts (JSON lines), cached in ``cache``."""
    work = cache.parent
    if not cache.exists():
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "vigil.cli", "replay", str(clip), "--config", str(config),
             "--camera", camera_id(0), "--json", "--start", str(REPLAY_START)],
            cwd=work, env=env, capture_output=True, text=True, check=False,
            timeout=LOOP_S * 30)
        if done.returncode != 0:
            raise SystemExit(f"vigil replay failed ({done.returncode}): {done.stderr[-2000:]}")
        cache.write_text(done.stdout, encoding="utf-8")
    return [json.loads(line) for line in cache.read_text(encoding="utf-8").splitlines()
            if line.startswith("{")]
