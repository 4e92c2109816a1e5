"""110 status callbacks: verified, parsed, recorded once in the timeline, refused clearly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from alerts.dispatch_callback import CallbackError, handle_callback
from alerts.dispatch_sign import sign_headers
from core.clock import FakeClock
from core.messages import AlertState
from core.store import Store, open_store
from tests.alerts.test_dispatch_receiver import T0, make_alert

SECRET = "whsec_dmlnaWwtY2FsbGJhY2stdGVzdC1zZWNyZXQ="


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + 100)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'vigil.db'}", clock)
    opened.insert_alert(make_alert(1))
    try:
        yield opened
    finally:
        opened.close()


ALERT_ID = make_alert(1).alert_id


def signed(payload: dict[str, Any], clock: FakeClock, webhook_id: str = "msg_cb_1",
           secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return sign_headers(webhook_id, int(clock.now()), body, secret), body


def payload(**values: Any) -> dict[str, Any]:
    return {"alert_id": ALERT_ID, "status": "dispatched", "at": "2023-11-15T06:15:00+08:00",
            "by": "指挥中心 张三", "note": "巡逻车 3 号前往", "dispatch_id": "110-0042"} | values


def dispatch_entries(store: Store) -> list[Any]:
    return [e for e in store.timeline(ALERT_ID) if e.kind == "dispatch"]


def test_callback_lands_in_the_timeline_and_the_audit_log(store: Store, clock: FakeClock
                                                          ) -> None:
    headers, body = signed(payload(), clock)
    result = handle_callback(store, headers, body, SECRET, clock)
    assert (result.alert_id, result.status, result.webhook_id, result.duplicate) == (
        ALERT_ID, "dispatched", "msg_cb_1", False)
    (entry,) = dispatch_entries(store)
    assert (entry.from_state, entry.to_state) == (AlertState.NEW, AlertState.NEW)
    assert entry.by == "110:指挥中心 张三" and entry.at == T0 + 100
    assert entry.note == "110 dispatched 已派警 #110-0042: 巡逻车 3 号前往"
    assert entry.detail["status"] == "dispatched" and entry.detail["webhook_id"] == "msg_cb_1"
    record = store.get_alert(ALERT_ID)
    assert record is not None and record.alert.state == AlertState.NEW  # state is untouched
    (audit,) = store.audit_log(obj=f"alert:{ALERT_ID}")
    assert (audit.who, audit.action) == ("110:指挥中心 张三", "dispatch.callback.dispatched")


def test_a_retried_callback_is_recorded_once(store: Store, clock: FakeClock) -> None:
    headers, body = signed(payload(status="arrived"), clock)
    assert not handle_callback(store, headers, body, SECRET, clock).duplicate
    clock.advance(30)
    headers, body = signed(payload(status="arrived"), clock)  # same webhook-id, re-signed
    assert handle_callback(store, headers, body, SECRET, clock).duplicate
    headers, body = signed(payload(status="closed"), clock, webhook_id="msg_cb_2")
    assert not handle_callback(store, headers, body, SECRET, clock).duplicate
    assert [e.detail["status"] for e in dispatch_entries(store)] == ["arrived", "closed"]


@pytest.mark.parametrize("at", [1_700_000_500, 1_700_000_500.5, "2023-11-14T22:21:40Z"])
def test_time_as_unix_seconds_or_iso_with_offset(store: Store, clock: FakeClock,
                                                 at: object) -> None:
    headers, body = signed(payload(at=at, by="", note="", dispatch_id=""), clock)
    result = handle_callback(store, headers, body, SECRET, clock)
    assert int(result.at) == 1_700_000_500
    (entry,) = dispatch_entries(store)
    assert (entry.by, entry.note) == ("110", "110 dispatched 已派警")


def test_unknown_fields_are_ignored(store: Store, clock: FakeClock) -> None:
    headers, body = signed(payload(vendor_extension={"x": 1}), clock)
    assert handle_callback(store, headers, body, SECRET, clock).status == "dispatched"


@pytest.mark.parametrize(("change", "http_status", "message"), [
    ({"status": "teleported"}, 400, "status"),
    ({"at": "2023-11-15T06:15:00"}, 400, "at"),  # naive: its zone would be a guess
    ({"alert_id": ""}, 400, "alert_id"),
    ({"alert_id": "no-such-alert"}, 404, "unknown alert 'no-such-alert'"),
])
def test_bad_callbacks_are_refused(store: Store, clock: FakeClock, change: dict[str, Any],
                                   http_status: int, message: str) -> None:
    headers, body = signed(payload(**change), clock)
    with pytest.raises(CallbackError, match=message) as info:
        handle_callback(store, headers, body, SECRET, clock)
    assert info.value.http_status == http_status
    assert dispatch_entries(store) == []


def test_not_json_is_refused(store: Store, clock: FakeClock) -> None:
    headers = sign_headers("msg_x", int(clock.now()), b"not json", SECRET)
    with pytest.raises(CallbackError, match="malformed") as info:
        handle_callback(store, headers, b"not json", SECRET, clock)
    assert info.value.http_status == 400


@pytest.mark.parametrize("attack", ["wrong secret", "tampered", "stale", "unsigned"])
def test_bad_signatures_are_refused_before_anything_is_read(
        store: Store, clock: FakeClock, attack: str) -> None:
    headers, body = signed(payload(), clock, secret="whsec_b3RoZXIta2V5" if attack ==
                           "wrong secret" else SECRET)
    if attack == "tampered":
        body = body.replace(b"dispatched", b"closed")
    if attack == "stale":
        clock.advance(301)
    if attack == "unsigned":
        headers = {}
    with pytest.raises(CallbackError, match="signature") as info:
        handle_callback(store, headers, body, SECRET, clock)
    assert info.value.http_status == 401
    assert dispatch_entries(store) == []


def callback_app(store: Store, clock: FakeClock) -> FastAPI:
    """The endpoint as docs/dispatch.md shows the console mounting it."""
    app = FastAPI()

    @app.post("/api/dispatch/callback")
    async def dispatch_callback(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            result = await asyncio.to_thread(handle_callback, store, request.headers, body,
                                             SECRET, clock)
        except CallbackError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.http_status)
        return JSONResponse({"ok": True, "duplicate": result.duplicate})

    return app


async def test_mounted_as_an_http_endpoint(store: Store, clock: FakeClock) -> None:
    transport = httpx.ASGITransport(app=callback_app(store, clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://vigil") as client:
        headers, body = signed(payload(status="accepted"), clock)
        first = await client.post("/api/dispatch/callback", content=body, headers=headers)
        again = await client.post("/api/dispatch/callback", content=body, headers=headers)
        forged = await client.post("/api/dispatch/callback", content=body,
                                   headers=headers | {"webhook-signature": "v1,AAAA"})
    assert (first.status_code, first.json()) == (200, {"ok": True, "duplicate": False})
    assert again.json()["duplicate"] is True
    assert forged.status_code == 401 and "signature" in forged.json()["error"]
    assert [e.detail["status"] for e in dispatch_entries(store)] == ["accepted"]
