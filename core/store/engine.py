"""Engines and transactions: the only place that knows SQLite from PostgreSQL.

SQLite is tuned for "a commit survives ``kill -9`` and power loss": WAL journal,
``synchronous=FULL``, foreign keys on, and a busy timeout so concurrent writers wait instead
of failing. Write transactions start with ``BEGIN IMMEDIATE`` so a read-then-write never hits
the "database is locked" upgrade deadlock and writers queue on the busy timeout in order.

Every store call opens its own connection and transaction from the engine's pool, which is
what makes the store safe to call from many threads (``asyncio.to_thread``). Driver errors
become :class:`~core.errors.RetryableError` (the database is busy or unreachable: try again)
so callers can use :func:`core.retry.retry`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from core.clock import Clock
from core.errors import ConfigError, FatalError, RetryableError
from core.redact import redact_url

BUSY_TIMEOUT_S = 10.0
"""How long a SQLite writer waits for another writer before giving up (RetryableError)."""

_PG_PREFIXES = ("postgresql+psycopg://", "postgresql://", "postgres://")
_WRITE = "vigil_write"


def driver_url(url: str) -> str:
    """Map the user-facing URL to a SQLAlchemy URL (PostgreSQL → the psycopg 3 driver)."""
    if url.startswith("sqlite://"):
        return url
    for prefix in _PG_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    raise ConfigError(
        [f"store: unknown store URL {redact_url(url)!r}; use sqlite:///PATH or postgresql://..."]
    )


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    """Per-connection pragmas. ``isolation_level=None`` hands BEGIN to :func:`_sqlite_begin`."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    write = bool(conn.get_execution_options().get(_WRITE))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_engine(url: str) -> Engine:
    """An engine for ``url`` (``sqlite://`` alone is a private in-memory database)."""
    target = driver_url(url)
    if not target.startswith("sqlite"):
        return sa.create_engine(target, pool_pre_ping=True)
    database = make_url(target).database
    args: dict[str, Any] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    if database in (None, "", ":memory:"):
        engine = sa.create_engine(target, poolclass=StaticPool, connect_args=args)
    else:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(target, connect_args=args)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


@contextlib.contextmanager
def translate_errors(url: str) -> Iterator[None]:
    """Driver errors → the Vigil hierarchy, with the (password-free) URL in the message."""
    try:
        yield
    except exc.OperationalError as err:
        raise RetryableError(f"store {url}: database busy or unreachable: {err.orig}") from err
    except exc.DBAPIError as err:
        if err.connection_invalidated:
            raise RetryableError(f"store {url}: connection lost: {err.orig}") from err
        kind = f"{type(err).__name__} ({type(err.orig).__name__})"
        raise FatalError(f"store {url}: {kind}: {err.orig}") from err


class StoreBase:
    """Engine, clock and transaction helpers shared by the store's parts."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = redact_url(url)
        self.engine = create_engine(url)
        self.clock = clock
        self.dialect: str = self.engine.dialect.name
        # One shared connection (in-memory SQLite) must not run two transactions at once.
        memory = isinstance(self.engine.pool, StaticPool)
        self._guard: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if memory else contextlib.nullcontext()
        )

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction (never upgraded to a write lock on SQLite)."""
        with (self._guard, translate_errors(self.url), self.engine.connect() as conn,
              conn.begin()):
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on exit, rolled back on any exception."""
        with (self._guard, translate_errors(self.url), self.engine.connect() as conn,
              conn.execution_options(**{_WRITE: True}).begin()):
            yield conn

    def serialise(self, conn: Connection, key: int) -> None:
        """Make concurrent writers of one kind queue up until this transaction ends.

        SQLite's ``BEGIN IMMEDIATE`` already allows one writer at a time; PostgreSQL takes a
        transaction-scoped advisory lock. Used where commit order must equal number order.
        """
        if self.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def close(self) -> None:
        """Release pooled connections; the store cannot be used afterwards."""
        self.engine.dispose()
