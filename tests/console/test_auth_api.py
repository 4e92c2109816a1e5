"""Authentication and roles: every route is enumerated from the app, so a new route cannot
escape these checks; login, rate limit, sessions, API tokens, users, audit."""

from __future__ import annotations

import re
from typing import Any

import fastapi.routing
import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from console.auth import RoleGuard
from console.identity import RANK, Role
from console.users import add_user, hash_password, verify_password
from core.errors import RequestError
from tests.console.support import Rig

PUBLIC = {("POST", "/api/login"), ("POST", "/api/dispatch/callback")}
"""Routes without a bearer token: login, and the callback (signed by the dispatch port)."""


def guard_of(dependant: Dependant) -> RoleGuard | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, RoleGuard):
            return dep.call
        found = guard_of(dep)
        if found is not None:
            return found
    return None


def api_routes(rig: Rig) -> list[tuple[str, str, Role | None]]:
    """Every (method, path, role) under /api, as the app routes them. FastAPI >= 0.16x
    includes routers lazily: ``iter_route_contexts`` flattens them (older versions had
    flat ``app.routes`` already)."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes: list[Any] = list(flatten(rig.app.routes) if flatten else rig.app.routes)
    out = []
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.path.startswith("/api"):
            guard = guard_of(route.dependant)
            for method in sorted(route.methods):
                out.append((method, route.path, guard.role if guard else None))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def call(api: httpx.AsyncClient, method: str, path: str,
               headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if method in {"POST", "PATCH", "PUT"}:
        kwargs["json"] = {}
    return await api.request(method, concrete(path), **kwargs)


def test_every_api_route_is_guarded_or_deliberately_public(rig: Rig) -> None:
    routes = api_routes(rig)
    assert len(routes) >= 30
    unguarded = {(m, p) for m, p, role in routes if role is None}
    assert unguarded == PUBLIC


async def test_every_guarded_route_needs_a_token(rig: Rig, api: httpx.AsyncClient) -> None:
    for method, path, role in api_routes(rig):
        if role is None:
            continue
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
            reply = await call(api, method, path, headers)
            assert reply.status_code == 401, (method, path, headers, reply.text)
            assert reply.headers["www-authenticate"] == "Bearer"


async def test_every_guarded_route_refuses_lower_roles(rig: Rig, api: httpx.AsyncClient) -> None:
    checked = 0
    for method, path, role in api_routes(rig):
        if role is None:
            continue
        for lower in (r for r in Role if RANK[r] < RANK[role]):
            reply = await call(api, method, path, rig.auth(lower.value))
            assert reply.status_code == 403, (method, path, lower, reply.text)
            checked += 1
    assert checked >= 15


async def test_roles_reach_what_they_should(rig: Rig, api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/alerts", headers=rig.auth("monitor"))).status_code == 200
    assert (await api.get("/api/dispatch/dead-letters",
                          headers=rig.auth("dispatcher"))).status_code == 200
    assert (await api.get("/api/users", headers=rig.auth("dispatcher"))).status_code == 403
    for who in ("admin", "bootstrap"):
        assert (await api.get("/api/audit", headers=rig.auth(who))).status_code == 200


async def test_public_routes(rig: Rig, api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/dispatch/callback", content=b"{}")).status_code == 401
    assert (await api.post("/api/login", json={"username": "x", "password": "y"})
            ).status_code == 401


def test_scrypt_hash_format_and_verify() -> None:
    encoded = hash_password("correct horse")
    scheme, n, r, p, salt, key = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) == 24 and len(key) == 44
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct hors", encoded)
    assert hash_password("correct horse") != encoded  # per-user salt
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")


def test_add_user_for_the_cli(rig: Rig) -> None:
    user = add_user(rig.store, "alice", "s3cret-pass", "monitor", "李警官")
    assert (user.username, user.display_name, user.role) == ("alice", "李警官", "monitor")
    stored = rig.store.get_user("alice")
    assert stored is not None and verify_password("s3cret-pass", stored.password_hash)
    with pytest.raises(RequestError, match="already exists"):
        add_user(rig.store, "alice", "another-pass", "monitor")
    with pytest.raises(RequestError) as bad:
        add_user(rig.store, "bad name", "short", "chief")
    assert {f for f, _ in bad.value.problems} == {"username", "password", "role"}
    assert rig.store.audit_log(obj="user:alice")[0].who == "cli"


async def test_login_me_logout(rig: Rig, api: httpx.AsyncClient) -> None:
    add_user(rig.store, "alice", "s3cret-pass", "dispatcher", "李警官")
    reply = await api.post("/api/login", json={"username": "alice", "password": "s3cret-pass"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["user"] == {"username": "alice", "display_name": "李警官", "role": "dispatcher",
                            "disabled": False, "created_at": rig.clock.now(),
                            "updated_at": rig.clock.now()}
    assert body["expires_at"] == rig.clock.now() + 12 * 3600
    auth = {"Authorization": f"Bearer {body['token']}"}
    me = (await api.get("/api/me", headers=auth)).json()
    assert me["username"] == "alice" and me["kind"] == "session" and me["role"] == "dispatcher"
    assert (await api.post("/api/logout", headers=auth)).json() == {"ok": True}
    assert (await api.get("/api/me", headers=auth)).status_code == 401
    actions = [e.action for e in rig.store.audit_log(who="alice")]
    assert actions[:2] == ["logout", "login"]


async def test_sessions_slide_and_expire(rig: Rig, api: httpx.AsyncClient) -> None:
    add_user(rig.store, "bob", "s3cret-pass", "monitor")
    token = (await api.post("/api/login", json={"username": "bob", "password": "s3cret-pass"})
             ).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):  # used every 11 h: still signed in after 22 h
        rig.clock.advance(11 * 3600)
        assert (await api.get("/api/me", headers=auth)).status_code == 200
    rig.clock.advance(2.5 * 3600)  # 24.5 h after login: past the 24 h shift cap
    assert (await api.get("/api/me", headers=auth)).status_code == 401
    token = (await api.post("/api/login", json={"username": "bob", "password": "s3cret-pass"})
             ).json()["token"]
    rig.clock.advance(12 * 3600 + 1)  # idle for more than 12 h
    assert (await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 401


async def test_login_rate_limit_per_username_and_address(rig: Rig,
                                                          api: httpx.AsyncClient) -> None:
    add_user(rig.store, "carol", "s3cret-pass", "monitor")
    wrong = {"username": "carol", "password": "wrong-pass"}
    for _ in range(5):
        assert (await api.post("/api/login", json=wrong)).status_code == 401
    rig.clock.advance(60)
    throttled = await api.post("/api/login", json={"username": "carol",
                                                   "password": "s3cret-pass"})
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "240"
    elsewhere = httpx.ASGITransport(app=rig.app, client=("10.9.8.7", 5000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://v") as other:
        ok = await other.post("/api/login", json={"username": "carol", "password": "s3cret-pass"})
        assert ok.status_code == 200
    rig.clock.advance(241)
    assert (await api.post("/api/login", json={"username": "carol", "password": "s3cret-pass"})
            ).status_code == 200
    for _ in range(4):  # a success cleared the count
        assert (await api.post("/api/login", json=wrong)).status_code == 401
    assert (await api.post("/api/login", json=wrong)).status_code == 401


async def test_unknown_and_disabled_users_get_the_same_answer(rig: Rig,
                                                              api: httpx.AsyncClient) -> None:
    add_user(rig.store, "dave", "s3cret-pass", "monitor")
    token = (await api.post("/api/login", json={"username": "dave", "password": "s3cret-pass"})
             ).json()["token"]
    reply = await api.patch("/api/users/dave", json={"disabled": True}, headers=rig.auth("admin"))
    assert reply.status_code == 200 and reply.json()["disabled"] is True
    assert (await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            ).status_code == 401
    disabled = await api.post("/api/login", json={"username": "dave", "password": "s3cret-pass"})
    unknown = await api.post("/api/login", json={"username": "eve", "password": "s3cret-pass"})
    assert disabled.status_code == unknown.status_code == 401
    assert disabled.json() == unknown.json()


async def test_users_and_tokens_admin(rig: Rig, api: httpx.AsyncClient) -> None:
    admin = rig.auth("admin")
    reply = await api.post("/api/users", headers=admin, json={
        "username": "frank", "password": "s3cret-pass", "role": "monitor"})
    assert reply.status_code == 201 and reply.json()["display_name"] == "frank"
    dup = await api.post("/api/users", headers=admin, json={
        "username": "frank", "password": "s3cret-pass", "role": "monitor"})
    assert dup.status_code == 422 and dup.json()["detail"][0]["loc"] == ["body", "username"]
    bad = await api.post("/api/users", headers=admin, json={
        "username": "g", "password": "short", "role": "chief"})
    assert bad.status_code == 422
    assert {tuple(d["loc"]) for d in bad.json()["detail"]} == {("body", "password"),
                                                                ("body", "role")}
    assert [u["username"] for u in (await api.get("/api/users", headers=admin)).json()] == [
        "frank"]
    made = await api.post("/api/tokens", headers=admin, json={"name": "cad", "role": "dispatcher"})
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    cad = {"Authorization": f"Bearer {secret}"}
    me = (await api.get("/api/me", headers=cad)).json()
    assert (me["username"], me["role"], me["kind"]) == ("token:cad", "dispatcher", "api")
    listed = (await api.get("/api/tokens", headers=admin)).json()
    assert "token" not in listed[-1] and "token_hash" not in listed[-1]
    assert (await api.delete(f"/api/tokens/{token_id}", headers=admin)).status_code == 200
    assert (await api.get("/api/me", headers=cad)).status_code == 401
    assert (await api.delete("/api/tokens/99999", headers=admin)).status_code == 404
    audit = (await api.get("/api/audit", headers=admin)).json()
    assert [a["action"] for a in audit[:3]] == ["token.revoke", "token.add", "user.add"]
    assert all(a["who"] == "token:t-admin" for a in audit[:3])
