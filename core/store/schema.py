"""Table definitions (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are POSIX seconds in double-precision columns, like the messages. Messages are kept
whole as codec JSON (``body``) next to the columns we filter on, so reading one back is a
decode rather than a re-assembly, and a new message field needs no migration.

These objects describe the *current* schema. Changing a table means adding a migration to
:mod:`core.store.migrations` that brings an existing database to the new shape.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""Auto-numbered key: BIGSERIAL on PostgreSQL, the rowid alias on SQLite."""
_TIME: sa.Double[float] = sa.Double()


def _time(name: str, nullable: bool = True) -> sa.Column[float]:
    return sa.Column(name, _TIME, nullable=nullable)


schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.Text, nullable=False),
    _time("applied_at", nullable=False),
)

sightings = sa.Table(
    "sightings", metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("camera_id", sa.String(128), nullable=False),
    sa.Column("plate_norm", sa.String(32), nullable=False),
    sa.Column("plate_raw", sa.String(64), nullable=False),
    sa.Column("plate_type", sa.String(32), nullable=False),
    sa.Column("color", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Double, nullable=False),
    _time("seen_at", nullable=False),
    _time("first_seen", nullable=False),
    _time("last_seen", nullable=False),
    sa.Column("final", sa.Boolean, nullable=False),
    sa.Column("snapshot", sa.Text),
    sa.Column("plate_crop", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_sightings_plate_seen", "plate_norm", "seen_at"),
    sa.Index("ix_sightings_camera_seen", "camera_id", "seen_at"),
    sa.Index("ix_sightings_seen", "seen_at"),
)

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    sa.Column("rule_id", sa.String(128), nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("camera_id", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("observation_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    _time("created_at", nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("claimed_by", sa.String(128)),
    _time("pushed_at"),
    _time("signed_at"),
    _time("disposed_at"),
    _time("feedback_at"),
    _time("closed_at"),
    _time("dismissed_at"),
    _time("updated_at", nullable=False),
    sa.Index("ix_alerts_created", "created_at"),
    sa.Index("ix_alerts_state_created", "state", "created_at"),
    sa.Index("ix_alerts_camera_created", "camera_id", "created_at"),
    sa.Index("ix_alerts_observation", "observation_id"),
)

alert_timeline = sa.Table(
    "alert_timeline", metadata,
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.alert_id"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=False),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("by", sa.String(128), nullable=False),
    _time("at", nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
)

publish_outbox = sa.Table(
    "publish_outbox", metadata,
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.alert_id"), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
    _time("created_at", nullable=False),
)

dispatch_outbox = sa.Table(
    "dispatch_outbox", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), sa.ForeignKey("alerts.alert_id"), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("webhook_id", sa.String(128), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    _time("next_attempt_at", nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    _time("created_at", nullable=False),
    _time("delivered_at"),
    sa.UniqueConstraint("target", "webhook_id", name="uq_dispatch_target_webhook"),
    sa.Index("ix_dispatch_state_next", "state", "next_attempt_at"),
    sa.Index("ix_dispatch_alert", "alert_id"),
)

watchlist_entries = sa.Table(
    "watchlist_entries", metadata,
    sa.Column("entry_id", sa.String(128), primary_key=True),
    sa.Column("plate", sa.String(64), nullable=False),
    sa.Column("pattern", sa.String(128), nullable=False),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("applicant", sa.String(128), nullable=False),
    sa.Column("unit", sa.String(128), nullable=False),
    _time("valid_from"),
    _time("valid_until"),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("approved_by", sa.String(128)),
    sa.Column("withdrawn_reason", sa.Text),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("entry", sa.Text, nullable=False),
    _time("updated_at", nullable=False),
    sa.Index("ix_watchlist_status", "status"),
    sa.Index("ix_watchlist_plate", "plate"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    _time("at", nullable=False),
    sa.Column("who", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("object", sa.String(256), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_object_at", "object", "at"),
    sa.Index("ix_audit_who_at", "who", "at"),
)

V1_TABLES = [
    sightings, alerts, alert_timeline, publish_outbox, dispatch_outbox, watchlist_entries,
    audit_log,
]
"""The tables migration 1 creates."""
