"""Store: URLs, engine settings and schema migrations, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.clock import FakeClock
from core.errors import ConfigError, FatalError, RetryableError
from core.store import Store, open_store, schema
from core.store.engine import driver_url
from core.store.migrations import LATEST, MIGRATIONS, Migration, current_version, migrate
from tests.core.store_support import alert

pytest_plugins = ["tests.core.store_fixtures"]

TABLES = {"schema_version", "sightings", "alerts", "alert_timeline", "publish_outbox",
          "dispatch_outbox", "watchlist_entries", "audit_log"}


def versions(st: Store) -> list[int]:
    with st.read() as conn:
        return list(conn.execute(sa.select(schema.schema_version.c.version)
                                 .order_by(schema.schema_version.c.version)).scalars())


def test_migrations_are_numbered_without_gaps() -> None:
    assert [m[0] for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len(MIGRATIONS) == LATEST


def test_empty_database_is_migrated_to_latest(store: Store) -> None:
    assert store.schema_version == LATEST
    assert versions(store) == list(range(1, LATEST + 1))
    with store.read() as conn:
        assert set(sa.inspect(conn).get_table_names()) >= TABLES
        indexes = {ix["name"] for ix in sa.inspect(conn).get_indexes("sightings")}
    assert {"ix_sightings_plate_seen", "ix_sightings_camera_seen"} <= indexes


def test_rerun_is_a_no_op(store_url: str, clock: FakeClock) -> None:
    first = open_store(store_url, clock)
    first.insert_alert(alert(1))
    first.close()
    clock.advance(60)
    again = open_store(store_url, clock)
    try:
        assert versions(again) == list(range(1, LATEST + 1))
        assert again.migrate() == LATEST
        with again.read() as conn:
            applied = conn.execute(sa.select(schema.schema_version.c.applied_at)).scalars().all()
        assert set(applied) == {clock.now() - 60}
        assert again.get_alert(alert(1).alert_id) is not None
    finally:
        again.close()


def test_database_newer_than_code_is_fatal(store: Store, store_url: str) -> None:
    with store.write() as conn:
        conn.execute(schema.schema_version.insert().values(
            version=LATEST + 5, description="from the future", applied_at=0.0))
    with pytest.raises(FatalError, match=rf"schema is version {LATEST + 5} but this Vigil only "
                                         rf"knows up to {LATEST}; upgrade Vigil"):
        open_store(store_url, FakeClock())


def _add_note_column(conn: Connection) -> None:
    conn.execute(sa.text("ALTER TABLE audit_log ADD COLUMN ticket VARCHAR(32)"))


def test_a_new_migration_is_applied_once(store: Store) -> None:
    newer: list[Migration] = [*MIGRATIONS, (LATEST + 1, "audit ticket", _add_note_column)]
    assert migrate(store, newer) == LATEST + 1
    assert migrate(store, newer) == LATEST + 1  # the ALTER would fail if it ran again
    with store.read() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_log")}
        assert "ticket" in columns and current_version(conn) == LATEST + 1


def _broken(conn: Connection) -> None:
    conn.execute(sa.text("CREATE TABLE half_done (x INTEGER)"))
    raise RuntimeError("migration bug")


def test_a_failing_migration_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(RuntimeError, match="migration bug"):
        migrate(store, [*MIGRATIONS, (LATEST + 1, "broken", _broken)])
    with store.read() as conn:
        assert current_version(conn) == LATEST
        assert not sa.inspect(conn).has_table("half_done")


def test_sqlite_is_durable_by_configuration(tmp_path: Path) -> None:
    st = open_store(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'v.db'}", FakeClock())
    try:
        with st.read() as conn:
            pragma = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                      for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")}
        assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1,
                          "busy_timeout": 10_000}
        with (pytest.raises(FatalError, match="IntegrityError"),  # foreign keys enforced
              st.write() as conn):
            conn.execute(schema.publish_outbox.insert().values(
                alert_id="ghost", seq=1, created_at=0.0))
    finally:
        st.close()


def test_in_memory_sqlite_for_tests() -> None:
    st = open_store("sqlite://", FakeClock())
    try:
        st.insert_alert(alert(1))
        assert [r.seq for r in st.alerts_after(0)] == [1]
    finally:
        st.close()


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:p@db:5432/vigil", "postgresql+psycopg://u:p@db:5432/vigil"),
    ("postgres://db/vigil", "postgresql+psycopg://db/vigil"),
    ("postgresql+psycopg://db/vigil", "postgresql+psycopg://db/vigil"),
    ("sqlite:///var/vigil.db", "sqlite:///var/vigil.db"),
])
def test_store_urls(url: str, expected: str) -> None:
    assert driver_url(url) == expected


def test_unknown_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError, match=r"unknown store URL 'mysql://\*\*\*@db/x'") as info:
        open_store("mysql://root:secret@db/x", FakeClock())
    assert "secret" not in str(info.value)


def test_unreachable_postgres_is_retryable_and_hides_the_password() -> None:
    with pytest.raises(RetryableError, match="unreachable") as info:
        open_store("postgresql://vigil:secret@127.0.0.1:1/vigil?connect_timeout=2", FakeClock())
    assert "secret" not in str(info.value)
