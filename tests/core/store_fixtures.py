"""Store fixtures: every store test runs on SQLite (a tmp file) and the real PostgreSQL.

PostgreSQL: one uniquely named database per test session (dropped at the end) and one
schema per test. If the server is unreachable the tests fail, loudly, unless
``VIGIL_SKIP_POSTGRES=1`` is set. Test modules load this with
``pytest_plugins = ["tests.core.store_fixtures"]``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from core.clock import FakeClock
from core.store import Store, open_store
from tests.core.store_support import PG_ADMIN_URL, pg_schema_url, pg_unreachable, with_database

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
"""Every store test runs on both; the PostgreSQL half carries the ``postgres`` marker (left
out of ``make check``)."""


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this session; yields its URL and drops it afterwards."""
    name = f"vigil_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as exc:
        pg_unreachable(exc)
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield with_database(PG_ADMIN_URL, name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vigil.db'}"
    database: str = request.getfixturevalue("pg_database")
    return pg_schema_url(database)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_700_000_000.0)


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[Store]:
    opened = open_store(store_url, clock)
    try:
        yield opened
    finally:
        opened.close()
