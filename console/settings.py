"""The knobs the console runs with (``ConsoleSettings`` and its parts), all defaults.

Plain frozen dataclasses with no console imports, at the bottom of the package: the app,
the hub, the views, the users logic and ``vigil`` all read them, so they must not live
beside anything that imports those modules back (they once sat in ``console/context.py``,
which closed an import circle through ``auth``, ``users``, ``hub`` and ``views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.config.tiles import MapOptions

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
    map: MapOptions = field(default_factory=MapOptions)
    """Base map tiles (``console.map``); the default is the page's grid map."""
