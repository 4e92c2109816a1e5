"""Cameras and live pictures, sightings and trajectories, stats, dispatch, watchlists, and
503 for a console started without its store or ports."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from console.app import create_app
from console.identity import Principal
from console.registry import CameraRegistry
from console.tokens import TokenBook
from core.lifecycle import Action, transition
from core.messages import CameraState, CameraStatus
from core.store import DispatchRequest
from tests.console.support import Rig, cameras, make_alert, sighting, sign_body

CSV = ("plate,category,level,reason,unit,valid_until,scope\n"
       "京A12345,stolen,1,盗抢车辆,刑侦大队,2030-01-01T00:00+08:00,all\n")


async def test_live_snapshot(rig: Rig, api: httpx.AsyncClient, tmp_path: Path) -> None:
    url = "/api/cameras/gate-3/snapshot.jpg"
    assert (await api.get(url, headers=rig.auth("monitor"))).status_code == 404
    (tmp_path / "live").mkdir()
    (tmp_path / "live" / "gate-3.jpg").write_bytes(b"\xff\xd8live")
    reply = await api.get(url, headers=rig.auth("monitor"))
    assert reply.status_code == 200 and reply.content == b"\xff\xd8live"
    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["content-type"] == "image/jpeg"
    assert (await api.get("/api/cameras/..%2Fsecret/snapshot.jpg", headers=rig.auth("monitor"))
            ).status_code == 404


async def test_sightings_and_trajectory(rig: Rig, api: httpx.AsyncClient) -> None:
    at = rig.clock.now() - 600
    rig.store.add_sighting(sighting(1, at=at, camera="gate-3"))
    rig.store.add_sighting(sighting(2, at=at + 60, camera="34020000001320000001"))
    rig.store.add_sighting(sighting(3, at=at + 120, camera="gone-cam"))
    rig.store.add_sighting(sighting(4, plate="沪B88888", at=at + 5))
    auth = rig.auth("monitor")
    found = (await api.get("/api/sightings", params={"plate": "京a·12345"}, headers=auth)).json()
    assert [s["sighting_id"] for s in found] == ["s-1", "s-2", "s-3"]
    assert found[0]["evidence"]["snapshot"] == "snap/1.jpg"
    path = (await api.get("/api/trajectory", params={"plate": "京A12345", "since": at + 30},
                          headers=auth)).json()
    assert path["plate"] == "京A12345" and path["since"] == at + 30
    assert [p["sighting"]["sighting_id"] for p in path["points"]] == ["s-2", "s-3"]
    assert path["points"][0]["camera"]["lon"] == 106.38
    assert path["cameras"]["gone-cam"] == {"camera_id": "gone-cam", "name": "gone-cam",
                                           "lon": None, "lat": None, "crs": None, "address": ""}
    bad = await api.get("/api/trajectory", params={"plate": "·", "since": "nan"}, headers=auth)
    assert bad.status_code == 422


async def test_stats_today(rig: Rig, api: httpx.AsyncClient) -> None:
    now = rig.clock.now()
    fast = rig.store.insert_alert(make_alert(1, level=1, at=now - 100))
    slow = rig.store.insert_alert(make_alert(2, level=2, at=now - 100))
    rig.store.insert_alert(make_alert(3, level=2, at=now - 10))  # not due yet
    rig.store.insert_alert(make_alert(4, level=3, at=now - 2 * 86400))  # another day
    step = transition(fast.case, Action.SIGN, "alice", now - 90)
    rig.store.append_transition(step, fast.case)
    step = transition(slow.case, Action.SIGN, "bob", now - 40)
    rig.store.append_transition(step, slow.case)
    rig.registry.apply(CameraStatus("gate-3", CameraState.STREAMING, since=1.0))
    body = (await api.get("/api/stats", headers=rig.auth("monitor"))).json()
    assert body["alerts"] == {"total": 3, "by_level": {"1": 1, "2": 2},
                              "by_state": {"new": 1, "signed": 2}}
    assert body["sla"]["sign"] == {"due_s": 30.0, "due": 2, "met": 1, "share": 0.5}
    assert body["sla"]["feedback"]["due"] == 0 and body["sla"]["feedback"]["share"] is None
    assert body["cameras"] == {"connecting": 1, "streaming": 1}
    assert body["timezone"] == "Asia/Shanghai" and body["day_start"] <= now - 100


async def test_dead_letters_and_retry(rig: Rig, api: httpx.AsyncClient) -> None:
    alert_id = rig.store.insert_alert(make_alert(1)).alert.alert_id
    item = rig.store.enqueue_dispatch(DispatchRequest(alert_id, "110", "wh-1", "{}"))
    rig.store.mark_dead(item.id, "HTTP 500 five times")
    auth = rig.auth("dispatcher")
    dead = (await api.get("/api/dispatch/dead-letters", headers=auth)).json()
    assert [(d["id"], d["last_error"]) for d in dead] == [(item.id, "HTTP 500 five times")]
    retried = await api.post(f"/api/dispatch/dead-letters/{item.id}/retry", headers=auth)
    assert retried.json() == {"id": item.id, "retried": True}
    assert (await api.post(f"/api/dispatch/dead-letters/{item.id}/retry", headers=auth)
            ).status_code == 404
    assert rig.store.audit_log(obj=f"dispatch:{item.id}")[0].who == "token:t-dispatcher"


async def test_dispatch_callback_is_verified_by_the_port(rig: Rig,
                                                         api: httpx.AsyncClient) -> None:
    alert_id = rig.store.insert_alert(make_alert(1)).alert.alert_id
    body = json.dumps({"alert_id": alert_id, "status": "arrived"}).encode()
    forged = await api.post("/api/dispatch/callback", content=body,
                            headers={**sign_body(b"other"), "content-type": "application/json"})
    assert forged.status_code == 401
    ok = await api.post("/api/dispatch/callback", content=body, headers=sign_body(body))
    assert ok.status_code == 200 and ok.json() == {"alert_id": alert_id, "duplicate": False}
    assert [t.kind for t in rig.store.timeline(alert_id)] == ["raised", "dispatch"]
    garbage = b"not json"
    assert (await api.post("/api/dispatch/callback", content=garbage,
                           headers=sign_body(garbage))).status_code == 422


async def test_watchlist_deploy_approve_withdraw_export(rig: Rig, api: httpx.AsyncClient) -> None:
    admin = rig.auth("admin")
    made = await api.post("/api/watchlists/entries", headers=admin, json={
        "plate": "沪B88888", "category": "wanted", "level": 2, "reason": "肇事逃逸",
        "requires_approval": True})
    assert made.status_code == 201, made.text
    entry = made.json()
    assert entry["status"] == "pending_approval" and "entry" not in entry
    self_approve = await api.post(f"/api/watchlists/entries/{entry['entry_id']}/approve",
                                  headers=admin)
    assert self_approve.status_code in (409, 422)
    pending = (await api.get("/api/watchlists/entries?status=pending_approval",
                             headers=rig.auth("monitor"))).json()["items"]
    assert [e["entry_id"] for e in pending] == [entry["entry_id"]]
    no_reason = await api.post(f"/api/watchlists/entries/{entry['entry_id']}/withdraw",
                               json={"reason": ""}, headers=admin)
    assert no_reason.status_code == 422
    gone = await api.post(f"/api/watchlists/entries/{entry['entry_id']}/withdraw",
                          json={"reason": "已撤案"}, headers=admin)
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    bad = await api.post("/api/watchlists/entries", headers=admin, json={"plate": "京A12345"})
    assert bad.status_code == 422 and {d["loc"][1] for d in bad.json()["detail"]} >= {"reason"}
    assert (await api.post("/api/watchlists/entries/nope/approve", headers=admin)
            ).status_code == 404
    export = await api.get("/api/watchlists/export.csv", headers=admin)
    assert export.headers["content-type"].startswith("text/csv")


async def test_watchlist_import(rig: Rig, api: httpx.AsyncClient) -> None:
    admin = {**rig.auth("admin"), "content-type": "text/csv"}
    done = await api.post("/api/watchlists/import?source=unit-7", content=CSV.encode(),
                          headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 1
    bad_csv = CSV + "京AI2345,stolen,9,,刑侦大队,,all\n"
    bad = await api.post("/api/watchlists/import", content=bad_csv.encode(), headers=admin)
    assert bad.status_code == 422
    lines = bad.json()["lines"]
    assert lines and all(line.startswith("console-import:3:") for line in lines)
    not_utf8 = await api.post("/api/watchlists/import", content=b"\xff\xfe\x00", headers=admin)
    assert not_utf8.status_code == 422


async def test_without_store_or_ports_routes_answer_503(tmp_path: Path) -> None:
    book = TokenBook({"t": Principal("t", "admin")})
    app = create_app(CameraRegistry(cameras()), book)
    auth = {"Authorization": "Bearer t"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://v") as api:
        for path in ("/api/alerts", "/api/stats", "/api/watchlists/entries", "/api/users"):
            assert (await api.get(path, headers=auth)).status_code == 503, path
        assert (await api.post("/api/dispatch/callback", content=b"{}")).status_code == 503
        assert (await api.post("/api/login", json={"username": "a", "password": "b"})
                ).status_code == 503
        assert (await api.get("/api/cameras", headers=auth)).status_code == 200
