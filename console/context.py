"""What the console app talks to, and the knobs it runs with.

``create_app`` takes a :class:`ConsoleDeps`; everything is optional so a console without a
store (camera pages only) still starts, and a route that needs a missing piece answers 503
instead of failing at import or start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status

from core.bus import Bus
from core.clock import Clock, SystemClock
from core.ports import DispatchPort, WatchlistPort
from core.store import Store

if TYPE_CHECKING:  # auth and hub import this module
    from console.auth import TokenBook
    from console.hub import Hub
    from console.registry import CameraRegistry

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """Session tokens: valid ``ttl`` seconds after their last use (sliding, so an operator
    who keeps working stays signed in), never longer than ``max_age`` after login (a
    24-hour shift). The expiry is written back at most every ``refresh_every`` seconds."""

    ttl: float = 12 * HOUR
    max_age: float = 24 * HOUR
    refresh_every: float = 60.0


@dataclass(frozen=True, slots=True)
class LoginLimit:
    """At most ``failures`` wrong passwords per (username, client IP) within ``window``
    seconds; the next attempt is refused with 429 and ``Retry-After``."""

    failures: int = 5
    window: float = 300.0


@dataclass(frozen=True, slots=True)
class WsSettings:
    """WebSocket hub. ``queue_size`` frames are buffered per client; a client whose queue
    stays full for ``stall_after`` seconds is disconnected (close code 4008) and replays
    from its last id when it returns. ``poll_every`` bounds how stale a console can be when
    the bus is quiet or down (events also come from other consoles' writes)."""

    queue_size: int = 1000
    stall_after: float = 10.0
    heartbeat: float = 15.0
    poll_every: float = 1.0
    page: int = 200
    auth_timeout: float = 10.0
    coalesce: float = 0.02
    """Shortest time between two reads of the event log (latency it may add under load).
    Every read that finds events costs one socket write per client, so this bounds the
    writes per second to ``clients / coalesce``. With bench/console.py on 2 cores at 200
    clients × 500 alerts/s, 0.01 s saturated the machine and 0.03 s added more waiting
    than it saved; 0.02 s gave the lowest p99."""
    resume_wait: float = 0.5
    """Without ``?last_id=``, how long the server waits for a ``resume`` message before it
    starts streaming from the current end of the log."""


@dataclass(frozen=True, slots=True)
class SlaDue:
    """Deadlines shown with each alert and used by ``/api/stats`` (docs/integration.md §4)."""

    sign: float = 30.0
    feedback: float = 1800.0


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    live_dir: Path = Path("var/live")
    """``<camera_id>.jpg`` written about once a second by the ingest workers."""
    evidence_dir: Path = Path("var/evidence")
    """Root of the evidence refs stored in alerts (refs are relative to it)."""
    timezone: str = "Asia/Shanghai"
    """Where "today" starts for ``/api/stats``."""
    sessions: SessionSettings = SessionSettings()
    login: LoginLimit = LoginLimit()
    ws: WsSettings = WsSettings()
    sla: SlaDue = SlaDue()
    max_upload: int = 5 * 1024 * 1024
    """Largest watchlist CSV import or dispatch callback body accepted (bytes)."""
    max_json: int = 64 * 1024
    """Largest body of every other route (JSON: login, users, alert moves ...), so an
    unauthenticated client cannot make the server hold megabytes (console/limits.py)."""
    trusted_proxies: tuple[str, ...] = ()
    """Peer addresses (IPs or CIDR networks) whose ``X-Forwarded-For`` names the client;
    empty: the peer is the client, whatever headers it sends (console/proxies.py)."""


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """The optional collaborators of the console app (``vigil`` builds them)."""

    store: Store | None = None
    watchlists: WatchlistPort | None = None
    dispatch: DispatchPort | None = None
    clock: Clock = field(default_factory=SystemClock)
    settings: ConsoleSettings = ConsoleSettings()


@dataclass(slots=True)
class Context:
    """Everything a request handler may need, kept on ``app.state.console``."""

    cameras: CameraRegistry
    tokens: TokenBook
    bus: Bus | None
    deps: ConsoleDeps
    hub: Hub | None = None

    @property
    def settings(self) -> ConsoleSettings:
        return self.deps.settings

    @property
    def clock(self) -> Clock:
        return self.deps.clock

    def store(self) -> Store:
        """The store, or 503 when this console runs without one."""
        if self.deps.store is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no store configured")
        return self.deps.store

    def watchlists(self) -> WatchlistPort:
        if self.deps.watchlists is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "watchlists not configured")
        return self.deps.watchlists

    def dispatch(self) -> DispatchPort:
        if self.deps.dispatch is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "dispatch not configured")
        return self.deps.dispatch


def context(request: Request) -> Context:
    ctx: Context = request.app.state.console
    return ctx


Ctx = Annotated[Context, Depends(context)]
