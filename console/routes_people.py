"""Login, sessions, users, API tokens and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status

from console import users
from console.auth import Admin, Monitor
from console.context import Ctx
from console.proxies import client_address
from console.schemas import (
    ERRORS,
    AuditOut,
    AuditQuery,
    LoginIn,
    LoginOut,
    MeOut,
    OkOut,
    RowId,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from console.views import audit_json, token_json, user_json
from core.store.users import UserChange, UserRow

router = APIRouter(prefix="/api", responses=ERRORS, tags=["people"])


@router.post("/login", response_model=LoginOut,
             responses={429: {"description": "too many failed logins; see Retry-After"}})
def login(body: LoginIn, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Open a session (12 h sliding, at most 24 h). Five wrong passwords for one username
    from one address within 5 minutes lock that pair out until the window passes (429)."""
    ctx.store()
    ip = client_address(request, ctx.settings.trusted_proxies)
    session = users.login(ctx.deps, body.username, body.password, ip)
    return {"token": session.token, "expires_at": session.expires_at,
            "user": user_json(session.user)}


@router.post("/logout", response_model=OkOut)
def logout(who: Monitor, ctx: Ctx) -> dict[str, Any]:
    """End this session (API and bootstrap tokens are not affected: revoke those instead)."""
    if who.kind == "session" and who.token_id is not None:
        ctx.store().revoke_token(who.token_id, who.name, action="logout")
    return {"ok": True}


@router.get("/me", response_model=MeOut)
def me(who: Monitor) -> dict[str, Any]:
    return {"username": who.name, "display_name": who.display_name or who.name,
            "role": who.role, "kind": who.kind, "expires_at": who.expires_at}


@router.get("/users", response_model=list[UserOut])
def list_users(_who: Admin, ctx: Ctx) -> list[dict[str, Any]]:
    return [user_json(u) for u in ctx.store().list_users()]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, who: Admin, ctx: Ctx) -> dict[str, Any]:
    user = UserRow(body.username, body.display_name or body.username, body.role.value, "")
    return user_json(users.create_user(ctx.store(), user, body.password, who.name))


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: str, body: UserPatch, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """Change a user's name, role or password, or disable them. Disabling or a new password
    ends the user's open sessions."""
    change = UserChange(
        display_name=body.display_name, role=body.role.value if body.role else None,
        password_hash=users.hash_password(body.password) if body.password else None,
        disabled=body.disabled,
    )
    return user_json(ctx.store().update_user(username, change, who.name))


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(_who: Admin, ctx: Ctx, username: Annotated[
        str | None, Query(max_length=64, description="only this user's tokens")] = None,
) -> list[dict[str, Any]]:
    """API tokens, oldest first, revoked ones included, never a secret. A user's token
    shows the user's role now: the one it acts with."""
    store = ctx.store()
    roles = {u.username: u.role for u in store.list_users()}
    return [token_json(t, roles.get(t.username) if t.username else None)
            for t in store.list_tokens("api", username)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def add_token(body: TokenIn, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """A named API token: for a user (``username``: it acts as them, with their role, and
    is refused while they are disabled) or for an integration (``role``). The secret is in
    this response only; the server keeps its SHA-256."""
    asked = users.TokenRequest(body.name, body.role.value if body.role else None,
                               body.username, body.expires_at)
    secret, row = users.issue_token(ctx.store(), asked, who.name)
    return {**token_json(row), "token": secret}


@router.delete("/tokens/{token_id}", response_model=OkOut)
def revoke_token(token_id: RowId, who: Admin, ctx: Ctx) -> dict[str, Any]:
    """Revoke an API token or a session (idempotent; 404 for an unknown id)."""
    ctx.store().revoke_token(token_id, who.name)
    return {"ok": True}


@router.get("/audit", response_model=list[AuditOut])
def audit(_who: Admin, ctx: Ctx, q: Annotated[AuditQuery, Query()]) -> list[dict[str, Any]]:
    """Audit entries, newest first: who did what to which object, and when."""
    entries = ctx.store().audit_log(obj=q.object, who=q.who, since=q.since, limit=q.limit)
    return [audit_json(e) for e in entries]
