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
    tiles,
)
from console.context import Context
from console.deps import ConsoleDeps
from console.hub import Hub
from console.limits import BodyLimit
from console.metrics import render
from console.registry import CameraRegistry
from console.tokens import TokenBook
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
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


def create_app(cameras: CameraRegistry, tokens: TokenBook, bus: Bus | None = None,
               deps: ConsoleDeps | None = None,
               started: Callable[[], None] | None = None) -> FastAPI:
    """Build the app. With ``bus``, camera statuses are consumed from it and alert events
    wake the WebSocket hub; with ``deps.store``, the alert, people and WebSocket parts work
    (without it they answer 503). ``started`` runs once the app has started, before it
    serves: the process that runs the app tunes itself there (``vigil/process.py``), since
    interpreter-wide settings are the process's to make, not the app's."""
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
        if started is not None:
            started()
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
    tiles.announce(deps.settings.map)
    csp = tiles.content_policy(CSP, deps.settings.map)  # a tile server's origin, if any
    app.add_middleware(BodyLimit, default=deps.settings.max_json, routes=dict.fromkeys(
        UPLOAD_ROUTES, deps.settings.max_upload))
    for module in (routes_people, routes_alerts, routes_data, routes_search, routes_watchlists,
                   routes_admin, tiles):
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
        response.headers.setdefault("Content-Security-Policy", csp)
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


def status_subscription() -> Subscription[CameraStatus]:
    """A group of this app's own (every console sees every status), made once per app so
    a restarted feed continues where it was instead of replaying the topic."""
    group = f"console-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return Subscription(topics.CAMERA_STATUS, group, "console", count=100)


async def consume_statuses(bus: Bus, cameras: CameraRegistry,
                           on_status: StatusHook | None = None,
                           sub: Subscription[CameraStatus] | None = None,
                           guard: MessageGuard | None = None) -> None:
    """Follow ``camera.status``; ``on_status`` is told of each one applied (the hub pushes
    it to clients). Each status goes through ``guard`` (core/consume.py): one that keeps
    failing is parked (with a store) or dropped, logged and counted, never the feed's end."""

    async def apply(delivery: Delivery[CameraStatus]) -> None:
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
