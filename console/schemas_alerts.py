"""Request and response models of the shift's queue routes: filters, bulk moves, reassign
and handover (the single-alert moves are in :mod:`console.schemas`).

Kept in their own module so the queue can grow without pushing ``console/schemas.py`` past
the house limit; the shapes follow the same rules (requests refuse unknown keys).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, FiniteFloat, StringConstraints, model_validator

from console.schemas import AlertOut, In, Name, Out, Text
from core.messages import AlertState

Short = Annotated[str, StringConstraints(max_length=128)]
Level = Annotated[int, Field(ge=1, le=4)]
AlertId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
BULK_MAX = 500
"""Alerts one bulk request may name: a shift's worth of repeats, well inside ``max_json``."""


class AlertFilter(BaseModel):
    """``GET /api/alerts`` query. List parameters repeat (``?level=1&level=2``) and mean
    "any of"; different parameters must all hold."""

    state: list[AlertState] = Field(default_factory=list, max_length=8)
    level: list[Level] = Field(default_factory=list, max_length=4)
    camera_id: list[Short] = Field(default_factory=list, max_length=100)
    group: list[Short] = Field(default_factory=list, max_length=50,
                               description="camera groups (as in the camera registry); "
                                           "with camera_id: cameras in either")
    rule_id: list[Short] = Field(default_factory=list, max_length=50)
    category: list[Short] = Field(default_factory=list, max_length=50)
    claimed_by: Short | None = Field(None, description="the holder")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        None, description="text: plate (any spelling), zone, camera id, name or address")
    since: FiniteFloat | None = Field(None, description="raised_at >= since (POSIX s)")
    until: FiniteFloat | None = Field(None, description="raised_at < until (POSIX s)")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=1_000_000)


class BulkIn(In):
    """One action on many alerts; each is moved, audited and published on its own."""

    action: Literal["sign", "dismiss"]
    ids: list[AlertId] = Field(min_length=1, max_length=BULK_MAX)
    reason: Text = Field("", description="required (non-blank) for dismiss")
    note: Text = Field("", description="note on each sign")

    @model_validator(mode="after")
    def _needs_reason(self) -> Self:
        if self.action == "dismiss" and not self.reason.strip():
            raise ValueError("dismiss needs a reason")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("ids must not repeat")
        return self


class BulkItem(Out):
    """The outcome for one id: ``status`` 200 (moved, or already so by you), 404 (no such
    alert) or 409 (refused: ``detail`` says why, ``state``/``claimed_by`` as stored now)."""

    alert_id: str
    status: int
    detail: str | None = None
    state: str | None = None
    claimed_by: str | None = None
    alert: AlertOut | None = None


class BulkOut(Out):
    action: str
    done: int = Field(description="ids answered 200")
    failed: int = Field(description="ids answered 404 or 409")
    results: list[BulkItem] = Field(description="one per id, in the order asked")


class ReassignIn(In):
    to: Name = Field(description="username of an enabled console user")
    reason: Text = ""


class HandoverIn(In):
    to: Name = Field(description="username of the next shift's operator")
    holder: Name | None = Field(
        None, description="whose alerts (default: yours; someone else's needs supervisor)")
    reason: Text = ""


class HandoverOut(Out):
    holder: str
    to: str
    moved: list[str] = Field(description="alert ids now held by `to`")
    failed: list[BulkItem] = Field(description="alerts that changed meanwhile (409)")


class AssigneeOut(Out):
    username: str
    display_name: str
    role: str
