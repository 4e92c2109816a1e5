"""Small SQL helpers shared by the store's parts (dialect-specific upsert, JSON columns)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from core import codec
from core.errors import FatalError
from core.messages import WireMessage
from core.store.records import JsonValue

T = TypeVar("T")
Guard = Callable[[Any], sa.ColumnElement[bool]]
"""Builds an ON CONFLICT ... WHERE condition from the incoming row (``excluded``)."""


def upsert(
    dialect: str, table: sa.Table, values: Mapping[str, Any], keys: Sequence[str],
    guard: Guard | None = None,
) -> sa.Insert:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every other column (only where ``guard`` holds).

    ``guard(excluded)`` compares the stored row (``table.c``) with the incoming one.
    """
    stmt: postgresql.Insert | sqlite.Insert
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    stmt = stmt.values(dict(values))
    update = {name: stmt.excluded[name] for name in values if name not in keys}
    where = guard(stmt.excluded) if guard is not None else None
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=update, where=where)


def insert_ignore(dialect: str, table: sa.Table, values: Mapping[str, Any]) -> sa.Insert:
    """INSERT ... ON CONFLICT DO NOTHING (idempotent inserts without aborting the transaction)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.values(dict(values)).on_conflict_do_nothing()


def dump_json(value: JsonValue) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load_json(text: str | None) -> JsonValue:
    if text is None:
        return None
    value: JsonValue = json.loads(text)
    return value


def decode_as(raw: str, cls: type[T], where: str) -> T:
    """Decode a stored message, insisting on its type (a mismatch means a corrupt row)."""
    message: WireMessage = codec.decode(raw)
    if not isinstance(message, cls):
        raise FatalError(f"store: {where} holds a {type(message).__name__}, not {cls.__name__}")
    return message
