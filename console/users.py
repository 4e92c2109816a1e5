"""Console users, passwords, sessions and API tokens (the logic; rows live in the store).

Passwords are hashed with **scrypt** from the standard library (``hashlib.scrypt``,
n=2**14, r=8, p=1, a 16-byte random salt per user, 32-byte key): a memory-hard function, so
a stolen table is expensive to attack on GPUs, with no extra dependency. The stored string
names its parameters (``scrypt$16384$8$1$<salt>$<key>``, base64) so they can be raised later
without breaking existing users.

Tokens (sessions and API tokens) are 32 random bytes; only their SHA-256 is stored. A fast
hash is right here (unlike passwords): the secret has 256 bits of entropy, so there is
nothing to brute-force, and every API request looks one up.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from console.deps import ConsoleDeps
from console.identity import ROLE_NAMES, Principal, Role
from core.errors import AuthenticationError, RequestError
from core.ports import ConsoleUsersStore
from core.store.users import TokenGrant, TokenRow, UserRow

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _KEY_BYTES = 16, 32
_MAXMEM = 64 * 1024 * 1024
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD, MAX_PASSWORD = 8, 1024
_DUMMY_HASH: str | None = None
log = logging.getLogger(__name__)


class LoginThrottled(Exception):
    """Too many failed logins for this username from this address (HTTP 429)."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, int(retry_after + 0.999))
        super().__init__(f"too many failed logins; retry in {self.retry_after} s")


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    expires_at: float
    user: UserRow


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=_MAXMEM, dklen=_KEY_BYTES)


def hash_password(password: str) -> str:
    """The storable scrypt hash of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against a :func:`hash_password` string; a
    malformed hash verifies nothing."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        got = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def _burn_time(password: str) -> None:
    """Spend one scrypt on an unknown username, so timing does not reveal which exist."""
    global _DUMMY_HASH  # noqa: PLW0603 - computed once, lazily (it costs a scrypt)
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(12))
    verify_password(password, _DUMMY_HASH)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_new_user(username: str, password: str, role: str) -> list[tuple[str, str]]:
    """Problems with a new user's fields, as ``(field, why)`` pairs."""
    problems: list[tuple[str, str]] = []
    if not USERNAME.match(username):
        problems.append(("username", "1-64 letters, digits, '_', '.', '@' or '-'"))
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        problems.append(("password", f"{MIN_PASSWORD} to {MAX_PASSWORD} characters"))
    if role not in set(Role):
        problems.append(("role", f"one of {ROLE_NAMES}"))
    return problems


def create_user(store: ConsoleUsersStore, user: UserRow, password: str, by: str) -> UserRow:
    """Validate, hash and store a user, audited as ``by``. Raises
    :class:`~core.errors.RequestError` (bad field or username taken)."""
    problems = check_new_user(user.username, password, user.role)
    if problems:
        raise RequestError(problems)
    stored = UserRow(user.username, user.display_name or user.username, user.role,
                     hash_password(password), user.disabled)
    added = store.add_user(stored, by)
    if added is None:
        raise RequestError([("username", f"{user.username!r} already exists")])
    return added


def add_user(
    store: ConsoleUsersStore, username: str, password: str, role: str,
    display_name: str | None = None,
) -> UserRow:
    """Create a console user (``vigil users add``); audited as ``cli``."""
    user = UserRow(username, display_name or username, role, "")
    return create_user(store, user, password, "cli")


def _throttle_key(username: str, ip: str) -> str:
    return f"{username.strip().lower()}|{ip}"


def login(deps: ConsoleDeps, username: str, password: str, ip: str) -> Session:
    """Check a password and open a session. Raises :class:`LoginThrottled` (too many recent
    failures for this username from this address) or
    :class:`~core.errors.AuthenticationError` (one message for every reason, so it does not
    tell an attacker which usernames exist).

    The attempt is counted *before* the password is checked, atomically with the check of
    the count (:meth:`~core.store.users.UserStore.reserve_login_attempt`), so concurrent
    guesses cannot all pass the check while the scrypt of the first one runs."""
    store, now, limit = _store(deps), deps.clock.now(), deps.settings.login
    key = _throttle_key(username, ip)
    wait = store.reserve_login_attempt(key, now, limit.window, limit.failures)
    if wait is not None:
        log.warning("login for %r from %s refused: %d failures within %.0f s", username[:64],
                    ip, limit.failures, limit.window)
        raise LoginThrottled(wait)
    user = store.get_user(username)
    if user is None:
        _burn_time(password)
    if user is None or not verify_password(password, user.password_hash) or user.disabled:
        why = "unknown user" if user is None else "disabled" if user.disabled else "password"
        log.warning("failed login for %r from %s (%s)", username[:64], ip, why)
        store.audit(username[:64], "login.failed", f"user:{username[:64]}",
                    {"ip": ip, "reason": why})
        raise AuthenticationError("wrong username or password")
    store.clear_login_failures([key])
    return open_session(deps, user)


def open_session(deps: ConsoleDeps, user: UserRow) -> Session:
    store, now, sessions = _store(deps), deps.clock.now(), deps.settings.sessions
    secret = new_secret()
    expires = now + min(sessions.ttl, sessions.max_age)
    row = TokenRow(0, "session", token_hash(secret), "session", user.username, user.role,
                   user.username, now, expires_at=expires)
    stored = store.add_token(row, user.username)
    store.audit(user.username, "login", f"user:{user.username}", {"token": stored.id})
    return Session(secret, expires, user)


def _check_expiry(store: ConsoleUsersStore, expires_at: float | None) -> None:
    if expires_at is not None and expires_at <= store.clock.now():
        raise RequestError([("expires_at", "is already past; a token must expire later")])


def create_api_token(
    store: ConsoleUsersStore, name: str, role: str, by: str, expires_at: float | None = None
) -> tuple[str, TokenRow]:
    """A named integration token with its own role; the secret is returned once only."""
    if role not in set(Role):
        raise RequestError([("role", f"one of {ROLE_NAMES}")])
    _check_expiry(store, expires_at)
    secret = new_secret()
    row = TokenRow(0, "api", token_hash(secret), name, None, role, by, 0.0,
                   expires_at=expires_at)
    return secret, store.add_token(row, by)


def create_user_token(
    store: ConsoleUsersStore, name: str, username: str, by: str, expires_at: float | None = None
) -> tuple[str, TokenRow]:
    """A token that acts as ``username`` (the user's own scripts, a workstation's kiosk):
    the audit log and timelines name the user, it has the user's role *at each request*
    (a demotion demotes it), and it is refused while the user is disabled — so it never
    outlives the person's access. The secret is returned once only."""
    user = store.get_user(username)
    if user is None or user.disabled:
        raise RequestError([("username", f"no enabled console user {username!r}")])
    _check_expiry(store, expires_at)
    secret = new_secret()
    row = TokenRow(0, "api", token_hash(secret), name, user.username, user.role, by, 0.0,
                   expires_at=expires_at)
    return secret, store.add_token(row, by)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """What ``POST /api/tokens`` asks for: ``username`` (a user's token) or ``role`` (an
    integration token)."""

    name: str
    role: str | None = None
    username: str | None = None
    expires_at: float | None = None


def issue_token(store: ConsoleUsersStore, asked: TokenRequest, by: str) -> tuple[str, TokenRow]:
    """A user's token or an integration token, never both at once — a user's token with a
    role of its own would act under the user's name with a role the user does not have."""
    if asked.username is not None:
        if asked.role is not None:
            raise RequestError([("role", "a user's token acts with the user's role; "
                                         "leave role out")])
        return create_user_token(store, asked.name, asked.username, by, asked.expires_at)
    if asked.role is None:
        raise RequestError([("role", "an integration token needs a role (or a username)")])
    return create_api_token(store, asked.name, asked.role, by, asked.expires_at)


def resolve_token(deps: ConsoleDeps, secret: str) -> Principal | None:
    """The principal for a session or API token, or ``None`` if it is unknown, revoked,
    expired, or its user is disabled. Slides a session's expiry (see ``SessionSettings``)."""
    store = deps.store
    if store is None or not secret:
        return None
    grant = store.token_by_hash(token_hash(secret))
    now = deps.clock.now()
    if grant is None or not _valid(grant, now):
        return None
    token, user = grant.token, grant.user
    expires = _slide(deps, token, now)
    if user is not None:  # a session, or a user's API token: the user, with their role now
        return Principal(user.username, user.role, user.display_name, token.kind, token.id,
                         expires)
    return Principal(f"token:{token.name}", token.role, token.name, "api", token.id, expires)


def _valid(grant: TokenGrant, now: float) -> bool:
    """Not revoked, not expired, and — for a session or a user's API token — its user
    exists and is enabled (checked at every use, so disabling a user stops their tokens
    at once and enabling them again restores the tokens, not the sessions)."""
    token, user = grant.token, grant.user
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return False
    if token.kind not in ("session", "api"):
        return False
    if token.kind == "session" or token.username is not None:
        return user is not None and not user.disabled
    return True


def _slide(deps: ConsoleDeps, token: TokenRow, now: float) -> float | None:
    """Push a session's expiry forward (written at most every ``refresh_every`` s)."""
    sessions = deps.settings.sessions
    expires = token.expires_at
    if token.kind == "session":
        expires = min(now + sessions.ttl, token.created_at + sessions.max_age)
    last = token.last_used_at
    if last is None or now - last >= sessions.refresh_every:
        _store(deps).touch_token(token.id, now, expires)
        return expires
    return token.expires_at


def _store(deps: ConsoleDeps) -> ConsoleUsersStore:
    if deps.store is None:
        raise AuthenticationError("no user store configured")
    return deps.store
