"""Alerts over HTTP: list, detail, the operator's moves, conflicts, evidence, the JSON shape."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from console.schemas import AlertOut
from console.views import alert_json
from core import topics
from core.messages import AlertTransition, Sighting
from core.store import DispatchRequest
from tests.console.support import Rig, make_alert


def seed(rig: Rig, count: int = 3) -> list[str]:
    ids = []
    for n in range(count):
        record = rig.store.insert_alert(make_alert(n, level=1 + n % 4, at=1_700_000_000.0 + n))
        ids.append(record.alert.alert_id)
    return ids


def test_alert_json_is_exactly_the_documented_model(rig: Rig) -> None:
    record = rig.store.insert_alert(make_alert(1))
    data = alert_json(record)
    AlertOut.model_validate(data)  # extra="forbid": the function and the model agree
    assert data["evidence"] == {
        "snapshot": f"/api/alerts/{record.alert.alert_id}/evidence/snapshot",
        "plate": f"/api/alerts/{record.alert.alert_id}/evidence/plate",
        "clip": f"/api/alerts/{record.alert.alert_id}/evidence/clip",
    }
    assert data["observation"]["type"] == "sighting"
    assert data["observation"]["evidence"]["snapshot"] == "snap/1.jpg"
    assert data["sla"] == {"sign_due_at": record.alert.raised_at + 30, "feedback_due_at": None}
    assert data["timestamps"]["raised_at"] == record.alert.raised_at
    assert (data["subject"], data["crs"], data["camera_name"]) == ("京A12345", "GCJ02", "Gate 3")


async def test_list_is_paged_newest_first_and_filtered(rig: Rig, api: httpx.AsyncClient) -> None:
    ids = seed(rig, 5)
    auth = rig.auth("monitor")
    page = (await api.get("/api/alerts?limit=2", headers=auth)).json()
    assert [a["alert_id"] for a in page["items"]] == [ids[4], ids[3]] and page["has_more"]
    last = (await api.get("/api/alerts?limit=2&offset=4", headers=auth)).json()
    assert [a["alert_id"] for a in last["items"]] == [ids[0]] and not last["has_more"]
    level = (await api.get("/api/alerts?level=2", headers=auth)).json()["items"]
    assert {a["alert_id"] for a in level} == {ids[1]}
    window = (await api.get("/api/alerts?since=1700000001&until=1700000003",
                            headers=auth)).json()["items"]
    assert [a["alert_id"] for a in window] == [ids[2], ids[1]]
    bad = await api.get("/api/alerts?state=bogus&limit=0", headers=auth)
    assert bad.status_code == 422
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {("query", "state", 0),
                                                                ("query", "limit")}


async def test_detail_has_timeline_and_dispatch_for_dispatchers(rig: Rig,
                                                                api: httpx.AsyncClient) -> None:
    alert_id = seed(rig, 1)[0]
    rig.store.enqueue_dispatch(DispatchRequest(alert_id, "110", "wh-1", "{}"))
    monitor = (await api.get(f"/api/alerts/{alert_id}", headers=rig.auth("monitor"))).json()
    assert monitor["dispatch"] is None
    assert [t["kind"] for t in monitor["timeline"]] == ["raised"]
    dispatcher = (await api.get(f"/api/alerts/{alert_id}", headers=rig.auth("dispatcher"))).json()
    assert [d["webhook_id"] for d in dispatcher["dispatch"]] == ["wh-1"]
    assert (await api.get("/api/alerts/nope", headers=rig.auth("monitor"))).status_code == 404


async def test_full_workflow_published_and_audited(rig: Rig, api: httpx.AsyncClient) -> None:
    alert_id = seed(rig, 1)[0]
    auth = rig.auth("monitor")
    base = f"/api/alerts/{alert_id}"
    signed = await api.post(f"{base}/sign", headers=auth)
    assert signed.status_code == 200, signed.text
    assert (signed.json()["state"], signed.json()["claimed_by"]) == ("signed", "token:t-monitor")
    assert signed.json()["sla"]["feedback_due_at"] == rig.clock.now() + 1800
    assert (await api.post(f"{base}/sign", headers=auth)).status_code == 200  # repeat: no-op
    assert (await api.post(f"{base}/dispose", json={"note": "警力已派"}, headers=auth)
            ).json()["state"] == "disposing"
    fb = await api.post(f"{base}/feedback", headers=auth,
                        json={"result": "seized", "note": "车辆已扣", "attachments": ["a.jpg"]})
    assert fb.json()["state"] == "feedback"
    assert (await api.post(f"{base}/close", headers=auth)).json()["state"] == "closed"
    timeline = rig.store.timeline(alert_id)
    assert [t.to_state.value for t in timeline] == ["new", "signed", "disposing", "feedback",
                                                    "closed"]
    assert timeline[3].detail == {"result": "seized", "note": "车辆已扣",
                                  "attachments": ["a.jpg"]}
    published = await rig.bus.read(topics.ALERT_TRANSITIONS, "t", "t", count=10, block=0)
    assert [d.message.to_state.value for d in published
            if isinstance(d.message, AlertTransition)] == ["signed", "disposing", "feedback",
                                                           "closed"]
    actions = [e.action for e in rig.store.audit_log(obj=f"alert:{alert_id}")]
    assert actions == ["alert.close", "alert.feedback", "alert.dispose", "alert.sign"]


async def test_second_operator_gets_409_naming_the_holder(rig: Rig,
                                                          api: httpx.AsyncClient) -> None:
    alert_id = seed(rig, 1)[0]
    assert (await api.post(f"/api/alerts/{alert_id}/sign", headers=rig.auth("monitor"))
            ).status_code == 200
    for action in ("sign", "dispose"):
        clash = await api.post(f"/api/alerts/{alert_id}/{action}", headers=rig.auth("admin"))
        assert clash.status_code == 409
        body = clash.json()
        assert body["claimed_by"] == "token:t-monitor" and body["state"] == "signed"
        assert "token:t-monitor" in body["detail"]


async def test_racing_signs_exactly_one_wins(rig: Rig, api: httpx.AsyncClient) -> None:
    alert_id = seed(rig, 1)[0]
    replies = await asyncio.gather(*(
        api.post(f"/api/alerts/{alert_id}/sign", headers=rig.auth(role))
        for role in ("monitor", "dispatcher", "admin")))
    codes = sorted(r.status_code for r in replies)
    assert codes == [200, 409, 409]


async def test_move_bodies_are_validated(rig: Rig, api: httpx.AsyncClient) -> None:
    alert_id = seed(rig, 1)[0]
    auth = rig.auth("monitor")
    no_reason = await api.post(f"/api/alerts/{alert_id}/dismiss", json={"reason": "  "},
                               headers=auth)
    assert no_reason.status_code == 422
    assert no_reason.json()["detail"][0]["loc"] == ["body", "reason"]
    extra = await api.post(f"/api/alerts/{alert_id}/sign", json={"nope": 1}, headers=auth)
    assert extra.status_code == 422
    dismissed = await api.post(f"/api/alerts/{alert_id}/dismiss", json={"reason": "误报: 树影"},
                               headers=auth)
    assert dismissed.json()["state"] == "dismissed"
    assert (await api.post("/api/alerts/missing/sign", headers=auth)).status_code == 404


@pytest.mark.parametrize(("kind", "ref", "media"), [
    ("snapshot", "snap/1.jpg", "image/jpeg"), ("plate", "plate/1.jpg", "image/jpeg"),
    ("clip", "clips/1.mp4", "video/mp4"),
])
async def test_evidence_is_served_from_the_evidence_dir(
    rig: Rig, api: httpx.AsyncClient, tmp_path: Path, kind: str, ref: str, media: str
) -> None:
    alert_id = rig.store.insert_alert(make_alert(1)).alert.alert_id
    url = f"/api/alerts/{alert_id}/evidence/{kind}"
    assert (await api.get(url, headers=rig.auth("monitor"))).status_code == 404
    path = tmp_path / "evidence" / ref
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8evidence")
    reply = await api.get(url, headers=rig.auth("monitor"))
    assert reply.status_code == 200 and reply.content == b"\xff\xd8evidence"
    assert reply.headers["content-type"] == media
    assert (await api.get(f"/api/alerts/{alert_id}/evidence/other", headers=rig.auth("monitor"))
            ).status_code == 422


@pytest.mark.parametrize("ref", ["../secret.jpg", "/etc/passwd", "snap/../../secret.jpg",
                                 "link/secret.jpg", "a\\..\\..\\secret.jpg"])
async def test_evidence_refs_cannot_leave_the_evidence_dir(
    rig: Rig, api: httpx.AsyncClient, tmp_path: Path, ref: str
) -> None:
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "link").symlink_to(tmp_path)
    alert = make_alert(1)
    obs = alert.observation
    assert isinstance(obs, Sighting)
    alert = replace(alert, observation=replace(obs, evidence=replace(obs.evidence, snapshot=ref)))
    rig.store.insert_alert(alert)
    reply = await api.get(f"/api/alerts/{alert.alert_id}/evidence/snapshot",
                          headers=rig.auth("monitor"))
    assert reply.status_code == 404 and b"secret" not in reply.content
