"""WebSocket push benchmark: N clients x M alerts/s through the real console app.

Run from the repository root::

    .venv/bin/python bench/console.py [--clients 200] [--rate 500] [--seconds 10] [--quick]

The app runs under uvicorn on loopback in this process, with a SQLite store (``--store``
for another URL) and the ``local://`` bus (its hub in this process). Alerts enter from a
separate producer process exactly as the alert service raises them: committed by
``Store.insert_alert`` (``--writers`` at once), then published on ``alerts``. The clients
run in ``--procs`` processes with the ``websockets`` client; each connects with
``last_id=0`` (``--batch``: and ``batch=1``), and reconnects with its last id if the
server closes it. Push latency is receive time minus the alert's ``raised_at`` (set just
before the insert), so it includes the commit, the bus, the hub and the socket. Lost =
alerts a client never received by the end; duplicated = alerts it received more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import re
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

# This file is named like the ``console`` package: drop its folder from the import path and
# put the repository root first, so ``import console`` finds the package, not this script.
_HERE, _ROOT = Path(__file__).resolve().parent, Path(__file__).resolve().parents[1]
sys.path[:] = [str(_ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import uvicorn  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from console.app import create_app  # noqa: E402
from console.auth import TokenBook  # noqa: E402
from console.context import ConsoleDeps, ConsoleSettings  # noqa: E402
from console.registry import CameraRegistry  # noqa: E402
from console.users import create_api_token  # noqa: E402
from core import topics  # noqa: E402
from core.bus import Bus, LocalBus, LocalHub  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.messages import Alert, Evidence, Sighting  # noqa: E402
from core.store import Store, open_store  # noqa: E402

_ALERT = re.compile(rb'\{"kind":"alert","id":(\d+),"data":\{.*?"raised_at":([0-9.e+-]+)')


@dataclass
class Tally:
    """What one client process saw."""

    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    reconnects: int = 0
    clients: int = 0


# --- clients (separate processes) -----------------------------------------------------

async def _one_client(url: str, expected: asyncio.Future[int], tally: Tally,
                      deadline: list[float]) -> None:
    """Receive until every expected alert arrived (or the drain deadline passed)."""
    seen: set[int] = set()
    last = 0
    while True:
        try:
            async with connect(f"{url}&last_id={last}", compression=None, max_size=None,
                               open_timeout=60) as ws:
                while not (expected.done() and len(seen) >= expected.result()):
                    if time.time() > deadline[0]:
                        raise TimeoutError
                    try:
                        raw = await asyncio.wait_for(ws.recv(decode=False), 0.25)
                    except TimeoutError:
                        continue  # look at the deadline and the expected count again
                    last = max(last, _count(raw, time.time(), seen, tally))
                break
        except ConnectionClosed:
            tally.reconnects += 1
        except TimeoutError:
            break
    tally.lost += (expected.result() if expected.done() else 0) - len(seen)


def _count(raw: bytes, now: float, seen: set[int], tally: Tally) -> int:
    """Record the alert events in one message (one envelope, or a batch); returns the
    highest id in it (0 if none)."""
    highest = 0
    for hit in _ALERT.finditer(raw):
        event_id = int(hit.group(1))
        if event_id in seen:
            tally.duplicated += 1
            continue
        seen.add(event_id)
        highest = max(highest, event_id)
        tally.latencies_ms.append((now - float(hit.group(2))) * 1000)
    return highest


async def _client_main(port: int, query: str, count: int, pipe: Connection) -> Tally:
    tally = Tally(clients=count)
    loop = asyncio.get_running_loop()
    expected: asyncio.Future[int] = loop.create_future()
    deadline = [float("inf")]
    url = f"ws://127.0.0.1:{port}/ws?{query}"
    tasks = [asyncio.create_task(_one_client(url, expected, tally, deadline))
             for _ in range(count)]
    await asyncio.sleep(1.0)  # let every client connect before the producer starts
    pipe.send("ready")
    total, drain = await loop.run_in_executor(None, pipe.recv)
    deadline[0] = time.time() + drain
    expected.set_result(total)
    await asyncio.gather(*tasks)
    return tally


def client_process(port: int, query: str, count: int, pipe: Connection) -> None:
    pipe.send(asyncio.run(_client_main(port, query, count, pipe)))


# --- server side (this process) -------------------------------------------------------

def _alert(n: int) -> Alert:
    at = time.time()
    obs = Sighting(f"s-{n}", "gate-3", "京A12345", "京A12345", "small", "blue", 0.93, at,
                   at + 1.0, Evidence(snapshot=f"snap/{n}.jpg", plate_crop=f"plate/{n}.jpg"))
    return Alert(alert_id=str(uuid.uuid4()), rule_id="watchlist", level=2, category="stolen",
                 observation=obs, raised_at=at, subject="京A12345", camera_id="gate-3",
                 camera_name="Gate 3", address="三号门", lon=106.4, lat=39.05,
                 summary_zh="布控车辆 京A12345 经过三号门", summary_en="watchlisted 京A12345")


async def produce(store: Store, bus: Bus, rate: float, seconds: float,
                  writers: int) -> tuple[int, float]:
    """Raise ``rate`` alerts/s for ``seconds`` (commit, then publish); returns how many were
    raised and the rate achieved (the store may not keep up)."""
    slots = asyncio.Semaphore(writers)
    total = int(rate * seconds)
    start = time.monotonic()

    async def one(n: int) -> None:
        async with slots:
            record = await asyncio.to_thread(store.insert_alert, _alert(n))
        await bus.publish(topics.ALERTS, record.alert)

    tasks = []
    for n in range(total):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    return total, total / (time.monotonic() - start)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def report(args: argparse.Namespace, total: int, achieved: float, tallies: list[Tally],
           dropped: int) -> None:
    lat = sorted(x for t in tallies for x in t.latencies_ms)
    lost = sum(t.lost for t in tallies)
    dup = sum(t.duplicated for t in tallies)
    reconnects = sum(t.reconnects for t in tallies)
    mode = "batched" if args.batch else "one envelope per message"
    print(f"clients {args.clients}  target {args.rate:.0f} alerts/s for {args.seconds:.0f} s  "
          f"raised {total} (achieved {achieved:.0f}/s)  client procs {args.procs}  {mode}")
    print(f"pushes received {len(lat)} / expected {total * args.clients}")
    print(f"push latency ms: p50 {_percentile(lat, 0.5):.1f}  p90 {_percentile(lat, 0.9):.1f}"
          f"  p99 {_percentile(lat, 0.99):.1f}  max {lat[-1] if lat else float('nan'):.1f}")
    print(f"lost {lost}  duplicated {dup}  reconnects {reconnects}  "
          f"server-dropped slow clients {dropped}")
    cpu, wall = args.server_cpu
    print(f"console process CPU {cpu:.1f} s over {wall:.1f} s ({100 * cpu / wall:.0f}% of one "
          f"core); machine load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


async def _producer_main(store_url: str, bus_path: str, plan: tuple[float, float, int],
                         pipe: Connection) -> None:
    store = open_store(store_url, SystemClock())
    bus = await LocalBus(bus_path).connect()
    await asyncio.to_thread(pipe.recv)  # go
    rate, seconds, writers = plan
    pipe.send(await produce(store, bus, rate, seconds, writers))
    await bus.close()
    store.close()


def producer_process(store_url: str, bus_path: str, plan: tuple[float, float, int],
                     pipe: Connection) -> None:
    asyncio.run(_producer_main(store_url, bus_path, plan, pipe))


def _spawn(args: argparse.Namespace, port: int, token: str, store_url: str,
           bus_path: str) -> tuple[list[Connection], list[BaseProcess]]:
    """The producer (first pipe) and the client processes."""
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs: list[BaseProcess] = []
    mine, theirs = ctx.Pipe()
    plan = (args.rate, args.seconds, args.writers)
    procs.append(ctx.Process(target=producer_process, args=(store_url, bus_path, plan, theirs)))
    pipes.append(mine)
    query = f"token={token}" + ("&batch=1" if args.batch else "")
    for i in range(args.procs):
        mine, theirs = ctx.Pipe()
        count = args.clients // args.procs + (1 if i < args.clients % args.procs else 0)
        procs.append(ctx.Process(target=client_process, args=(port, query, count, theirs)))
        pipes.append(mine)
    for proc in procs:
        proc.start()
    return pipes, procs


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    store_url = args.store or f"sqlite:///{tmp / 'vigil.db'}"
    store = open_store(store_url, SystemClock())
    token, _ = create_api_token(store, "bench", "monitor", "bench")
    hub = LocalHub(tmp / "bus.sock")
    await hub.start()
    bus = await LocalBus(tmp / "bus.sock").connect()
    settings = ConsoleSettings(live_dir=tmp / "live", evidence_dir=tmp / "evidence")
    app = create_app(CameraRegistry(), TokenBook({}), bus,
                     ConsoleDeps(store=store, settings=settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port,
                                           log_level="warning", ws=args.ws,
                                           ws_per_message_deflate=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    pipes, procs = _spawn(args, port, token, store_url, str(tmp / "bus.sock"))
    for pipe in pipes[1:]:
        await asyncio.to_thread(pipe.recv)  # every client connected
    cpu0, wall0 = _cpu(), time.monotonic()
    pipes[0].send("go")
    total, achieved = await asyncio.to_thread(pipes[0].recv)
    for pipe in pipes[1:]:
        pipe.send((total, args.drain))
    tallies: list[Tally] = [await asyncio.to_thread(pipe.recv) for pipe in pipes[1:]]
    args.server_cpu = (_cpu() - cpu0, time.monotonic() - wall0)
    for proc in procs:
        proc.join()
    console = app.state.console.hub
    report(args, total, achieved, tallies, console.stats.dropped_clients if console else 0)
    server.should_exit = True
    await serving
    await bus.close()
    await hub.stop()
    store.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="console WebSocket push latency")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=500.0, help="alerts per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--writers", type=int, default=1,
                        help="concurrent store inserts (the alert service does one at a time)")
    parser.add_argument("--drain", type=float, default=30.0,
                        help="seconds clients may take to catch up after the last alert")
    parser.add_argument("--batch", action="store_true",
                        help="clients ask for batched messages (?batch=1)")
    parser.add_argument("--store", default=None, help="store URL (default: a temp SQLite)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ws", default="auto",
                        help="uvicorn WebSocket implementation (auto, websockets, "
                             "websockets-sansio, wsproto)")
    parser.add_argument("--quick", action="store_true", help="20 clients, 100 alerts/s, 3 s")
    parser.add_argument("--profile", action="store_true",
                        help="profile the server process and print the top functions")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.rate, args.seconds = 20, 100.0, 3.0
    if not args.profile:
        asyncio.run(run(args))
        return 0
    import cProfile
    import pstats

    with cProfile.Profile() as prof:
        asyncio.run(run(args))
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
