"""Vigil errors → HTTP answers (one table, so every route maps them the same way).

| error | status | body |
|---|---|---|
| ``RequestValidationError`` | 422 | FastAPI's ``detail`` without ``input`` (console/limits.py) |
| ``RequestError`` | 422 | ``detail``: ``[{loc, msg, type}]`` with the field path in ``loc`` |
| ``ConfigError`` | 422 | ``detail`` as above + ``lines``: one ``source:row: field: why`` each
  (the first 200, then a count) |
| ``AuthenticationError`` | 401 | ``detail`` |
| ``NotFoundError`` | 404 | ``detail`` |
| ``TransitionError`` | 409 | ``detail`` (alert routes add ``state`` and ``claimed_by``) |
| ``LoginThrottled`` | 429 | ``detail`` + ``Retry-After`` |
| ``RetryableError`` | 503 | ``detail`` + ``Retry-After: 1`` (database busy, bus down) |
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from console.limits import bounded_lines, validation_reply
from console.users import LoginThrottled
from core.errors import (
    AuthenticationError,
    ConfigError,
    RequestError,
    RetryableError,
    TransitionError,
)
from core.store import NotFoundError

log = logging.getLogger(__name__)


class AlertConflict(TransitionError):
    """A refused alert move, with the alert's state and holder as stored now (the 409 body
    tells the operator who has it)."""

    def __init__(self, exc: TransitionError, state: str | None, claimed_by: str | None) -> None:
        super().__init__(exc.entity, exc.expected, exc.got)
        self.state, self.claimed_by = state, claimed_by


def field_loc(field: str) -> list[str | int]:
    """``"rows.3.plate"`` → ``["body", "rows", 3, "plate"]`` (FastAPI's ``loc`` style)."""
    parts: list[str | int] = ["body"]
    for part in field.split(".") if field else []:
        parts.append(int(part) if part.isdigit() else part)
    return parts


async def _request_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    detail = [{"loc": field_loc(f), "msg": why, "type": "value_error"} for f, why in exc.problems]
    return JSONResponse({"detail": detail or [{"loc": ["body"], "msg": str(exc),
                                                "type": "value_error"}]}, status_code=422)


async def _config_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ConfigError)
    lines = bounded_lines(exc.problems)
    detail = [{"loc": ["body"], "msg": line, "type": "config_error"} for line in lines]
    return JSONResponse({"detail": detail, "lines": lines}, status_code=422)


async def _auth_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    body: dict[str, str | None] = {"detail": str(exc)}
    if isinstance(exc, AlertConflict):
        body.update(state=exc.state, claimed_by=exc.claimed_by)
    return JSONResponse(body, status_code=409)


async def _throttled(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LoginThrottled)
    return JSONResponse({"detail": str(exc)}, status_code=429,
                        headers={"Retry-After": str(exc.retry_after)})


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: temporarily unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": f"temporarily unavailable: {exc}"}, status_code=503,
                        headers={"Retry-After": "1"})


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(RequestValidationError, validation_reply)
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(ConfigError, _config_error)
    app.add_exception_handler(AuthenticationError, _auth_error)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(TransitionError, _conflict)
    app.add_exception_handler(LoginThrottled, _throttled)
    app.add_exception_handler(RetryableError, _busy)
