"""Admin-only operations views: bus messages parked because no consumer could process them.

A parked message is one a consumer failed on ``max_deliveries`` times (core/consume.py);
it was acknowledged so the messages behind it could flow, and kept here whole so an admin
can see what it was, which task failed on it and why, and fix the cause.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from console.auth import Admin
from console.context import Ctx
from console.schemas import ERRORS, Out
from core.store.parked import ParkedMessage

router = APIRouter(prefix="/api/admin", responses=ERRORS, tags=["admin"])


class ParkedOut(Out):
    id: int
    task: str = Field(description="the consumer that gave up, e.g. `alerts.sightings`")
    topic: str
    entry_id: str = Field(description="the entry's id on the bus")
    payload: str = Field(description="the message as wire JSON (`{type, data}`)")
    error: str = Field(description="the last exception, `Type: message`")
    attempts: int
    first_failed_at: float
    parked_at: float


class ParkedPage(Out):
    items: list[ParkedOut]
    limit: int
    offset: int
    has_more: bool


class PageQuery(BaseModel):
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


def parked_json(message: ParkedMessage) -> dict[str, Any]:
    p = message.poison
    return {"id": message.id, "task": p.task, "topic": p.topic, "entry_id": p.entry_id,
            "payload": p.payload, "error": p.error, "attempts": p.attempts,
            "first_failed_at": p.first_failed_at, "parked_at": message.parked_at}


@router.get("/parked-messages", response_model=ParkedPage)
async def parked_messages(_who: Admin, ctx: Ctx,
                          q: Annotated[PageQuery, Query()]) -> dict[str, Any]:
    """Messages no consumer could process, newest first, one page at a time."""
    store = ctx.store()
    found = await run_in_threadpool(store.parked, q.limit + 1, q.offset)
    return {"items": [parked_json(m) for m in found[:q.limit]], "limit": q.limit,
            "offset": q.offset, "has_more": len(found) > q.limit}
