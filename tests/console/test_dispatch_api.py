"""Dispatch on the console (issue 11, item 10): delivery and dead-letter metrics on
``/metrics`` from a real dispatcher posting to a real receiver, a replayed callback
answered ``duplicate: true`` by the real callback handler, and API tokens that cannot be
born expired."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from alerts.dispatch import Dispatcher, webhook_id
from alerts.dispatch_callback import DispatchCallbacks
from alerts.dispatch_sign import sign_headers
from core.clock import FakeClock
from tests.alerts.test_dispatch import config, target
from tests.alerts.test_dispatch_receiver import SECRET, Receiver
from tests.console.support import Rig, build_rig, make_alert


def metric(text: str, name: str, labels: str = "") -> float | None:
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return None if found is None else float(found.group(1))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_metrics_count_deliveries_and_dead_letters(rig: Rig, api: httpx.AsyncClient,
                                                         http: httpx.AsyncClient) -> None:
    clock: FakeClock = rig.clock
    alerts = [make_alert(n) for n in (31, 32)]
    for alert in alerts:
        rig.store.insert_alert(alert)
    answers = {webhook_id(alerts[0].alert_id, "110-m"): 200,
               webhook_id(alerts[1].alert_id, "110-m"): 400}
    receiver = Receiver(SECRET, clock, script=lambda _n, wid: (answers[wid], 0.0))
    before = (await api.get("/metrics")).text
    ok0 = metric(before, "vigil_dispatch_deliveries_total", 'result="delivered",target="110-m"')
    dispatcher = Dispatcher(rig.store, config(target("110-m", receiver.url)), clock, http)
    for alert in alerts:
        await dispatcher.enqueue(alert)
    await receiver.start()
    try:
        await dispatcher.run_once()
    finally:
        await receiver.stop()
    text = (await api.get("/metrics")).text
    assert metric(text, "vigil_dispatch_deliveries_total",
                  'result="delivered",target="110-m"') == (ok0 or 0) + 1
    assert metric(text, "vigil_dispatch_deliveries_total",
                  'result="dead",target="110-m"') is not None
    assert metric(text, "vigil_dispatch_dead_letters") == 1.0


def real_callbacks_rig(tmp_path: Path) -> Rig:
    rig = build_rig(tmp_path)
    deps = rig.app.state.console.deps
    rig.app.state.console.deps = type(deps)(
        store=deps.store, watchlists=deps.watchlists, clock=deps.clock, settings=deps.settings,
        dispatch=DispatchCallbacks(rig.store, SECRET, rig.clock))
    return rig


async def test_a_replayed_callback_says_duplicate(tmp_path: Path) -> None:
    rig = real_callbacks_rig(tmp_path)
    alert = make_alert(41)
    rig.store.insert_alert(alert)
    body = json.dumps({"alert_id": alert.alert_id, "status": "dispatched",
                       "at": "2023-11-15T06:15:00+08:00"}).encode()
    headers = sign_headers("msg_dup_1", int(rig.clock.now()), body, SECRET)
    async with rig.client() as api:
        first = await api.post("/api/dispatch/callback", content=body, headers=headers)
        again = await api.post("/api/dispatch/callback", content=body, headers=headers)
    rig.store.close()
    assert first.status_code == 200 and first.json() == {"alert_id": alert.alert_id,
                                                         "duplicate": False}
    assert again.status_code == 200 and again.json() == {"alert_id": alert.alert_id,
                                                         "duplicate": True}


async def test_a_signed_callback_with_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    rig = real_callbacks_rig(tmp_path)
    alert = make_alert(42)
    rig.store.insert_alert(alert)
    body = (b'{"alert_id": "' + alert.alert_id.encode() + b'", "status": "dispatched", '
            b'"at": "2023-11-15T06:15:00+08:00", "note": "\\ud800"}')
    headers = sign_headers("msg_sur_1", int(rig.clock.now()), body, SECRET)
    async with rig.client() as api:
        reply = await api.post("/api/dispatch/callback", content=body, headers=headers)
    rig.store.close()
    assert reply.status_code == 422, reply.text


async def test_an_api_token_cannot_be_created_expired(rig: Rig, api: httpx.AsyncClient) -> None:
    admin = rig.auth("admin")
    now = rig.clock.now()
    for when in (now - 3600, now):
        reply = await api.post("/api/tokens", headers=admin,
                               json={"name": "late", "role": "monitor", "expires_at": when})
        assert reply.status_code == 422, (when, reply.text)
        assert reply.json()["detail"][0]["loc"][-1] == "expires_at"
    ok = await api.post("/api/tokens", headers=admin,
                        json={"name": "fine", "role": "monitor", "expires_at": now + 60})
    assert ok.status_code == 201
