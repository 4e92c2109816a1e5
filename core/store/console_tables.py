"""Tables added by schema migration 2: console users and tokens, login failures, and the
global alert event log the console WebSocket replays from.

They are registered on :data:`core.store.schema.metadata` like the version-1 tables, so
``metadata`` still describes the whole current schema.

``alert_events`` is the one ordered history of "something happened to an alert": one row
per timeline entry (including an alert's first, ``raised``, entry). Its ``id`` is allocated
as ``max + 1`` under the same lock as the alert ``seq`` (see
:func:`core.store.event_log.add_alert_event`), so ids are gap-free and become visible in
order: a client that has seen id N and asks for "everything after N" cannot miss an event
that committed late.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.store.schema import metadata

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME: sa.Double[float] = sa.Double()

users = sa.Table(
    "users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("updated_at", _TIME, nullable=False),
)

auth_tokens = sa.Table(
    "auth_tokens", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # session | api
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("username", sa.String(64), sa.ForeignKey("users.username")),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("expires_at", _TIME),
    sa.Column("last_used_at", _TIME),
    sa.Column("revoked_at", _TIME),
    sa.Index("ix_auth_tokens_user", "username"),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(256), nullable=False),
    sa.Column("at", _TIME, nullable=False),
    sa.Index("ix_login_failures_key_at", "key", "at"),
    sa.Index("ix_login_failures_at", "at"),
)

alert_events = sa.Table(
    "alert_events", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.alert_id"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("timeline_seq", sa.Integer, nullable=False),
    sa.Column("at", _TIME, nullable=False),
    sa.UniqueConstraint("alert_id", "timeline_seq", name="uq_alert_events_entry"),
)

V2_TABLES = [users, auth_tokens, login_failures, alert_events]
"""The tables migration 2 creates."""
