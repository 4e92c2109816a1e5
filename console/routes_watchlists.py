"""Watchlists (布控 / 撤控) through the injected :class:`core.ports.WatchlistPort`.

The port (``alerts.watchlist_service`` in ``vigil run``) owns the rules — who may approve,
what a valid entry is — and audits every change; this module maps HTTP to it. Without a
port every route answers 503.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from console.auth import Admin, Monitor
from console.context import Ctx
from console.files import read_body
from console.schemas import ERRORS
from console.schemas_data import DeployIn, ImportOut, WatchlistOut, WatchlistPage, WithdrawIn
from console.views import watchlist_json
from core.errors import RequestError

router = APIRouter(prefix="/api/watchlists", responses=ERRORS, tags=["watchlists"])
T = TypeVar("T")
DEFAULT_PAGE, MAX_PAGE = 500, 5000
IMPORT_SHOWN = 100
"""Entries listed in an import's answer (70,000 of them made a 27 MB answer)."""
CSV_BODY = {"requestBody": {"required": True,
                            "content": {"text/csv": {"schema": {"type": "string"}}}}}


def _call(fn: Callable[[], T]) -> T:
    """Run a port call; a ``ValueError`` from deep in the port's parsing is the request's
    fault (422), not the server's."""
    try:
        return fn()
    except RequestError:
        raise
    except ValueError as exc:
        raise RequestError([("", str(exc))]) from exc


@router.get("/entries", response_model=WatchlistPage)
def entries(_who: Monitor, ctx: Ctx, status_: Annotated[
        str | None, Query(alias="status", max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> dict[str, Any]:
    """One page of the entries in force (file and console) by ``entry_id``, optionally of
    one status (active, pending_approval, withdrawn, expired). Paged because a list can
    hold 100,000 entries (26.7 MB in one answer before)."""
    port = ctx.watchlists()
    rows, total = _call(lambda: port.entries(status_, offset, limit))
    return {"items": [watchlist_json(r) for r in rows], "limit": limit, "offset": offset,
            "total": total, "has_more": offset + len(rows) < total}


@router.get("/entries/{entry_id}", response_model=WatchlistOut, responses={404: {}})
def entry(entry_id: str, _who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """One entry in force (what an alert's detail shows)."""
    port = ctx.watchlists()
    return watchlist_json(_call(lambda: port.entry(entry_id)))


@router.post("/entries", response_model=WatchlistOut, status_code=status.HTTP_201_CREATED)
def deploy(body: DeployIn, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """布控: deploy an entry (reason, level, validity window, scope ...)."""
    port = ctx.watchlists()
    return watchlist_json(_call(lambda: port.deploy(body.cells(), who.name)))


@router.post("/entries/{entry_id}/approve", response_model=WatchlistOut,
             responses={404: {}, 409: {}})
def approve(entry_id: str, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """Second-person approval (the approver must not be the applicant)."""
    port = ctx.watchlists()
    return watchlist_json(_call(lambda: port.approve(entry_id, who.name)))


@router.post("/entries/{entry_id}/withdraw", response_model=WatchlistOut,
             responses={404: {}, 409: {}})
def withdraw(entry_id: str, body: WithdrawIn, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """撤控: withdraw an entry; a reason is required."""
    port = ctx.watchlists()
    return watchlist_json(_call(lambda: port.withdraw(entry_id, who.name, body.reason)))


@router.post("/import", response_model=ImportOut, openapi_extra=CSV_BODY)
async def import_csv(request: Request, who: Admin, ctx: Ctx, source: Annotated[
        str, Query(min_length=1, max_length=128)] = "console-import") -> dict[str, Any]:
    """Import a watchlist CSV (``text/csv`` body, UTF-8). All rows or none (one
    transaction): a bad file is a 422 whose ``lines`` name every bad row. The answer lists
    the first 100 entries; page through ``GET /entries`` for the rest."""
    port = ctx.watchlists()
    raw = await read_body(request, ctx.settings.max_upload)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError([("", f"the CSV is not UTF-8 ({exc.reason} at byte {exc.start})")]
                           ) from exc
    rows = await run_in_threadpool(_call, lambda: port.import_csv(text, source, who.name))
    return {"imported": len(rows),
            "entries": [watchlist_json(r) for r in rows[:IMPORT_SHOWN]]}


@router.get("/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
def export_csv(_who: Admin, ctx: Ctx) -> Response:
    """Every entry in force, as the import CSV."""
    port = ctx.watchlists()
    text = _call(port.export_csv)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="watchlist.csv"'})

