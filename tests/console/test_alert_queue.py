"""The queue for a whole shift over HTTP: filters and text search, bulk sign and dismiss
with a partial conflict, reassign (改派) and handover (交班) with their audit rows and
timeline entries, and who may do which."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from console.users import add_user
from core import topics
from core.messages import AlertTransition, SceneEvent, SceneKind
from core.store.users import UserChange
from tests.console.support import Rig, build_rig, make_alert
from tests.core.store_support import pg_schema_url
from tests.e2e.test_users_cli import vigil

pytest_plugins = ["tests.core.store_fixtures"]

PASSWORD = "correct-horse-9"
SKYNET = "34020000001320000001"  # camera "人民路与建设路口", group "skynet"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """Both databases: the filters are SQL (ILIKE, IN) and the moves conditional UPDATEs."""
    url = (pg_schema_url(request.getfixturevalue("pg_database"))
           if request.param == "postgres" else None)
    built = build_rig(tmp_path, store_url=url)
    try:
        yield built
    finally:
        built.store.close()


def insert(rig: Rig, n: int, **changes: object) -> str:
    alert = replace(make_alert(n, at=1_700_000_000.0 + n), **changes)  # type: ignore[arg-type]
    return rig.store.insert_alert(alert).alert.alert_id


async def session(api: httpx.AsyncClient, rig: Rig, username: str,
                  role: str = "monitor") -> dict[str, str]:
    """A console user signed in: the name the alerts record is the username."""
    add_user(rig.store, username, PASSWORD, role)
    reply = await api.post("/api/login", json={"username": username, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


async def ids_of(api: httpx.AsyncClient, rig: Rig, query: str) -> set[str]:
    reply = await api.get(f"/api/alerts?{query}", headers=rig.auth("monitor"))
    assert reply.status_code == 200, reply.text
    return {a["alert_id"] for a in reply.json()["items"]}


async def test_filters_and_text_search(rig: Rig, api: httpx.AsyncClient) -> None:
    plate = insert(rig, 1, level=1, subject="京A12345")
    other = insert(rig, 2, level=2, subject="沪B67890", category="wanted")
    scene_obs = SceneEvent("e-3", "gate-3", SceneKind.INTRUSION, "仓库北门", (1,), 1_700_000_003.0)
    zone = insert(rig, 3, level=3, rule_id="no-entry", category="intrusion",
                  subject="仓库北门:intrusion", observation=scene_obs)
    skynet = insert(rig, 4, level=4, subject="京C55555", camera_id=SKYNET)
    signed = await api.post(f"/api/alerts/{other}/sign", headers=rig.auth("dispatcher"))
    assert signed.status_code == 200

    assert await ids_of(api, rig, "level=1&level=4") == {plate, skynet}
    assert await ids_of(api, rig, "state=signed") == {other}
    assert await ids_of(api, rig, "state=new&state=signed&level=2") == {other}
    assert await ids_of(api, rig, "rule_id=no-entry") == {zone}
    assert await ids_of(api, rig, "category=wanted&category=intrusion") == {other, zone}
    assert await ids_of(api, rig, "claimed_by=token:t-dispatcher") == {other}
    assert await ids_of(api, rig, f"camera_id={SKYNET}") == {skynet}
    assert await ids_of(api, rig, "group=skynet") == {skynet}
    assert await ids_of(api, rig, "group=skynet&camera_id=gate-3") == {plate, other, zone,
                                                                         skynet}
    assert await ids_of(api, rig, "group=no-such-group") == set()
    assert await ids_of(api, rig, "since=1700000002&until=1700000004") == {other, zone}
    # text: a plate in another spelling, a zone, a camera name and address (registry)
    assert await ids_of(api, rig, "q=京a·12345") == {plate}
    assert await ids_of(api, rig, "q=12345") == {plate}
    assert await ids_of(api, rig, "q=仓库") == {zone}
    assert await ids_of(api, rig, "q=建设路") == {skynet}
    assert await ids_of(api, rig, "q=大武口") == {skynet}
    assert await ids_of(api, rig, "q=gate&level=1") == {plate}
    assert await ids_of(api, rig, "q=%25") == set()  # % is literal, not a wildcard
    bad = await api.get("/api/alerts?level=5&q=" + "x" * 65, headers=rig.auth("monitor"))
    assert bad.status_code == 422
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {("query", "level", 0),
                                                                ("query", "q")}


async def test_bulk_sign_reports_a_conflict_and_signs_the_rest(
        rig: Rig, api: httpx.AsyncClient) -> None:
    ids = [insert(rig, n) for n in range(4)]
    taken = await api.post(f"/api/alerts/{ids[1]}/sign", headers=rig.auth("dispatcher"))
    assert taken.status_code == 200
    missing = str(uuid.uuid4())
    reply = await api.post("/api/alerts/bulk", headers=rig.auth("monitor"), json={
        "action": "sign", "ids": [ids[0], ids[1], missing, ids[2], ids[3]]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["action"], body["done"], body["failed"]) == ("sign", 3, 2)
    assert [r["status"] for r in body["results"]] == [200, 409, 404, 200, 200]
    clash = body["results"][1]
    assert (clash["state"], clash["claimed_by"]) == ("signed", "token:t-dispatcher")
    assert "token:t-dispatcher" in clash["detail"]
    assert body["results"][0]["alert"]["claimed_by"] == "token:t-monitor"
    for alert_id, holder in zip(ids, ["token:t-monitor", "token:t-dispatcher",
                                      "token:t-monitor", "token:t-monitor"], strict=True):
        record = rig.store.get_alert(alert_id)
        assert record is not None and record.claimed_by == holder
        sign_rows = [e for e in rig.store.audit_log(obj=f"alert:{alert_id}")
                     if e.action == "alert.sign"]
        assert len(sign_rows) == 1  # each alert audited on its own
        assert isinstance(sign_rows[0].detail, dict)
        assert sign_rows[0].detail.get("bulk") is (holder == "token:t-monitor" or None)
    published = await rig.bus.read(topics.ALERT_TRANSITIONS, "t", "t", count=20, block=0)
    signed_ids = [d.message.alert_id for d in published
                  if isinstance(d.message, AlertTransition)]
    assert sorted(signed_ids) == sorted([ids[1], ids[0], ids[2], ids[3]])


async def test_bulk_dismiss_needs_one_reason_and_records_it_on_each(
        rig: Rig, api: httpx.AsyncClient) -> None:
    ids = [insert(rig, n) for n in range(3)]
    auth = rig.auth("monitor")
    for body in ({"action": "dismiss", "ids": ids}, {"action": "dismiss", "ids": ids,
                                                      "reason": "  "},
                 {"action": "sign", "ids": [ids[0], ids[0]]}, {"action": "close", "ids": ids},
                 {"action": "sign", "ids": []}):
        refused = await api.post("/api/alerts/bulk", headers=auth, json=body)
        assert refused.status_code == 422, body
    assert all(rig.store.get_alert(i).alert.state.value == "new" for i in ids)  # type: ignore[union-attr]
    reply = await api.post("/api/alerts/bulk", headers=auth, json={
        "action": "dismiss", "ids": ids, "reason": "施工车辆，非布控目标"})
    assert reply.json()["done"] == 3
    for alert_id in ids:
        last = rig.store.timeline(alert_id)[-1]
        assert (last.to_state.value, last.note, last.by) == (
            "dismissed", "施工车辆，非布控目标", "token:t-monitor")


async def test_supervisor_reassigns_with_audit_and_timeline(
        rig: Rig, api: httpx.AsyncClient) -> None:
    alice = await session(api, rig, "alice")
    await session(api, rig, "bob")
    alert_id = insert(rig, 1)
    assert (await api.post(f"/api/alerts/{alert_id}/sign", headers=alice)).status_code == 200
    moved = await api.post(f"/api/alerts/{alert_id}/reassign", headers=rig.auth("supervisor"),
                           json={"to": "bob", "reason": "alice 下班"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["claimed_by"], moved.json()["state"]) == ("bob", "signed")
    entry = rig.store.timeline(alert_id)[-1]
    assert (entry.kind, entry.by, entry.from_state, entry.to_state) == (
        "reassign", "token:t-supervisor", entry.from_state, entry.from_state)
    assert entry.note == "alice → bob: alice 下班"
    assert entry.detail == {"from": "alice", "to": "bob", "reason": "alice 下班"}
    audit = rig.store.audit_log(obj=f"alert:{alert_id}")[0]
    assert (audit.action, audit.who) == ("alert.reassign", "token:t-supervisor")
    assert audit.detail == {"from": "alice", "to": "bob", "reason": "alice 下班",
                            "state": "signed"}
    events = rig.store.event_details_after(0)
    assert [e.event.kind for e in events][-1] == "reassign"  # the WebSocket shows it live
    detail = (await api.get(f"/api/alerts/{alert_id}", headers=alice)).json()
    assert detail["timeline"][-1]["kind"] == "reassign"
    # the new holder moves it on; the old one is refused like any other non-holder
    assert (await api.post(f"/api/alerts/{alert_id}/dispose", headers=alice)).status_code == 409
    bob = {"Authorization": (await api.post("/api/login", json={
        "username": "bob", "password": PASSWORD})).json()["token"]}
    bob["Authorization"] = "Bearer " + bob["Authorization"]
    assert (await api.post(f"/api/alerts/{alert_id}/dispose", headers=bob)).status_code == 200
    again = await api.post(f"/api/alerts/{alert_id}/reassign", headers=rig.auth("admin"),
                           json={"to": "bob"})
    assert again.status_code == 200 and len(rig.store.timeline(alert_id)) == 4  # a no-op


async def test_who_may_reassign(rig: Rig, api: httpx.AsyncClient) -> None:
    alice = await session(api, rig, "alice")
    await session(api, rig, "bob")
    alert_id = insert(rig, 1)
    new = await api.post(f"/api/alerts/{alert_id}/reassign", headers=rig.auth("admin"),
                         json={"to": "bob"})
    assert new.status_code == 409  # nobody holds a new alert: sign it instead
    assert (await api.post(f"/api/alerts/{alert_id}/sign", headers=alice)).status_code == 200
    for role in ("monitor", "dispatcher"):  # not the holder, not a supervisor
        refused = await api.post(f"/api/alerts/{alert_id}/reassign", headers=rig.auth(role),
                                 json={"to": "bob"})
        assert refused.status_code == 409, role
        assert refused.json()["claimed_by"] == "alice"
    for to in ("nobody", "carol"):
        if to == "carol":
            add_user(rig.store, "carol", PASSWORD, "monitor")
            rig.store.update_user("carol", UserChange(disabled=True), "test")
        unknown = await api.post(f"/api/alerts/{alert_id}/reassign", headers=alice,
                                 json={"to": to})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "to"]
    record = rig.store.get_alert(alert_id)
    assert record is not None and record.claimed_by == "alice"
    assert [t.kind for t in rig.store.timeline(alert_id)] == ["raised", "transition"]
    own = await api.post(f"/api/alerts/{alert_id}/reassign", headers=alice, json={"to": "bob"})
    assert own.status_code == 200 and own.json()["claimed_by"] == "bob"  # the holder may


async def test_handover_passes_every_unfinished_alert_to_the_next_shift(
        rig: Rig, api: httpx.AsyncClient) -> None:
    alice = await session(api, rig, "alice")
    await session(api, rig, "bob")
    add_user(rig.store, "gone", PASSWORD, "monitor")
    rig.store.update_user("gone", UserChange(disabled=True), "test")
    people = (await api.get("/api/alerts/assignees", headers=alice)).json()
    assert [p["username"] for p in people] == ["alice", "bob"]  # enabled users only
    ids = [insert(rig, n) for n in range(5)]
    for alert_id in ids:
        assert (await api.post(f"/api/alerts/{alert_id}/sign", headers=alice)).status_code == 200
    await api.post(f"/api/alerts/{ids[1]}/dispose", headers=alice)
    await api.post(f"/api/alerts/{ids[2]}/dismiss", headers=alice, json={"reason": "误报"})
    others = await api.post("/api/alerts/handover", headers=rig.auth("monitor"),
                            json={"holder": "alice", "to": "bob"})
    assert others.status_code == 403  # a monitor hands over only their own
    self_to_self = await api.post("/api/alerts/handover", headers=alice, json={"to": "alice"})
    assert self_to_self.status_code == 422

    reply = await api.post("/api/alerts/handover", headers=alice,
                           json={"to": "bob", "reason": "早班交晚班"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["holder"], body["to"], body["failed"]) == ("alice", "bob", [])
    assert sorted(body["moved"]) == sorted([ids[0], ids[1], ids[3], ids[4]])
    for alert_id in body["moved"]:
        record = rig.store.get_alert(alert_id)
        assert record is not None and record.claimed_by == "bob"
        entry = rig.store.timeline(alert_id)[-1]
        assert (entry.kind, entry.by, entry.note) == ("handover", "alice",
                                                      "alice → bob: 早班交晚班")
        assert rig.store.audit_log(obj=f"alert:{alert_id}")[0].action == "alert.handover"
    dismissed = rig.store.get_alert(ids[2])
    assert dismissed is not None and dismissed.claimed_by == "alice"  # finished: stays
    summary = rig.store.audit_log(obj="user:alice")[0]
    assert (summary.action, summary.who) == ("alerts.handover", "alice")
    assert summary.detail == {"to": "bob", "moved": 4, "failed": 0, "reason": "早班交晚班"}
    # a supervisor hands over for someone who already left
    back = await api.post("/api/alerts/handover", headers=rig.auth("supervisor"),
                          json={"holder": "bob", "to": "alice"})
    assert len(back.json()["moved"]) == 4


@pytest.mark.parametrize("role", ["supervisor"])
async def test_supervisor_is_a_role_between_dispatcher_and_admin(
        rig: Rig, api: httpx.AsyncClient, role: str) -> None:
    me = (await api.get("/api/me", headers=rig.auth(role))).json()
    assert me["role"] == "supervisor"
    assert (await api.get("/api/dispatch/dead-letters", headers=rig.auth(role))).status_code == 200
    assert (await api.get("/api/users", headers=rig.auth(role))).status_code == 403
    made = await api.post("/api/users", headers=rig.auth("admin"), json={
        "username": "lead", "password": PASSWORD, "role": "supervisor"})
    assert made.status_code == 201 and made.json()["role"] == "supervisor"


def test_the_users_cli_adds_a_supervisor(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "service.yaml").write_text(f"store: sqlite:///{tmp_path / 'v.db'}\n",
                                         encoding="utf-8")
    added = vigil("users", "add", "--config", str(config), "--username", "lead",
                  "--role", "supervisor", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    assert "user lead added (supervisor)" in added.stdout
