"""API tokens for a console user (the users page's 令牌): a token that acts as the user —
their name in the audit log, their role now, refused while they are disabled — beside the
integration tokens with a role of their own; created, listed without secrets, revoked, each
change audited."""

from __future__ import annotations

import httpx

from console.users import add_user
from tests.console.support import Rig


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def make(api: httpx.AsyncClient, admin: dict[str, str], **body: object) -> httpx.Response:
    return await api.post("/api/tokens", headers=admin, json=body)


async def test_a_users_token_acts_as_the_user(rig: Rig, api: httpx.AsyncClient) -> None:
    add_user(rig.store, "alice", "s3cret-pass", "monitor", "李警官")
    admin = rig.auth("admin")
    made = await make(api, admin, name="报表脚本", username="alice")
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["username"], body["role"], body["created_by"]) == ("alice", "monitor",
                                                                     "token:t-admin")
    me = (await api.get("/api/me", headers=bearer(body["token"]))).json()
    assert (me["username"], me["display_name"], me["role"], me["kind"]) == (
        "alice", "李警官", "monitor", "api")
    # the user's role now, not the one at creation: a promotion reaches the token
    await api.patch("/api/users/alice", headers=admin, json={"role": "dispatcher"})
    me = (await api.get("/api/me", headers=bearer(body["token"]))).json()
    assert me["role"] == "dispatcher"
    listed = (await api.get("/api/tokens", headers=admin, params={"username": "alice"})).json()
    assert [(t["id"], t["name"], t["role"]) for t in listed] == [
        (body["id"], "报表脚本", "dispatcher")]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    audit = rig.store.audit_log(obj=f"token:{body['id']}")
    assert [(e.action, e.who) for e in audit] == [("token.add", "token:t-admin")]
    assert audit[0].detail == {"name": "报表脚本", "role": "monitor", "username": "alice"}


async def test_disabling_the_user_stops_the_token_and_revoking_ends_it(
    rig: Rig, api: httpx.AsyncClient
) -> None:
    add_user(rig.store, "bob", "s3cret-pass", "monitor")
    admin = rig.auth("admin")
    made = (await make(api, admin, name="kiosk", username="bob")).json()
    auth = bearer(made["token"])
    await api.patch("/api/users/bob", headers=admin, json={"disabled": True})
    assert (await api.get("/api/me", headers=auth)).status_code == 401
    await api.patch("/api/users/bob", headers=admin, json={"disabled": False})
    assert (await api.get("/api/me", headers=auth)).status_code == 200  # not revoked
    assert (await api.delete(f"/api/tokens/{made['id']}", headers=admin)).status_code == 200
    assert (await api.get("/api/me", headers=auth)).status_code == 401
    listed = (await api.get("/api/tokens", headers=admin, params={"username": "bob"})).json()
    assert listed[0]["revoked_at"] == rig.clock.now()
    actions = [e.action for e in rig.store.audit_log(obj=f"token:{made['id']}")]
    assert actions == ["token.revoke", "token.add"]


async def test_what_a_token_request_must_say(rig: Rig, api: httpx.AsyncClient) -> None:
    add_user(rig.store, "carol", "s3cret-pass", "monitor")
    add_user(rig.store, "dave", "s3cret-pass", "monitor")
    admin = rig.auth("admin")
    await api.patch("/api/users/dave", headers=admin, json={"disabled": True})
    cases: dict[str, tuple[dict[str, object], str, str]] = {
        "no role, no user": ({"name": "x"}, "role", "an integration token needs a role"),
        "both": ({"name": "x", "username": "carol", "role": "admin"}, "role",
                 "a user's token acts with the user's role"),
        "unknown user": ({"name": "x", "username": "nobody"}, "username",
                         "no enabled console user 'nobody'"),
        "disabled user": ({"name": "x", "username": "dave"}, "username",
                          "no enabled console user 'dave'"),
        "past": ({"name": "x", "username": "carol", "expires_at": rig.clock.now() - 1},
                 "expires_at", "is already past"),
    }
    for case, (body, field, why) in cases.items():
        reply = await make(api, admin, **body)
        assert reply.status_code == 422, (case, reply.text)
        problem = reply.json()["detail"][0]
        assert problem["loc"] == ["body", field] and problem["msg"].startswith(why), case
    supervisor = await make(api, rig.auth("supervisor"), name="x", username="carol")
    assert supervisor.status_code == 403  # tokens are an admin's business
    integration = (await make(api, admin, name="cad", role="dispatcher")).json()
    assert (integration["username"], integration["role"]) == (None, "dispatcher")
    assert rig.store.list_tokens("api", "carol") == []
