"""``/ws``: the console's live feed (protocol in docs/console-api.md, machinery in
:mod:`console.hub`).

One connection runs three tasks: a sender (queue → socket), a receiver (``resume``
messages) and a heartbeat (``ping`` every 15 s, and a fresh token check, so a revoked or
expired token ends the feed within one heartbeat). Whichever ends first ends the
connection; a close the hub asked for (too slow, token gone, shutdown) is sent with its
code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import WebSocket

from console.auth import authenticate
from console.context import Context
from console.framequeue import batch_text
from console.hub import CLOSE_UNAUTHORIZED, Hub, Subscriber
from console.identity import Principal, Role, at_least
from core.errors import RetryableError

log = logging.getLogger(__name__)
CLOSE_UNAVAILABLE = 1011
CLOSE_TRY_AGAIN = 1013
CLOSE_TIMEOUT_S = 2.0
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class Opening:
    principal: Principal
    token: str
    last_id: int | None
    batch: bool = False
    """``?batch=1``: every message is a JSON array of envelopes (all that were queued)."""


def _int(value: Any) -> int | None:
    """A non-negative event id from a query string or JSON value; anything else → None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _hello(who: Principal) -> dict[str, Any]:
    return {"user": {"username": who.name, "display_name": who.display_name or who.name,
                     "role": who.role}}


async def websocket_feed(websocket: WebSocket) -> None:
    """The ``/ws`` endpoint."""
    ctx: Context = websocket.app.state.console
    await websocket.accept()
    hub = ctx.hub
    if hub is None:
        await websocket.close(CLOSE_UNAVAILABLE, "no store configured")
        return
    try:
        opening = await _handshake(websocket, ctx)
    except RetryableError as exc:
        log.warning("websocket: cannot check the token now (%s)", exc)
        await _close(websocket, CLOSE_TRY_AGAIN, "store unavailable, retry")
        return
    if opening is None:
        return
    sub = Subscriber(ctx.settings.ws.queue_size)
    try:
        await hub.attach(sub, opening.last_id, _hello(opening.principal))
        await _serve(websocket, ctx, hub, sub, opening)
    except RetryableError as exc:  # the store is busy or down: the client retries
        log.warning("websocket: store unavailable (%s); asking the client to retry", exc)
        await _close(websocket, CLOSE_TRY_AGAIN, "store unavailable, retry")
    finally:
        hub.detach(sub)


async def _first_message(websocket: WebSocket, timeout: float) -> dict[str, Any]:
    with contextlib.suppress(TimeoutError, ValueError):
        message = await asyncio.wait_for(websocket.receive(), timeout)
        data = json.loads(message.get("text") or "null")
        if isinstance(data, dict):
            return data
    return {}


async def _handshake(websocket: WebSocket, ctx: Context) -> Opening | None:
    """Token from ``?token=`` or a first message ``{"type": "auth", "token": ...}``;
    resume point from ``?last_id=``, that message's ``last_id``, or a ``resume`` message
    sent within ``resume_wait`` of connecting (nothing is streamed before then, so a client
    that resumes right after opening never sees events out of order)."""
    token = websocket.query_params.get("token", "")
    last_id = _int(websocket.query_params.get("last_id"))
    if not token:
        first = await _first_message(websocket, ctx.settings.ws.auth_timeout)
        token = first.get("token", "") if first.get("type") == "auth" else ""
        token = token if isinstance(token, str) else ""
        last_id = _int(first.get("last_id")) if "last_id" in first else last_id
    if token and last_id is None:
        first = await _first_message(websocket, ctx.settings.ws.resume_wait)
        last_id = _int(first.get("last_id")) if first.get("type") == "resume" else None
    who = await asyncio.to_thread(authenticate, ctx, token) if token else None
    if who is None or not at_least(who.role, Role.MONITOR):
        await _close(websocket, CLOSE_UNAUTHORIZED, "missing or invalid token")
        return None
    batch = websocket.query_params.get("batch", "") in {"1", "true", "yes"}
    return Opening(who, token, last_id, batch)


async def _serve(websocket: WebSocket, ctx: Context, hub: Hub, sub: Subscriber,
                 opening: Opening) -> None:
    tasks = [
        asyncio.create_task(_send(websocket, hub, sub, opening.batch)),
        asyncio.create_task(_receive(websocket, hub, sub, opening)),
        asyncio.create_task(_heartbeat(ctx, hub, sub, opening.token)),
        asyncio.create_task(sub.gone.wait()),
    ]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.debug("websocket ended: %r", task.exception())
    if sub.close_code:
        await _close(websocket, sub.close_code, sub.close_reason)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    """Close, but never wait long for a client that does not read."""
    try:
        await asyncio.wait_for(websocket.close(code, reason), CLOSE_TIMEOUT_S)
    except (TimeoutError, RuntimeError, OSError) as exc:
        log.debug("websocket close %d not delivered: %r", code, exc)


async def _send(websocket: WebSocket, hub: Hub, sub: Subscriber, batch: bool) -> None:
    """Queue → socket. In batch mode one message carries everything queued (up to
    ``MAX_BATCH``): under load the batches grow by themselves, and one socket write per
    batch instead of per envelope is what lets one process feed hundreds of clients."""
    while True:
        frames = await sub.queue.take(MAX_BATCH)
        sub.room.set()
        if batch:
            await websocket.send_text(batch_text(frames))
            hub.stats.sent += len(frames)
            hub.stats.messages += 1
            continue
        for frame in frames:
            await websocket.send_text(frame)
            hub.stats.sent += 1
            hub.stats.messages += 1


async def _receive(websocket: WebSocket, hub: Hub, sub: Subscriber, opening: Opening) -> None:
    """Client messages: ``{"type": "resume", "last_id": N}``; others are ignored (``pong``,
    a repeated ``auth``), so clients may add messages without breaking old servers."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            data = json.loads(message.get("text") or "null")
        except ValueError:
            continue
        if isinstance(data, dict) and data.get("type") == "resume":
            last_id = _int(data.get("last_id"))
            if last_id is not None:
                await hub.reposition(sub, last_id, _hello(opening.principal))


async def _heartbeat(ctx: Context, hub: Hub, sub: Subscriber, token: str) -> None:
    while True:
        await asyncio.sleep(ctx.settings.ws.heartbeat)
        try:
            valid = await asyncio.to_thread(authenticate, ctx, token) is not None
        except RetryableError as exc:  # a database hiccup must not drop every client
            log.warning("websocket heartbeat: token not re-checked (%s)", exc)
            valid = True
        if not valid:
            sub.close(CLOSE_UNAUTHORIZED, "token expired or revoked")
            return
        sub.offer(hub.ping())
