"""Bearer-token authentication for the API.

For now one admin token: ``VIGIL_BOOTSTRAP_TOKEN`` from the environment (automation), or a
random one that ``vigil run`` prints at start. Users, roles and session tokens come with the
console issue; every API route already depends on :func:`require_token`, so adding them
changes this module only.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

BOOTSTRAP_ENV = "VIGIL_BOOTSTRAP_TOKEN"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str


class TokenBook:
    def __init__(self, tokens: dict[str, Principal]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def from_env(cls) -> tuple[TokenBook, str, bool]:
        """Returns the book, the admin token and whether it was generated (so it is printed)."""
        token = os.environ.get(BOOTSTRAP_ENV, "").strip()
        generated = not token
        if generated:
            token = secrets.token_urlsafe(24)
        return cls({token: Principal("bootstrap", "admin")}), token, generated

    def lookup(self, token: str) -> Principal | None:
        for known, principal in self._tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal
        return None


def require_token(request: Request) -> Principal:
    """FastAPI dependency: 401 without a valid ``Authorization: Bearer <token>``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    book: TokenBook = request.app.state.tokens
    principal = book.lookup(token.strip()) if scheme.lower() == "bearer" and token else None
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal
