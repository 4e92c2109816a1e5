"""HTTP request and response models (pydantic lives at the edges only: docs/architecture.md).

Response models mirror the functions in :mod:`console.views`; requests refuse unknown
keys so a typo in a field name is a 422 naming it rather than a silently ignored value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Self

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, StringConstraints, model_validator

from console.identity import Role
from console.mirror import Mirror, mirror
from core.store.records import DispatchItem
from core.text import require_unicode

Text = Annotated[str, StringConstraints(max_length=2000)]
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=2000)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a row id")]
"""An integer id in a path, bounded to what the databases store (64-bit)."""
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class In(BaseModel):
    """A request body: unknown keys are refused, and so is text no encoder can write (a
    JSON ``"\\ud800"``), before a driver or the reply fails on it (core/text.py)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _valid_unicode(self) -> Self:
        for name, value in self:
            require_unicode(value, name)
        return self


class Out(BaseModel):
    """A shape this package builds (console/views.py): exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no or invalid bearer token"},
    403: {"model": Problem, "description": "the token's role is not enough"},
    422: {"model": Problem, "description": "invalid request: `detail` lists field paths"},
    503: {"model": Problem, "description": "store or port not configured, or busy"},
}


# --- people -----------------------------------------------------------------------------

class LoginIn(In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class UserOut(Out):
    username: str
    display_name: str
    role: str
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0


class LoginOut(Out):
    token: str
    expires_at: float
    user: UserOut


class MeOut(Out):
    username: str
    display_name: str
    role: str
    kind: str = Field(description="static (bootstrap token), session or api")
    expires_at: float | None


class UserIn(In):
    username: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]
    role: Role
    display_name: Annotated[str, StringConstraints(max_length=128)] | None = None


class UserPatch(In):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    role: Role | None = None
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None
    disabled: bool | None = None


class TokenIn(In):
    name: Name
    role: Role | None = Field(None, description="an integration token's role; leave it out "
                              "for a user's token, which acts with the user's role")
    username: Annotated[str, StringConstraints(max_length=64)] | None = Field(
        None, description="the console user the token acts as; none = an integration token")
    expires_at: FiniteFloat | None = Field(None, description="POSIX seconds; none = until revoked")


class TokenOut(Out):
    id: int
    name: str
    username: str | None = Field(None, description="the user it acts as; none = integration")
    role: str = Field(description="the role it acts with (a user's token: the user's role now)")
    created_by: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None


class TokenCreated(TokenOut):
    token: str = Field(description="the secret; shown only in this response")


class AuditQuery(BaseModel):
    object: Annotated[str, StringConstraints(max_length=256)] | None = None
    who: Annotated[str, StringConstraints(max_length=128)] | None = None
    since: FiniteFloat | None = None
    limit: int = Field(100, ge=1, le=1000)


class AuditOut(Out):
    id: int
    at: float
    who: str
    action: str
    object: str
    detail: Any


class OkOut(Out):
    ok: bool


# --- alerts -----------------------------------------------------------------------------

class NoteIn(In):
    note: Text = ""


class FeedbackIn(In):
    result: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=64)]
    note: Text = ""
    attachments: list[Annotated[str, StringConstraints(max_length=512)]] = Field(
        default_factory=list, max_length=20)


class DismissIn(In):
    reason: Required


class EvidenceUrls(Out):
    snapshot: str | None
    plate: str | None
    clip: str | None


class SlaOut(Out):
    sign_due_at: float
    feedback_due_at: float | None


class Timestamps(Out):
    raised_at: float
    pushed_at: float | None
    signed_at: float | None
    disposed_at: float | None
    feedback_at: float | None
    closed_at: float | None
    dismissed_at: float | None


class AlertOut(Out):
    alert_id: str
    seq: int
    rule_id: str
    level: int
    category: str
    state: str
    claimed_by: str | None
    subject: str
    summary_zh: str
    summary_en: str
    camera_id: str
    camera_name: str
    address: str
    lon: float | None
    lat: float | None
    crs: str
    raised_at: float
    review_only: bool
    watchlist_entry_id: str | None
    observation: dict[str, Any] = Field(
        description="`type` (sighting | event | camera_status) + the observation's fields")
    evidence: EvidenceUrls
    sla: SlaOut
    timestamps: Timestamps


class AlertPage(Out):
    items: list[AlertOut]
    limit: int
    offset: int
    has_more: bool


class TimelineOut(Out):
    seq: int
    kind: str
    from_state: str
    to_state: str
    by: str
    at: float
    note: str
    detail: dict[str, Any] | None


if TYPE_CHECKING:
    class DispatchOut(Mirror):
        """core.store.records.DispatchItem (console/mirror.py)."""
else:
    DispatchOut = mirror(DispatchItem, "DispatchOut")


class AlertDetail(Out):
    alert: AlertOut
    timeline: list[TimelineOut]
    dispatch: list[DispatchOut] | None = Field(
        description="deliveries of this alert; null for the monitor role")


class RetryOut(Out):
    id: int
    retried: bool


class CallbackOut(Out):
    alert_id: str
    duplicate: bool = Field(description="a repeat of a recorded callback; nothing added")
