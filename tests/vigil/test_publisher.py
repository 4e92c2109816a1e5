"""vigil/publisher.py's LoopThread (the bus publisher of an ingest process) on a real local
bus hub in another process: closing drains what the bus takes, and stops waiting soon once
the hub is gone (kill -9 of the node that served it)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.bus import LocalBus
from core.messages import CameraState, CameraStatus
from core.topics import Topic
from vigil.publisher import GIVE_UP, LoopThread

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
T = Topic("publisher-test", CameraStatus)
HUB = """
import asyncio, sys
from core.bus import LocalHub

async def main() -> None:
    hub = LocalHub(sys.argv[1])
    await hub.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A LocalHub in a process of its own, as in ``vigil run``."""
    path = tmp_path / "bus.sock"
    proc = subprocess.Popen([sys.executable, "-c", HUB, str(path)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield path, proc
    finally:
        proc.kill()
        proc.wait(10)


def status(n: int) -> CameraStatus:
    return CameraStatus(f"cam-{n}", CameraState.STREAMING, since=float(n))


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "condition not met"
        time.sleep(0.02)


async def read_all(path: Path) -> list[CameraStatus]:
    bus = await LocalBus(path).connect()
    try:
        got = await bus.read(T, "check", "c1", count=10_000, block=0.5)
        return [d.message for d in got]
    finally:
        await bus.close()


def test_close_delivers_what_was_queued_while_the_bus_is_up(
    hub: tuple[Path, subprocess.Popen[str]],
) -> None:
    path, _ = hub
    thread = LoopThread(f"local://{path}")
    for n in range(300):
        thread.publisher.submit(T, status(n))
    thread.close()
    assert [s.camera_id for s in asyncio.run(read_all(path))] == [
        f"cam-{n}" for n in range(300)]


def test_close_gives_up_soon_when_the_hub_was_killed(
    hub: tuple[Path, subprocess.Popen[str]],
) -> None:
    """Before the fix this took the whole drain timeout (5 s) and then failed on the dead
    connection; an orphaned ingest process kept its cameras that much longer."""
    path, proc = hub
    thread = LoopThread(f"local://{path}")
    thread.publisher.submit(T, status(0))
    wait_until(lambda: thread.publisher.published == 1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    for n in range(1, 50):
        thread.publisher.submit(T, status(n))
    wait_until(lambda: thread.publisher.failing_since is not None)
    started = time.monotonic()
    thread.close()
    took = time.monotonic() - started
    assert took < GIVE_UP + 1.0, took
    assert not thread.loop.is_running()  # the loop thread ended too
