"""Soak: run ``vigil run`` on the demo config for a long time and watch what grows.

Run from the repository root::

    .venv/bin/python bench/soak.py [--minutes 60] [--every 60] [--config configs]

Starts ``vigil run`` in a fresh temporary directory (its own ``var/``: store, evidence, bus
socket; ``models/`` linked from the repository) and every ``--every`` seconds prints one
line: memory (RSS of the vigil process and of its whole process tree: workers, the
multiprocessing helpers), open file descriptors of the tree, the evidence folder (bytes,
files), sightings in the store, alerts raised today and what the retention task has deleted
(``vigil_purged_total``). A leak shows as a column that keeps rising while the demo loop
repeats the same 16 seconds; evidence should level off once retention starts deleting
(the shipped config keeps unalerted clips 1 hour, so over a short run it only grows).

RSS of a process tree double-counts pages shared between processes (the forked workers
share the interpreter and libraries), so the tree figure is an upper bound; its trend is
what matters. Everything is read from ``/proc`` (Linux only) and the node's own API.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# Run as a script (``python bench/soak.py``): put the repository root on the import path so
# the node helpers of bench/e2e.py can be shared, as bench/alerts.py does for its imports.
sys.path.insert(0, str(ROOT))

from bench.e2e import free_port, wait_healthy  # noqa: E402

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    minute: float
    rss_main: int
    rss_tree: int
    processes: int
    fds: int
    evidence_bytes: int
    evidence_files: int
    sightings: int
    alerts: int
    purged: int


def children(pid: int) -> list[int]:
    """``pid`` and all its descendants, from the parent ids in ``/proc/*/stat``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss(pid: int) -> int:
    """Resident memory in bytes (``VmRSS``); 0 for a process that has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(found.group(1)) * 1024 if found else 0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def folder_use(root: Path) -> tuple[int, int]:
    size = files = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            try:
                size += (Path(folder) / name).stat().st_size
                files += 1
            except OSError:
                continue
    return size, files


def sightings(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute("SELECT count(*) FROM sightings").fetchone()[0])


def api_numbers(port: int, token: str) -> tuple[int, int]:
    """Alerts raised today and everything retention deleted (0, 0 if the API is busy)."""
    try:
        stats = httpx.get(f"http://127.0.0.1:{port}/api/stats", timeout=5,
                          headers={"Authorization": f"Bearer {token}"}).json()
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0, 0
    purged = sum(float(v) for v in re.findall(r"^vigil_purged_total\{[^}]*\} (\S+)$",
                                                metrics, re.M))
    return int(stats["alerts"]["total"]), int(purged)


def sample(minute: float, pid: int, work: Path, port: int, token: str) -> Sample:
    tree = children(pid)
    used, files = folder_use(work / "var" / "evidence")
    alerts, purged = api_numbers(port, token)
    return Sample(minute, rss(pid), sum(rss(p) for p in tree), len(tree),
                  sum(open_fds(p) for p in tree), used, files,
                  sightings(work / "var" / "vigil.db"), alerts, purged)


HEADER = (f"{'min':>5} {'rss MB':>7} {'tree MB':>8} {'procs':>5} {'fds':>5} "
          f"{'evid MB':>8} {'files':>6} {'sights':>6} {'alerts':>6} {'purged':>6}")


def line(s: Sample) -> str:
    return (f"{s.minute:5.1f} {s.rss_main / MB:7.1f} {s.rss_tree / MB:8.1f} {s.processes:5d} "
            f"{s.fds:5d} {s.evidence_bytes / MB:8.1f} {s.evidence_files:6d} {s.sightings:6d} "
            f"{s.alerts:6d} {s.purged:6d}")


def summary(samples: list[Sample]) -> str:
    """Growth from the second line on: the first is taken while the workers still load
    their models, so growth from it is start-up, not a leak."""
    if len(samples) < 3:
        return "too short for a trend (needs three lines)"
    first, last = samples[1], samples[-1]
    hours = max(last.minute - first.minute, 1e-9) / 60
    return (f"from minute {first.minute:.0f} to {last.minute:.0f}: main RSS "
            f"{first.rss_main / MB:.1f} -> "
            f"{last.rss_main / MB:.1f} MB ({(last.rss_main - first.rss_main) / MB:+.1f}), tree "
            f"{(last.rss_tree - first.rss_tree) / MB:+.1f} MB, fds {last.fds - first.fds:+d}, "
            f"evidence {(last.evidence_bytes - first.evidence_bytes) / MB / hours:.0f} MB/h "
            f"({(last.evidence_files - first.evidence_files) / hours:.0f} files/h)")


def watch(proc: subprocess.Popen[bytes], work: Path, port: int, token: str,
          args: argparse.Namespace) -> list[Sample]:
    started, samples = time.monotonic(), []
    print(HEADER, flush=True)
    while True:
        minute = (time.monotonic() - started) / 60
        samples.append(sample(minute, proc.pid, work, port, token))
        print(line(samples[-1]), flush=True)
        if minute >= args.minutes or proc.poll() is not None:
            return samples
        time.sleep(min(args.every, max(0.0, args.minutes * 60 - minute * 60)))


def main() -> int:
    parser = argparse.ArgumentParser(description="vigil run for a long time; watch growth")
    parser.add_argument("--minutes", type=float, default=60.0, help="how long (default 60)")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between lines")
    parser.add_argument("--config", type=Path, default=ROOT / "configs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vigil-soak-"))
    if (ROOT / "models").is_dir():
        (work / "models").symlink_to(ROOT / "models")
    token, port = secrets.token_urlsafe(24), free_port()
    env = {**os.environ, "VIGIL_BOOTSTRAP_TOKEN": token, "PYTHONPATH": str(ROOT)}
    log_path = work / "vigil.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil.cli", "run", "--config", str(args.config.resolve()),
             "--bind", f"127.0.0.1:{port}"], cwd=work, env=env, stdout=log, stderr=log)
        try:
            wait_healthy(port, proc, timeout=180.0)
            print(f"vigil run pid {proc.pid} in {work} (log {log_path})", flush=True)
            samples = watch(proc, work, port, token, args)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    print(summary(samples))
    if proc.returncode not in (0, -signal.SIGINT):
        print(f"vigil run exited with {proc.returncode}; see {log_path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
