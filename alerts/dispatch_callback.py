"""Status callbacks from the 110 side back into an alert's timeline (docs/integration.md §4).

The console mounts :func:`handle_callback` as ``POST /api/dispatch/callback``. The 110
system signs its callbacks exactly like we sign deliveries (Standard Webhooks 1.0, with
``dispatch.callback_secret``) and sends::

    {"alert_id": "...", "status": "accepted|dispatched|arrived|feedback|closed",
     "at": "2023-11-15T06:14:02+08:00", "by": "指挥中心 张三", "note": "...",
     "dispatch_id": "110-20231115-0042"}

``at`` is ISO 8601 with an offset (a naive time is refused: its zone would be a guess) or
unix seconds. Unknown extra fields are ignored so the 110 side can add some without
breaking us. A callback records a ``kind="dispatch"`` timeline entry and an audit row; it
never moves the alert's state (that is the operator's, through the lifecycle).

Idempotent on ``webhook-id``: the 110 side retries too, and a retry of a callback already
recorded returns ``duplicate=True`` without a second entry. The check and the insert are
serialised within this process; two nodes receiving the same callback in the same
millisecond could both record it (harmless: same facts, twice).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from alerts.dispatch_sign import DEFAULT_TOLERANCE, SignatureError, verify
from core.clock import Clock
from core.errors import AuthenticationError, FatalError, RequestError
from core.messages import AlertTransition, TransitionKind
from core.ports import CallbackReceipt, CallbackStore
from core.store import JsonObject
from core.store.records import NotFoundError
from core.text import require_unicode

CallbackStatus = Literal["accepted", "dispatched", "arrived", "feedback", "closed"]
STATUS_LABELS: dict[str, str] = {
    "accepted": "已接警", "dispatched": "已派警", "arrived": "已到达现场",
    "feedback": "已反馈", "closed": "已结案",
}
"""How each status reads on the console (zh)."""
_LOCK = threading.Lock()


class CallbackError(FatalError):
    """A callback was refused. ``http_status``: 401 signature, 400 malformed, 404 unknown alert."""

    def __init__(self, http_status: int, message: str) -> None:
        self.http_status = http_status
        super().__init__(message)


class CallbackBody(BaseModel):
    """The callback JSON (the wire edge: pydantic validates it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    alert_id: str = Field(min_length=1, max_length=64)
    status: CallbackStatus
    at: AwareDatetime
    by: str = Field("", max_length=128)
    note: str = Field("", max_length=4000)
    dispatch_id: str = Field("", max_length=128)

    @model_validator(mode="after")
    def _valid_unicode(self) -> CallbackBody:
        """A JSON ``"\\ud800"`` would fail in the database driver: refuse it here (400)."""
        for name, value in self:
            require_unicode(value, name)
        return self


@dataclass(frozen=True, slots=True)
class CallbackResult:
    alert_id: str
    status: str
    webhook_id: str
    at: float
    duplicate: bool = False


def _parse(body: str | bytes) -> CallbackBody:
    try:
        return CallbackBody.model_validate_json(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
                             for e in exc.errors())
        raise CallbackError(400, f"malformed callback: {problems}") from None


def _note(msg: CallbackBody) -> str:
    text = f"110 {msg.status} {STATUS_LABELS[msg.status]}"
    text += f" #{msg.dispatch_id}" if msg.dispatch_id else ""
    return text + (f": {msg.note}" if msg.note else "")


def _seen(store: CallbackStore, alert_id: str, webhook_id: str) -> bool:
    return any(e.kind == TransitionKind.DISPATCH and e.detail is not None
               and e.detail.get("source") == "callback"
               and e.detail.get("webhook_id") == webhook_id
               for e in store.timeline(alert_id))


def handle_callback(store: CallbackStore, headers: Mapping[str, str], body: str | bytes,
                    secret: str, clock: Clock) -> CallbackResult:
    """Verify, parse and record one status callback (synchronous: call it through
    ``asyncio.to_thread``). Raises :class:`CallbackError` with the HTTP status to answer."""
    try:
        webhook_id = verify(headers, body, secret, DEFAULT_TOLERANCE, clock.now())
    except SignatureError as exc:
        raise CallbackError(401, f"callback signature rejected: {exc}") from None
    msg = _parse(body)
    at = msg.at.timestamp()
    result = CallbackResult(msg.alert_id, msg.status, webhook_id, at)
    with _LOCK:
        record = store.get_alert(msg.alert_id)
        if record is None:
            raise CallbackError(404, f"unknown alert {msg.alert_id!r}")
        if _seen(store, msg.alert_id, webhook_id):
            return CallbackResult(msg.alert_id, msg.status, webhook_id, at, duplicate=True)
        state = record.alert.state
        by = f"110:{msg.by}" if msg.by else "110"
        detail: JsonObject = {
            "source": "callback", "webhook_id": webhook_id, "status": msg.status,
            "by": msg.by, "note": msg.note, "dispatch_id": msg.dispatch_id,
            "received_at": clock.now()}
        store.append_event(AlertTransition(msg.alert_id, TransitionKind.DISPATCH, state, state,
                                           by, at, _note(msg)), detail)
    store.audit(by, f"dispatch.callback.{msg.status}", f"alert:{msg.alert_id}", detail)
    return result


class DispatchCallbacks:
    """:class:`core.ports.DispatchPort` for the console: maps refusals onto core errors so
    the API answers 401 (signature), 422 (malformed) or 404 (unknown alert)."""

    def __init__(self, store: CallbackStore, secret: str, clock: Clock) -> None:
        self._store, self._secret, self._clock = store, secret, clock

    def callback(self, headers: Mapping[str, str], body: bytes) -> CallbackReceipt:
        try:
            result = handle_callback(self._store, headers, body, self._secret, self._clock)
        except CallbackError as exc:
            if exc.http_status == 401:
                raise AuthenticationError(str(exc)) from exc
            if exc.http_status == 404:
                raise NotFoundError(str(exc)) from exc
            raise RequestError([("body", str(exc))]) from exc
        return CallbackReceipt(result.alert_id, result.duplicate)
