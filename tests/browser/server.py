"""The real console app on a loopback port, for the browser tests.

:class:`VigilServer` owns what survives a restart — the SQLite store, the camera registry,
the evidence and live-picture folders, the users — and runs ``create_app`` under uvicorn in
a thread with its own event loop and a fresh memory bus. ``stop()`` shuts uvicorn down (the
hub closes every WebSocket), ``start()`` serves a new app on the same port from the same
store, exactly like restarting the console process.

Alerts enter through the alert service's own path: :class:`alerts.outbox.AlertPublisher`
(``Store.insert_alert`` in one transaction with its outbox row, then a publish on
``core.topics.ALERTS``), run on the server's loop. While the server is down they are
inserted by the store alone and stay in the outbox; :meth:`VigilServer.start` publishes the
outbox, as the alert service does when it comes back.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import uvicorn

from alerts.outbox import AlertPublisher
from alerts.watchlist_service import WatchlistService
from console.app import create_app
from console.deps import ConsoleDeps
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from console.users import add_user
from core.bus import MemoryBus
from core.clock import SystemClock
from core.messages import Alert
from core.store import AlertRecord, Store, open_store

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True, slots=True)
class User:
    username: str
    password: str
    role: str
    display_name: str


ADMIN = User("admin", "admin-pass-2024", "admin", "值班长 李明")
MONITOR = User("monitor", "monitor-pass-2024", "monitor", "监控员 张伟")


@dataclass
class VigilServer:
    root: Path
    cameras: CameraRegistry
    port: int = field(default_factory=free_port)
    store: Store = field(init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _server: uvicorn.Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _publisher: AlertPublisher | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.clock = SystemClock()
        self.store = open_store(f"sqlite:///{self.root / 'vigil.db'}", self.clock)
        self.settings = ConsoleSettings(live_dir=self.root / "live",
                                        evidence_dir=self.root / "evidence")
        self.settings.live_dir.mkdir(parents=True, exist_ok=True)
        self.settings.evidence_dir.mkdir(parents=True, exist_ok=True)
        self.watchlists = WatchlistService(self.store, None, self.clock)
        for user in (ADMIN, MONITOR):
            add_user(self.store, user.username, user.password, user.role, user.display_name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        bus = MemoryBus()
        deps = ConsoleDeps(store=self.store, watchlists=self.watchlists, clock=self.clock,
                           settings=self.settings)
        app = create_app(self.cameras, TokenBook({}), bus, deps)
        # the app serves the page itself, under its strict CSP (console.app.CSP): a
        # violation is a console error, which fails the test
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", ws="websockets-sansio")
        self._server = server = uvicorn.Server(config)
        self._loop = loop = asyncio.new_event_loop()
        self._publisher = AlertPublisher(self.store, bus)
        self._thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),),
                                        name=f"vigil-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the console app did not start on port {self.port}")
            time.sleep(0.02)
        self.run(self._publisher.resume())  # alerts accepted while we were down

    def stop(self) -> None:
        if self._server is None or self._thread is None or self._loop is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        if self._thread.is_alive():
            raise RuntimeError("the console app did not stop")
        self._loop.close()
        self._server = self._thread = self._loop = self._publisher = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        if self._loop is None:
            coro.close()
            raise RuntimeError("the server is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def raise_alert(self, alert: Alert) -> AlertRecord:
        """What the alert service does with a new alert (store + outbox, then the bus); with
        the server down, only the store part (the outbox publishes it at the next start)."""
        if self._publisher is None:
            return self.store.insert_alert(alert)
        return self.run(self._publisher.accept(alert))
