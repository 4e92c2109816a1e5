"""The client side of bench/console.py: WebSocket clients in their own processes, each
counting the alerts it received, their push latency, losses and duplicates.

Kept apart from the bench's server side so each file stays one job (issue 15); the bench
spawns :func:`client_process` and reads the :class:`Tally` each process sends back.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

_ALERT = re.compile(rb'\{"kind":"alert","id":(\d+),')
_RAISED = b'"raised_at":'


@dataclass
class Tally:
    """What one client process saw."""

    latencies_ms: list[float] = field(default_factory=list, repr=False)
    lost: int = 0
    duplicated: int = 0
    reconnects: int = 0
    clients: int = 0
    cpu: float = 0.0
    """CPU seconds this client process used while the alerts flowed and drained."""


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    """The standard ``asyncio`` loop (what ``vigil run`` uses) or ``uvloop`` (what plain
    ``uvicorn.run`` would pick), for every process of the bench."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


class Client:
    """One WebSocket client: every alert id it received, and the id to resume after."""

    def __init__(self, url: str, tally: Tally, start: int) -> None:
        self.url, self.tally = url, tally
        self.seen: set[int] = set()
        self.last = start
        self.expected = 0
        """How many alerts to wait for (0 until the producer has finished)."""
        self.connected = asyncio.Event()

    def done(self) -> bool:
        return 0 < self.expected <= len(self.seen)

    async def run(self) -> None:
        """Receive until every expected alert arrived; on a server close, reconnect with
        the last id seen (the process cancels this task when done or out of time). No
        per-message timeout wrapper: :func:`_client_main` watches the clock instead."""
        while True:
            try:
                async with connect(f"{self.url}&last_id={self.last}", compression=None,
                                   max_size=None, open_timeout=60) as ws:
                    self.connected.set()
                    while not self.done():
                        raw = await ws.recv(decode=False)
                        self.last = max(self.last, _count(raw, time.time(), self.seen,
                                                          self.tally))
                    return
            except ConnectionClosed:
                self.tally.reconnects += 1


def _count(raw: bytes, now: float, seen: set[int], tally: Tally) -> int:
    """Record the alert events in one message (one envelope, or a batch); returns the
    highest id in it (0 if none). Each ``alert`` envelope's id and its alert's
    ``raised_at`` (the first one after the id) are read from the raw bytes: two scans
    instead of ``json.loads`` of every envelope, which would cost the clients (which share
    the console's cores here, but not in a real centre) half as much CPU again."""
    highest = 0
    for hit in _ALERT.finditer(raw):
        event_id = int(hit.group(1))
        if event_id in seen:
            tally.duplicated += 1
            continue
        seen.add(event_id)
        highest = max(highest, event_id)
        at = raw.index(_RAISED, hit.end()) + len(_RAISED)
        raised = float(raw[at:raw.index(b",", at)])
        tally.latencies_ms.append((now - raised) * 1000)
    return highest


async def _client_main(url: str, count: int, start: int, pipe: Connection) -> Tally:
    """``count`` clients from event ``start`` on (the log's end when the bench began: a
    PostgreSQL store may hold earlier runs)."""
    tally = Tally(clients=count)
    loop = asyncio.get_running_loop()
    clients = [Client(url, tally, start) for _ in range(count)]
    tasks = [asyncio.create_task(c.run()) for c in clients]
    await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 60)
    pipe.send("ready")  # every client connected: the producer may start
    cpu0 = cpu_seconds()
    total, drain = await loop.run_in_executor(None, pipe.recv)
    deadline = time.monotonic() + drain
    for client in clients:
        client.expected = total
    for client, task in zip(clients, tasks, strict=True):
        while not task.done() and not client.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        task.cancel()  # done (possibly blocked in recv), or out of time
    await asyncio.gather(*tasks, return_exceptions=True)
    tally.cpu = cpu_seconds() - cpu0
    tally.lost = sum(total - len(c.seen) for c in clients)
    return tally


def client_process(url: str, count: int, start: int, pipe: Connection, loop: str) -> None:
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        pipe.send(runner.run(_client_main(url, count, start, pipe)))


# --- server side (this process) -------------------------------------------------------


def cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
