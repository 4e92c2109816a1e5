"""WebSocket push benchmark: N clients x M alerts/s through the real console app.

Run from the repository root::

    .venv/bin/python bench/console.py [--clients 200] [--rate 500] [--seconds 10] [--quick]

The app runs under uvicorn on loopback in this process, with a SQLite store (``--store``
for another URL) and the ``local://`` bus (its hub in this process, as in ``vigil run``).
Alerts enter from a separate producer process as the alert service raises them: committed
by ``Store.insert_alert`` (``--writers`` at once), then published on ``alerts``. (The
service's ``AlertPublisher.accept`` also re-reads the alert and marks it published, a
second write transaction per alert that this producer leaves out.) The clients run in
``--procs`` processes with the ``websockets`` client; each connects with ``last_id`` =
the log's end at start (``--batch``: and ``batch=1``), and reconnects with its last id if
the server closes it. Clients, producer and console share this machine's cores, which a
real centre's browsers do not: the report gives each one's CPU seconds and the load
average. Push latency is receive time minus the alert's ``raised_at`` (set just before
the insert), so it includes the commit, the bus, the hub and the socket. Lost =
alerts a client never received by the end; duplicated = alerts it received more than once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
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

from bench.console_clients import Tally, client_process, cpu_seconds, loop_factory  # noqa: E402
from console.app import create_app  # noqa: E402
from console.deps import ConsoleDeps  # noqa: E402
from console.hub import WsStats  # noqa: E402
from console.registry import CameraRegistry  # noqa: E402
from console.settings import ConsoleSettings, WsSettings  # noqa: E402
from console.tokens import TokenBook  # noqa: E402
from console.users import create_api_token  # noqa: E402
from core import topics  # noqa: E402
from core.bus import Bus, LocalBus, LocalHub  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.messages import Alert, Evidence, Sighting  # noqa: E402
from core.store import Store, open_store  # noqa: E402
from vigil.process import settle_heap  # noqa: E402


def _alert(n: int) -> Alert:
    at = time.time()
    obs = Sighting(f"s-{n}", "gate-3", "京A12345", "京A12345", "small", "blue", 0.93, at,
                   at + 1.0, Evidence(snapshot=f"snap/{n}.jpg", plate_crop=f"plate/{n}.jpg"))
    return Alert(alert_id=str(uuid.uuid4()), rule_id="watchlist", level=2, category="stolen",
                 observation=obs, raised_at=at, subject="京A12345", camera_id="gate-3",
                 camera_name="Gate 3", address="三号门", lon=106.4, lat=39.05,
                 summary_zh="布控车辆 京A12345 经过三号门", summary_en="watchlisted 京A12345")


@dataclass
class Produced:
    """What the producer did: alerts raised, the rate reached, its CPU seconds, and per
    alert the ms from ``raised_at`` to committed and to published (the first part of
    every push latency, before the console is involved)."""

    total: int = 0
    achieved: float = 0.0
    cpu: float = 0.0
    committed_ms: list[float] = field(default_factory=list, repr=False)
    published_ms: list[float] = field(default_factory=list, repr=False)


async def produce(store: Store, bus: Bus, rate: float, seconds: float,
                  writers: int) -> Produced:
    """Raise ``rate`` alerts/s for ``seconds`` (commit, then publish); the rate achieved
    may fall short (the store may not keep up)."""
    slots = asyncio.Semaphore(writers)
    out = Produced(total=int(rate * seconds))
    start = time.monotonic()

    async def one(n: int) -> None:
        async with slots:
            alert = _alert(n)
            record = await asyncio.to_thread(store.insert_alert, alert)
        out.committed_ms.append((time.time() - alert.raised_at) * 1000)
        await bus.publish(topics.ALERTS, record.alert)
        out.published_ms.append((time.time() - alert.raised_at) * 1000)

    tasks = []
    for n in range(out.total):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    out.achieved = out.total / (time.monotonic() - start)
    return out


def _percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    return (f"p50 {_percentile(ordered, 0.5):.1f}  p90 {_percentile(ordered, 0.9):.1f}  "
            f"p99 {_percentile(ordered, 0.99):.1f}  "
            f"max {ordered[-1] if ordered else float('nan'):.1f}")


def report(args: argparse.Namespace, produced: Produced, tallies: list[Tally],
           hub: WsStats) -> None:
    total, achieved = produced.total, produced.achieved
    lat = [x for t in tallies for x in t.latencies_ms]
    lost = sum(t.lost for t in tallies)
    dup = sum(t.duplicated for t in tallies)
    reconnects = sum(t.reconnects for t in tallies)
    mode = "batched" if args.batch else "one envelope per message"
    print(f"clients {args.clients}  target {args.rate:.0f} alerts/s for {args.seconds:.0f} s  "
          f"raised {total} (achieved {achieved:.0f}/s)  client procs {args.procs}  {mode}  "
          f"loop {args.loop}  ws {args.ws}  store {args.store or 'sqlite'}  "
          f"coalesce {args.coalesce_s * 1000:.0f} ms")
    print(f"pushes received {len(lat)} / expected {total * args.clients}")
    print(f"push latency ms: {_spread(lat)}")
    print(f"  of which raised -> committed ms: {_spread(produced.committed_ms)}")
    print(f"          raised -> published ms: {_spread(produced.published_ms)}")
    print(f"lost {lost}  duplicated {dup}  reconnects {reconnects}  "
          f"server-dropped slow clients {hub.dropped_clients}")
    print(f"hub: {hub.reads} event-log reads, {hub.messages} socket messages "
          f"({hub.sent / max(1, hub.messages):.1f} envelopes each)")
    cpu, wall = args.server_cpu
    clients_cpu = sum(t.cpu for t in tallies)
    print(f"CPU s over {wall:.1f} s wall: console {cpu:.1f}  producer {produced.cpu:.1f} "
          f"(while producing)  clients {clients_cpu:.1f}  — machine load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


async def _producer_main(store_url: str, bus_path: str, plan: tuple[float, float, int],
                         pipe: Connection) -> None:
    store = open_store(store_url, SystemClock())
    bus = await LocalBus(bus_path).connect()
    await asyncio.to_thread(pipe.recv)  # go
    rate, seconds, writers = plan
    cpu0 = cpu_seconds()
    produced = await produce(store, bus, rate, seconds, writers)
    produced.cpu = cpu_seconds() - cpu0
    pipe.send(produced)
    await bus.close()
    store.close()


def producer_process(store_url: str, bus_path: str, plan: tuple[float, float, int],
                     pipe: Connection, loop: str) -> None:
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        runner.run(_producer_main(store_url, bus_path, plan, pipe))


def _spawn(args: argparse.Namespace, port: int, token: str, store_url: str,
           bus_path: str) -> tuple[list[Connection], list[BaseProcess]]:
    """The producer (first pipe) and the client processes."""
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs: list[BaseProcess] = []
    children: list[Connection] = []
    mine, theirs = ctx.Pipe()
    children.append(theirs)
    plan = (args.rate, args.seconds, args.writers)
    procs.append(ctx.Process(target=producer_process, daemon=True,
                             args=(store_url, bus_path, plan, theirs, args.loop)))
    pipes.append(mine)
    url = f"ws://127.0.0.1:{port}/ws?token={token}" + ("&batch=1" if args.batch else "")
    for i in range(args.procs):
        mine, theirs = ctx.Pipe()
        children.append(theirs)
        count = args.clients // args.procs + (1 if i < args.clients % args.procs else 0)
        procs.append(ctx.Process(target=client_process, daemon=True,
                                 args=(url, count, args.head, theirs, args.loop)))
        pipes.append(mine)
    for proc in procs:
        proc.start()
    for end in children:  # a child that dies now makes our recv() fail instead of hang
        end.close()
    return pipes, procs


async def run(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    store_url = args.store or f"sqlite:///{tmp / 'vigil.db'}"
    store = open_store(store_url, SystemClock())
    token, _ = create_api_token(store, "bench", "monitor", "bench")
    args.head = store.last_event_id()
    hub = LocalHub(tmp / "bus.sock")
    await hub.start()
    bus = await LocalBus(tmp / "bus.sock").connect()
    ws = WsSettings() if args.coalesce is None else WsSettings(coalesce=args.coalesce)
    args.coalesce_s = ws.coalesce
    settings = ConsoleSettings(live_dir=tmp / "live", evidence_dir=tmp / "evidence", ws=ws)
    app = create_app(CameraRegistry(), TokenBook({}), bus,
                     ConsoleDeps(store=store, settings=settings), started=settle_heap)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port,
                                           log_level="warning", ws=args.ws,
                                           ws_per_message_deflate=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():  # e.g. --ws wsproto without wsproto installed
            raise SystemExit(f"uvicorn did not start (--ws {args.ws}): see the log above")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    pipes, procs = _spawn(args, port, token, store_url, str(tmp / "bus.sock"))
    for pipe in pipes[1:]:
        await asyncio.to_thread(pipe.recv)  # every client connected
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    pipes[0].send("go")
    produced: Produced = await asyncio.to_thread(pipes[0].recv)
    for pipe in pipes[1:]:
        pipe.send((produced.total, args.drain))
    tallies: list[Tally] = [await asyncio.to_thread(pipe.recv) for pipe in pipes[1:]]
    args.server_cpu = (cpu_seconds() - cpu0, time.monotonic() - wall0)
    for proc in procs:
        proc.join()
    console = app.state.console.hub
    report(args, produced, tallies, console.stats if console else WsStats())
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
                        choices=("auto", "websockets", "websockets-sansio", "wsproto"),
                        help="uvicorn WebSocket implementation (wsproto must be installed)")
    parser.add_argument("--coalesce", type=float, default=None,
                        help="hub coalesce window in s (default: WsSettings.coalesce)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="event loop of every process of the bench (vigil run: asyncio)")
    parser.add_argument("--quick", action="store_true", help="20 clients, 100 alerts/s, 3 s")
    parser.add_argument("--profile", action="store_true",
                        help="profile the server process and print the top functions")
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.rate, args.seconds = 20, 100.0, 3.0
    if not args.profile:
        with asyncio.Runner(loop_factory=loop_factory(args.loop)) as runner:
            runner.run(run(args))
        return 0
    import cProfile
    import pstats

    with cProfile.Profile() as prof, asyncio.Runner(loop_factory=loop_factory(args.loop)) as r:
        r.run(run(args))
    pstats.Stats(prof).sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
