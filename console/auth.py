"""Bearer-token authentication and role checks for the API.

A token is one of: the bootstrap admin token from ``VIGIL_BOOTSTRAP_TOKEN`` (or the random
one ``vigil run`` prints; kept in a :class:`console.tokens.TokenBook` in memory, so an
installation with no users yet can create the first admin), a session token from
``POST /api/login``, or a named API token for an integration. Sessions and API tokens live
hashed in the store and are resolved by :func:`console.users.resolve_token`.

Every protected route depends on a :class:`RoleGuard`: no or bad token → 401, a role below
the guard's → 403. The guard carries its role, so the tests can enumerate the routes and
check that none escapes authentication.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from console.context import Context
from console.identity import Principal, Role, at_least
from console.users import resolve_token

__all__ = ["Admin", "Dispatcher", "Monitor", "Principal", "Role", "RoleGuard", "require_token"]


def bearer(request: Request) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``""``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def authenticate(ctx: Context, token: str) -> Principal | None:
    """Any kind of token → its principal, or ``None``. Blocking (store lookup)."""
    if not token:
        return None
    found = ctx.tokens.lookup(token)
    if found is not None:
        return found
    return resolve_token(ctx.deps, token)


def _unauthorized() -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token",
                         headers={"WWW-Authenticate": "Bearer"})


def require_token(request: Request) -> Principal:
    """FastAPI dependency: 401 without a valid ``Authorization: Bearer <token>``."""
    principal = authenticate(request.app.state.console, bearer(request))
    if principal is None:
        raise _unauthorized()
    return principal


_SCHEME = HTTPBearer(auto_error=False, description="a session token (POST /api/login), an "
                     "API token (POST /api/tokens) or the bootstrap admin token")


class RoleGuard:
    """Dependency: a valid token (else 401) whose role includes ``role`` (else 403)."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def __call__(self, request: Request, _scheme: Annotated[
            HTTPAuthorizationCredentials | None, Depends(_SCHEME)]) -> Principal:
        """(``_scheme`` only documents the bearer scheme in OpenAPI.)"""
        principal = require_token(request)
        if not at_least(principal.role, self.role):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"needs role {self.role} (you are {principal.role})")
        return principal


Monitor = Annotated[Principal, Depends(RoleGuard(Role.MONITOR))]
"""Any signed-in role (monitor, dispatcher, admin)."""
Dispatcher = Annotated[Principal, Depends(RoleGuard(Role.DISPATCHER))]
Admin = Annotated[Principal, Depends(RoleGuard(Role.ADMIN))]
