"""Versioned schema migrations, run on every start (no Alembic: the list below is the tool).

``schema_version`` holds one row per applied migration. On start the store applies, in one
transaction and under a lock (so two nodes starting together do not both migrate), every
migration newer than the database; a database already at the latest version is left alone.
A database *newer* than this code is refused with a :class:`~core.errors.FatalError`: an old
binary must not write into a schema it does not understand.

Adding a migration: append ``(next_version, "what it does", function)`` to
:data:`MIGRATIONS`; the function receives the open connection and uses portable DDL
(``sa.Table.create``, ``op``-style ``ALTER TABLE`` via ``conn.execute(sa.text(...))``).
Never edit or reorder a released migration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.errors import FatalError
from core.store import console_tables, schema
from core.store.engine import StoreBase
from core.store.event_log import backfill_alert_events
from core.store.parked import create_v3
from core.store.plate_search import create_search_index

log = logging.getLogger(__name__)

Migration = tuple[int, str, Callable[[Connection], None]]

_LOCK_KEY = 0x56494749  # "VIGI": the advisory lock migrations take on PostgreSQL


def _initial(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=schema.V1_TABLES)


def _console(conn: Connection) -> None:
    schema.metadata.create_all(conn, tables=console_tables.V2_TABLES)
    backfill_alert_events(conn)


MIGRATIONS: list[Migration] = [
    (1, "initial schema: sightings, alerts, timeline, outboxes, watchlist, audit", _initial),
    (2, "console: users, auth tokens, login failures, alert event log", _console),
    (3, "parked bus messages (poison entries a consumer gave up on)", create_v3),
    (4, "plate search: plate keys function and GIN index (PostgreSQL only)",
     create_search_index),
]
"""Ordered; versions are 1, 2, 3 ... without gaps."""

LATEST = MIGRATIONS[-1][0]


def current_version(conn: Connection) -> int:
    """The highest applied version, 0 for an empty database."""
    if not sa.inspect(conn).has_table(schema.schema_version.name):
        return 0
    value = conn.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar()
    return int(value or 0)


def migrate(base: StoreBase, migrations: list[Migration] | None = None) -> int:
    """Bring the database up to date; returns the version it is at afterwards."""
    steps = MIGRATIONS if migrations is None else migrations
    latest = steps[-1][0] if steps else 0
    with base.write() as conn:
        base.serialise(conn, _LOCK_KEY)
        schema.schema_version.create(conn, checkfirst=True)
        current = current_version(conn)
        if current > latest:
            raise FatalError(
                f"store {base.url}: database schema is version {current} but this Vigil only "
                f"knows up to {latest}; upgrade Vigil (or restore a matching backup)"
            )
        for version, description, apply in steps:
            if version <= current:
                continue
            log.info("store %s: migrating to schema %d (%s)", base.url, version, description)
            apply(conn)
            conn.execute(schema.schema_version.insert().values(
                version=version, description=description, applied_at=base.clock.now()
            ))
            current = version
    return current
