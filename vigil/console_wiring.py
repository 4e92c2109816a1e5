"""Build the console app of a running node and its demo login.

The console imports only ``core``; here it is handed the store, the watchlist service and
the dispatch callback handler that ``alerts`` provides (``core.ports``).
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from alerts.dispatch_callback import DispatchCallbacks
from alerts.watchlist_service import WatchlistService
from console.app import create_app
from console.deps import ConsoleDeps
from console.registry import CameraRegistry
from console.settings import ConsoleSettings
from console.tokens import TokenBook
from console.users import add_user
from core.bus import Bus
from core.clock import Clock
from core.config.models import Service
from core.store import Store
from vigil.process import settle_heap

log = logging.getLogger(__name__)
DEMO_LOGIN = Path("var/demo-login.txt")
DEMO_USER = "admin"


@dataclass(frozen=True, slots=True)
class ConsoleParts:
    """What the node has built that the console is handed: named, so a call site cannot
    swap two of them the way it could the positions of a tuple."""

    store: Store
    watchlists: WatchlistService
    clock: Clock


def build_app(registry: CameraRegistry, tokens: TokenBook, bus: Bus,
              parts: ConsoleParts, service: Service) -> FastAPI:
    """The console app of ``vigil run`` (``all`` or ``hub``). Once it has started, the
    process's start-up heap is settled (:func:`vigil.process.settle_heap`): the console's
    push latency is what that tuning is for, and a node serves one console."""
    store, clock = parts.store, parts.clock
    secret = service.dispatch.callback_secret
    deps = ConsoleDeps(
        store=store, watchlists=parts.watchlists,
        dispatch=DispatchCallbacks(store, secret, clock) if secret else None, clock=clock,
        settings=ConsoleSettings(live_dir=Path(service.live_dir),
                                 evidence_dir=Path(service.evidence_dir),
                                 trusted_proxies=tuple(service.console.trusted_proxies),
                                 map=service.console.map))
    return create_app(registry, tokens, bus, deps, started=settle_heap)


def ensure_demo_login(store: Store) -> None:
    """A fresh install has no users: create ``admin`` with a random password and keep it in
    ``var/demo-login.txt`` (mode 600). The password is printed once, when it is created;
    later starts only say where the file is, so logs never carry it again."""
    if not store.list_users():
        password = secrets.token_urlsafe(9)
        add_user(store, DEMO_USER, password, "admin", "演示管理员")
        DEMO_LOGIN.parent.mkdir(parents=True, exist_ok=True)
        DEMO_LOGIN.write_text(f"{DEMO_USER} {password}\n", encoding="utf-8")
        os.chmod(DEMO_LOGIN, 0o600)
        print(f"demo login created: {DEMO_USER} / {password}  (kept in {DEMO_LOGIN}, mode 600; "
              "add real users with `vigil users add` and delete that file)", flush=True)
    elif DEMO_LOGIN.exists():
        log.info("demo login for %r is in %s (add real users with `vigil users add` and "
                 "delete that file)", DEMO_USER, DEMO_LOGIN)
