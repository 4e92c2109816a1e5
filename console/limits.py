"""Request-body caps, enforced while the body streams in, and error replies of bounded size.

Why: every route used to read whatever it was sent. Three 100 MB bodies to the public
``/api/login`` took a node from 515 MB to 1.7 GB before any password was checked, and
FastAPI's 422 echoes each bad value back (``input``), so a 4.99 MB CSV could come back as
a 293 MB answer (issue 11, item 4). Here:

* :class:`BodyLimit` (pure ASGI, outermost) refuses a body over its route's cap with
  **413**: at once from ``Content-Length``, or as soon as the streamed bytes pass the cap
  (chunked uploads), without reading the rest. JSON routes get ``max_json`` (64 KiB);
  the CSV import and the dispatch callback get ``max_upload`` (5 MB).
* :func:`validation_reply` renders ``RequestValidationError`` without ``input`` and with
  short messages, and :func:`bounded_lines` keeps long problem lists (a CSV with 100,000
  unknown columns) to a readable head plus a count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ERRORS = 50
"""Validation errors listed in one 422 (a body can fail on many fields)."""
MAX_LINES = 200
"""Problem lines listed in one 422 (a CSV can fail on every row)."""
MAX_TEXT = 300
"""Characters kept of one message or problem line."""


class BodyTooLarge(HTTPException):
    """The body passed its route's cap (413); raised from ``receive``, so a route that is
    reading its body stops there. ``Connection: close`` makes the server drop the
    connection instead of reading (and discarding) the rest of the body to reuse it."""

    def __init__(self, limit: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes",
                         headers={"Connection": "close"})


class BodyLimit:
    """ASGI middleware: at most ``default`` body bytes, or ``routes[path]`` for the paths
    named there (exact paths, e.g. the CSV import)."""

    def __init__(self, app: ASGIApp, default: int, routes: Mapping[str, int]) -> None:
        self.app, self.default, self.routes = app, default, dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.routes.get(scope["path"], self.default)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        started = False

        async def counted_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _counting(receive, limit), counted_send)
        except BodyTooLarge:
            if started:  # the route answered already; nothing more can be said
                raise
            await _refuse(scope, receive, send, limit)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """413, and ``Connection: close`` so the server does not read the rest to reuse the
    connection."""
    reply = JSONResponse({"detail": f"body over {limit} bytes"},
                         status_code=status.HTTP_413_CONTENT_TOO_LARGE,
                         headers={"Connection": "close"})
    await reply(scope, receive, send)


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """FastAPI's error list without ``input``/``ctx`` (they echo what was sent), messages
    cut to :data:`MAX_TEXT` and ``loc`` parts to 64 characters, at most
    :data:`MAX_ERRORS` entries."""
    out: list[dict[str, Any]] = []
    for error in list(errors)[:MAX_ERRORS]:
        loc = [p if isinstance(p, int) else _short(str(p))[:64] for p in error.get("loc", ())]
        out.append({"loc": loc, "msg": _short(str(error.get("msg", ""))),
                    "type": str(error.get("type", ""))})
    return out


async def validation_reply(_request: Request, exc: Exception) -> JSONResponse:
    """422 for a request FastAPI could not validate, without echoing the input."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)


def bounded_lines(lines: Iterable[str]) -> list[str]:
    """The first :data:`MAX_LINES` lines (each cut to :data:`MAX_TEXT`), then one line
    saying how many more there were."""
    every = list(lines)
    head = [_short(line) for line in every[:MAX_LINES]]
    if len(every) > MAX_LINES:
        head.append(f"… and {len(every) - MAX_LINES} more problems (fix these first)")
    return head
