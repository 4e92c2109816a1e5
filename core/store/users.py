"""Console users, their session and API tokens, and failed logins (migration 2).

The store keeps only what is safe to lose to a database leak: password *hashes* (the
console's scrypt format, opaque here) and token *hashes* (SHA-256 of a random secret). How
passwords are hashed and tokens checked is the console's business (``console/users.py``);
this module stores rows and writes every change's audit row in the same transaction.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.store.admin import AdminStore
from core.store.console_tables import auth_tokens, login_failures, users
from core.store.records import NotFoundError
from core.store.sql import insert_ignore

_U, _K, _F = users, auth_tokens, login_failures
_LOGIN_LOCK_BASE = 1 << 40
"""Advisory-lock keys of login throttling (PostgreSQL): this + CRC-32 of the key, well
clear of the small keys other writers use."""


@dataclass(frozen=True, slots=True)
class UserRow:
    username: str
    display_name: str
    role: str
    password_hash: str
    disabled: bool = False
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class UserChange:
    """Fields of :meth:`UserStore.update_user`; ``None`` leaves a field as it is."""

    display_name: str | None = None
    role: str | None = None
    password_hash: str | None = None
    disabled: bool | None = None


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A session (``kind="session"``, bound to ``username``) or an API token
    (``kind="api"``): a user's token (``username`` set; acts as that user) or an
    integration token (no ``username``; its own ``role``). Only ``token_hash`` of the
    secret is kept."""

    id: int
    kind: str
    token_hash: str
    name: str
    username: str | None
    role: str
    created_by: str
    created_at: float
    expires_at: float | None = None
    last_used_at: float | None = None
    revoked_at: float | None = None


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A token found by its hash, with its user (sessions) as stored now."""

    token: TokenRow
    user: UserRow | None


def _user(row: Any) -> UserRow:
    return UserRow(row.username, row.display_name, row.role, row.password_hash,
                   bool(row.disabled), row.created_at, row.updated_at)


def _token(row: Any) -> TokenRow:
    return TokenRow(row.id, row.kind, row.token_hash, row.name, row.username, row.role,
                    row.created_by, row.created_at, row.expires_at, row.last_used_at,
                    row.revoked_at)


class UserStore(AdminStore):
    def add_user(self, user: UserRow, by: str) -> UserRow | None:
        """Create a user (audited as ``by``); ``None`` if the username is taken."""
        now = self.clock.now()
        values = {"username": user.username, "display_name": user.display_name,
                  "role": user.role, "password_hash": user.password_hash,
                  "disabled": user.disabled, "created_at": now, "updated_at": now}
        with self.write() as conn:
            added = conn.execute(insert_ignore(self.dialect, _U, values)
                                 .returning(_U.c.username)).first()
            if added is None:  # (rowcount is not reliable for ON CONFLICT on psycopg)
                return None
            self._audit(conn, by, "user.add", f"user:{user.username}",
                        {"role": user.role, "display_name": user.display_name})
            return _user(conn.execute(sa.select(_U).where(_U.c.username == user.username)).one())

    def get_user(self, username: str) -> UserRow | None:
        with self.read() as conn:
            row = conn.execute(sa.select(_U).where(_U.c.username == username)).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[UserRow]:
        with self.read() as conn:
            return [_user(r) for r in conn.execute(sa.select(_U).order_by(_U.c.username))]

    def update_user(self, username: str, change: UserChange, by: str) -> UserRow:
        """Apply ``change`` (audited; the password hash is never written to the audit log).
        Disabling a user or changing a password revokes the user's sessions too."""
        now = self.clock.now()
        values: dict[str, Any] = {k: v for k, v in (
            ("display_name", change.display_name), ("role", change.role),
            ("password_hash", change.password_hash), ("disabled", change.disabled),
        ) if v is not None}
        with self.write() as conn:
            stmt = sa.update(_U).where(_U.c.username == username).values(updated_at=now, **values)
            if conn.execute(stmt).rowcount != 1:
                raise NotFoundError(f"user {username}")
            if change.disabled or change.password_hash is not None:
                conn.execute(sa.update(_K).where(_K.c.username == username, _K.c.kind == "session",
                                                 _K.c.revoked_at.is_(None)).values(revoked_at=now))
            shown = {k: v for k, v in values.items() if k != "password_hash"}
            shown["password_changed"] = change.password_hash is not None
            self._audit(conn, by, "user.update", f"user:{username}", shown)
            return _user(conn.execute(sa.select(_U).where(_U.c.username == username)).one())

    def add_token(self, token: TokenRow, by: str) -> TokenRow:
        """Store a new token (``token.id`` is ignored); API tokens are audited here, sessions
        by the caller's login record."""
        values = {"kind": token.kind, "token_hash": token.token_hash, "name": token.name,
                  "username": token.username, "role": token.role, "created_by": by,
                  "created_at": self.clock.now(), "expires_at": token.expires_at}
        with self.write() as conn:
            key = conn.execute(_K.insert().values(values)).inserted_primary_key
            if key is None:
                raise RuntimeError("auth_tokens insert returned no id")
            if token.kind == "api":
                self._audit(conn, by, "token.add", f"token:{key[0]}",
                            {"name": token.name, "role": token.role,
                             "username": token.username})
            return _token(conn.execute(sa.select(_K).where(_K.c.id == key[0])).one())

    def token_by_hash(self, token_hash: str) -> TokenGrant | None:
        """The token with this hash and, for a session, its user (revoked ones included:
        the caller decides what counts as valid at its "now")."""
        with self.read() as conn:
            row = conn.execute(sa.select(_K).where(_K.c.token_hash == token_hash)).first()
            if row is None:
                return None
            found = None if row.username is None else conn.execute(
                sa.select(_U).where(_U.c.username == row.username)).first()
        user = None if found is None else _user(found)
        return TokenGrant(_token(row), user)

    def touch_token(self, token_id: int, used_at: float, expires_at: float | None) -> None:
        """Record a use and (sessions) slide the expiry; never revives a revoked token."""
        stmt = (sa.update(_K).where(_K.c.id == token_id, _K.c.revoked_at.is_(None))
                .values(last_used_at=used_at, expires_at=expires_at))
        with self.write() as conn:
            conn.execute(stmt)

    def list_tokens(self, kind: str = "api", username: str | None = None) -> list[TokenRow]:
        """Tokens of ``kind``, oldest first, revoked ones included; only ``username``'s
        when given."""
        stmt = sa.select(_K).where(_K.c.kind == kind).order_by(_K.c.id)
        if username is not None:
            stmt = stmt.where(_K.c.username == username)
        with self.read() as conn:
            return [_token(r) for r in conn.execute(stmt)]

    def revoke_token(self, token_id: int, by: str, action: str = "token.revoke") -> bool:
        """Revoke a token (audited as ``action``); ``False`` if it was already revoked.
        Raises :class:`~core.store.records.NotFoundError` for an unknown id."""
        stmt = (sa.update(_K).where(_K.c.id == token_id, _K.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now()))
        with self.write() as conn:
            if conn.execute(stmt).rowcount == 1:
                self._audit(conn, by, action, f"token:{token_id}", None)
                return True
            if conn.execute(sa.select(_K.c.id).where(_K.c.id == token_id)).first() is None:
                raise NotFoundError(f"token {token_id}")
            return False

    def reserve_login_attempt(self, key: str, at: float, window: float,
                              limit: int) -> float | None:
        """Check and count one login attempt for ``key`` in ONE transaction: ``None`` if
        it may go ahead (it is recorded as a failure now, so concurrent attempts see it;
        a success clears it), else seconds until the oldest of the last ``limit``
        failures leaves the ``window`` (refuse it). SQLite's ``BEGIN IMMEDIATE`` and a
        PostgreSQL advisory lock on the key make this hold across console processes
        sharing the store; a check and a record in separate transactions let 42 of 100
        concurrent guesses through (issue 11, item 5)."""
        with self.write() as conn:
            self.serialise(conn, _LOGIN_LOCK_BASE + zlib.crc32(key.encode("utf-8")))
            conn.execute(sa.delete(_F).where(_F.c.at < at - window))
            recent = list(conn.execute(sa.select(_F.c.at).where(_F.c.key == key)
                                       .order_by(_F.c.at)).scalars())
            if len(recent) >= limit:
                return float(recent[-limit]) + window - at
            conn.execute(_F.insert().values(key=key, at=at))
            return None

    def add_login_failure(self, key: str, at: float, forget_before: float) -> None:
        """Count a failed login for ``key`` and drop every failure older than
        ``forget_before`` (the table never holds more than one window of history)."""
        with self.write() as conn:
            conn.execute(sa.delete(_F).where(_F.c.at < forget_before))
            conn.execute(_F.insert().values(key=key, at=at))

    def login_failures(self, key: str, since: float) -> list[float]:
        """Times of ``key``'s failed logins at or after ``since``, oldest first."""
        stmt = sa.select(_F.c.at).where(_F.c.key == key, _F.c.at >= since).order_by(_F.c.at)
        with self.read() as conn:
            return [float(t) for t in conn.execute(stmt).scalars()]

    def clear_login_failures(self, keys: Sequence[str]) -> None:
        with self.write() as conn:
            conn.execute(sa.delete(_F).where(_F.c.key.in_(list(keys))))
