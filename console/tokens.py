"""The fixed tokens known without a store: the bootstrap admin token and test tokens.

Its own module, below both ``auth`` (which checks tokens) and ``context`` (which holds the
book for every request), so neither has to import the other to name it; ``vigil`` builds
the book at start-up (:meth:`TokenBook.from_env`) before any app exists.
"""

from __future__ import annotations

import hmac
import os
import secrets

from console.identity import Principal

BOOTSTRAP_ENV = "VIGIL_BOOTSTRAP_TOKEN"


class TokenBook:
    """Fixed tokens known without a store (the bootstrap admin token, test tokens)."""

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
        found = None
        for known, principal in self._tokens.items():  # no early exit: constant time
            if hmac.compare_digest(known.encode(), token.encode()):
                found = principal
        return found
