"""The FastAPI application: health, metrics, the REST API under ``/api`` and ``/ws``.

The app holds no pipeline objects: it reads the :class:`CameraRegistry` that a bus
consumer task keeps fresh, the store (alerts, users, the event log) and the two ports
``vigil`` injects (watchlists, dispatch). So the same app works on a node that runs
cameras and on a console-only node reading a shared Redis bus and database; several
console processes can sit behind one load balancer (see :mod:`console.hub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from console import (
    apidocs,
    errors,
    routes_admin,
    routes_alerts,
    routes_data,
    routes_people,
    routes_search,
    routes_watchlists,
)
from console.auth import TokenBook
from console.context import ConsoleDeps, Context
from console.hub import Hub
from console.limits import BodyLimit
from console.metrics import render
from console.registry import CameraRegistry
from console.ws import websocket_feed
from core import topics
from core.bus import Bus, Delivery
from core.clock import SystemClock
from core.consume import MessageGuard, Subscription, consume, store_parker
from core.errors import RetryableError
from core.messages import CameraStatus
from core.supervise import start_supervised

log = logging.getLogger(__name__)
StatusHook = Callable[[CameraStatus], None]
Next = Callable[[Request], Awaitable[Response]]
STATIC = Path(__file__).parent / "static"
UPLOAD_ROUTES = ("/api/watchlists/import", "/api/dispatch/callback")
"""Routes whose body may reach ``max_upload``; every other one is held to ``max_json``."""
STATUS_TASK = "console.statuses"
FULL_COLLECTION_EVERY = 1000
"""Middle-generation collections between two full ones (CPython's default is 10)."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def create_app(cameras: CameraRegistry, tokens: TokenBook, bus: Bus | None = None,
               deps: ConsoleDeps | None = None) -> FastAPI:
    """Build the app. With ``bus``, camera statuses are consumed from it and alert events
    wake the WebSocket hub; with ``deps.store``, the alert, people and WebSocket parts work
    (without it they answer 503)."""
    deps = deps or ConsoleDeps()
    ctx = Context(cameras, tokens, bus, deps)
    if deps.store is not None:
        ctx.hub = Hub(deps.store, cameras, deps.settings, deps.clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        hub = ctx.hub
        hook = (lambda status: hub.camera(status.camera_id)) if hub is not None else None
        task = _status_feed(ctx, bus, hook) if bus else None
        if hub is not None:
            await hub.start(bus)
        _settle_heap()
        try:
            yield
        finally:
            if hub is not None:
                await hub.stop()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="Vigil", version="0.2.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="Alert console API: see docs/console-api.md")
    app.state.console = ctx
    app.state.tokens = tokens
    app.state.cameras = cameras
    errors.install(app)
    app.add_middleware(BodyLimit, default=deps.settings.max_json, routes=dict.fromkeys(
        UPLOAD_ROUTES, deps.settings.max_upload))
    for module in (routes_people, routes_alerts, routes_data, routes_search, routes_watchlists,
                   routes_admin):
        app.include_router(module.router)
    app.add_api_websocket_route("/ws", websocket_feed)
    if not apidocs.install(app):
        log.warning("/docs is off: Swagger UI's files (package fastapi-offline) are missing; "
                    "the spec is still at /openapi.json")

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, Any]:
        views = cameras.views()
        return {"status": "ok", "cameras": len(views),
                "streaming": sum(1 for v in views if v.status and v.status.state == "streaming")}

    @app.get("/metrics", tags=["ops"], response_class=Response)
    def metrics() -> Response:
        stats = ctx.hub.stats if ctx.hub is not None else None
        return Response(render(cameras, stats, _dead_letters(ctx)),
                        media_type="text/plain; version=0.0.4")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Next) -> Response:
        """The page loads nothing from elsewhere (offline police network): say so to the
        browser, so an injected script or a stray CDN link fails loudly."""
        response = await call_next(request)  # /docs sets its own, slightly wider, policy
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    # last, so /api, /ws, /health, /metrics and /docs match first
    app.mount("/", StaticFiles(directory=STATIC, html=True), name="console")
    return app


def _status_feed(ctx: Context, bus: Bus, hook: StatusHook | None) -> asyncio.Task[None]:
    """The camera status consumer, supervised (restarted with back-off if it dies) and
    guarded per message (parked in the store when there is one)."""
    store = ctx.deps.store
    guard = MessageGuard(STATUS_TASK, store_parker(store) if store is not None else None,
                         ctx.clock)
    sub = status_subscription()
    return start_supervised(STATUS_TASK,
                            lambda: consume_statuses(bus, ctx.cameras, hook, sub, guard))


def _dead_letters(ctx: Context) -> int | None:
    """The store's dead-letter count for ``/metrics``; a busy or absent store leaves the
    gauge out of this scrape rather than failing the whole page."""
    store = ctx.deps.store
    if store is None:
        return None
    try:
        return store.count_dead_letters()
    except RetryableError as exc:
        log.warning("/metrics: dead-letter count skipped: %s", exc)
        return None


def _settle_heap() -> None:
    """Hide everything built at start-up from the cycle collector (``gc.freeze``).

    The app, SQLAlchemy, pydantic and the routes are hundreds of thousands of objects that
    live as long as the process; a full collection walks them all while every socket
    waits. bench/console.py measured single full collections of over 100 ms at 200
    clients, a stall that lands on every push in flight and dominated the p99. Frozen
    objects are still freed by reference counting; only cycles that were alive at start-up
    and die later are kept (collected first, so there are few).

    Full collections are also made rarer (after 1,000 collections of the middle generation
    instead of 10, i.e. about every 7 million net allocations): with the start-up heap
    frozen, the default rule still ran full collections under load, 20–50 ms each, and
    at 200 clients × 500 alerts/s those pauses pushed the p99 past 50 ms (bench/console.py
    on 2 cores: p99 53–82 ms in three runs with the default, 43–54 ms in five with this).
    Cycles still get collected, only later; the long-lived heap of a running node is
    bounded (bus log, caches), so a full collection costs about the same whenever it runs.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)


def status_subscription() -> Subscription:
    """A group of this app's own (every console sees every status), made once per app so
    a restarted feed continues where it was instead of replaying the topic."""
    group = f"console-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return Subscription(topics.CAMERA_STATUS, group, "console", count=100)


async def consume_statuses(bus: Bus, cameras: CameraRegistry,
                           on_status: StatusHook | None = None,
                           sub: Subscription | None = None,
                           guard: MessageGuard | None = None) -> None:
    """Follow ``camera.status``; ``on_status`` is told of each one applied (the hub pushes
    it to clients). Each status goes through ``guard`` (core/consume.py): one that keeps
    failing is parked (with a store) or dropped, logged and counted, never the feed's end."""

    async def apply(delivery: Delivery) -> None:
        if isinstance(delivery.message, CameraStatus):
            cameras.apply(delivery.message)
            if on_status is not None:
                on_status(delivery.message)

    guard = guard or MessageGuard(STATUS_TASK, None, SystemClock())
    await consume(bus, sub or status_subscription(), apply, guard)


def server_options() -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config`` that this app relies on: uvicorn's own
    ``X-Forwarded-For`` handling off (it trusts 127.0.0.1 by default), because the app
    decides whom to trust from ``ConsoleSettings.trusted_proxies`` (console/proxies.py)."""
    return {"proxy_headers": False, "server_header": False}
