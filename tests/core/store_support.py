"""Helpers for the store tests (plain functions; the fixtures live in ``store_fixtures``).

PostgreSQL: ``VIGIL_TEST_POSTGRES_URL`` (default the local server's ``test`` database) is the
admin connection; ``VIGIL_SKIP_POSTGRES=1`` turns "unreachable" from a failure into a skip,
except under CI (tests/services.py).
"""

from __future__ import annotations

import os
import uuid
from typing import NoReturn
from urllib.parse import quote

import psycopg
from psycopg import sql

from core.messages import Alert, Evidence, Sighting
from tests.services import unavailable

PG_ADMIN_URL = os.environ.get(
    "VIGIL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pg_unreachable(exc: Exception) -> NoReturn:
    """Fail (or, with VIGIL_SKIP_POSTGRES=1 outside CI, skip) with a message that says what
    to do."""
    message = (f"PostgreSQL at {PG_ADMIN_URL} is unreachable ({exc}); start it (make services)"
               " or set VIGIL_SKIP_POSTGRES=1 to skip the PostgreSQL half of the store tests")
    unavailable(message, opt_out="VIGIL_SKIP_POSTGRES")


def with_database(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


def pg_schema_url(database_url: str) -> str:
    """A new schema in the session database, selected through ``search_path``."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return f"{database_url}?options={quote(f'-csearch_path={schema}')}"


def sighting(n: int, plate: str = "京A12345", at: float = 1000.0, camera: str = "cam-1",
             snapshot: str | None = None) -> Sighting:
    return Sighting(
        sighting_id=f"s-{n}", camera_id=camera, plate=plate, plate_raw=plate,
        plate_type="small", color="blue", confidence=0.9, first_seen=at, last_seen=at + 2.0,
        evidence=Evidence(snapshot=snapshot, plate_crop=f"{snapshot}.crop" if snapshot else None),
    )


def alert(n: int, level: int = 2, camera: str = "cam-1", at: float = 1000.0) -> Alert:
    return Alert(
        alert_id=str(uuid.UUID(int=n + 1)), rule_id="watchlist", level=level,
        category="stolen", observation=sighting(n, at=at, camera=camera), raised_at=at,
        subject="京A12345", camera_id=camera, summary_zh=f"布控车辆 {n}",
    )
