"""Plate search (车辆查询): wildcard patterns over every sighting, and the index behind it.

A pattern is a plate with holes: ``?`` stands for exactly one character, ``*`` for any run
(also none), and it must match the *whole* normalised plate (``京A?1?3?5`` matches
``京AB1C3D5`` only; ``*123*`` is "contains 123"). It is normalised like a plate
(:func:`core.plates.normalize`: half-width, upper case, ``·`` and other separators dropped),
so letters match in either case.

**Why this index.** A B-tree on the plate serves an exact plate or a literal prefix, but an
investigator's pattern often starts with a hole (``*123*``, ``?A1234?``) or pins characters
in the middle (``京A?1?3?5``). ``pg_trgm`` would cover "contains", but it is an extension
that not every PostgreSQL install has (or lets Vigil create), and it cannot use the
characters between two ``?`` (fragments shorter than three characters give it no trigram).
So on PostgreSQL migration 4 adds an IMMUTABLE SQL function, :data:`KEYS_FUNCTION`, that
turns a plate into *keys* — each character with its position from the start (``3:1``) and
from the end (``-1:5``), and every trigram without position (``=123``) — and a core GIN
index on that array. A pattern becomes the keys every match must have
(:func:`pattern_keys`); ``keys @> ARRAY[...]`` finds the candidates through the GIN index
(intersecting the posting lists, so the rarest key bounds the work) and ``LIKE`` checks
them exactly. A time range or camera list adds the existing B-trees (``seen_at``,
``camera_id, seen_at``) through a bitmap AND, or the planner walks ``seen_at`` backwards when
a pattern matches so much that the newest page is found sooner that way.

SQLite (the embedded default) has no GIN: there the literal prefix, if any, uses the
``plate_norm`` B-tree, otherwise the ``seen_at`` order with ``LIKE`` as a filter. The 10
million rows in under a second are a PostgreSQL figure (``bench/plate_search.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from core.plates import PROVINCES, SUFFIXES, normalize

KEYS_FUNCTION = "vigil_plate_keys"
KEYS_INDEX = "ix_sightings_plate_keys"
MAX_PATTERN = 32
"""As long as a stored plate may be (``sightings.plate_norm`` is 32 characters)."""
PLATE_CHARS = frozenset(PROVINCES + SUFFIXES + "使应急民航" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        + "0123456789")
"""Characters a pattern may name: those of every GA 36 format (core/plates.py)."""
TRIGRAM = 3

_KEYS_SQL = f"""
CREATE OR REPLACE FUNCTION {KEYS_FUNCTION}(p text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT ARRAY(
  SELECT (i - 1)::text || ':' || substr(p, i, 1) FROM generate_series(1, length(p)) AS i
  UNION ALL
  SELECT '-' || (length(p) - i + 1)::text || ':' || substr(p, i, 1)
    FROM generate_series(1, length(p)) AS i
  UNION ALL
  SELECT '=' || substr(p, i, 3) FROM generate_series(1, length(p) - 2) AS i)
$$
"""
"""Mirrored by :func:`plate_keys` (a test checks the two agree on real plates)."""


def create_search_index(conn: Connection) -> None:
    """Migration 4: the keys function and its GIN index (PostgreSQL; nothing on SQLite).

    Also what ``bench/plate_search.py`` calls after a bulk load, so the bench measures
    exactly the index a deployment has.
    """
    if conn.dialect.name != "postgresql":
        return
    conn.execute(sa.text(_KEYS_SQL))
    conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {KEYS_INDEX} ON sightings "
                         f"USING gin ({KEYS_FUNCTION}(plate_norm))"))


class PatternError(ValueError):
    """A plate pattern that cannot be searched; the message says why, for the user."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A checked, normalised pattern (``text``) and what the database needs from it."""

    text: str
    like: str
    """``text`` as a SQL LIKE pattern (``?`` → ``_``, ``*`` → ``%``)."""
    keys: tuple[str, ...] = field(default=())
    """What every matching plate's :func:`plate_keys` holds (may be empty)."""

    @property
    def exact(self) -> str | None:
        """The plate itself when the pattern has no wildcard."""
        return None if "?" in self.text or "*" in self.text else self.text

    @property
    def prefix(self) -> str:
        """The literal characters before the first wildcard."""
        return re.split(r"[?*]", self.text, maxsplit=1)[0]

    @property
    def matches_all(self) -> bool:
        return self.text == "*"


def parse_pattern(raw: str) -> Pattern:
    """Check and normalise a user's pattern, or raise :class:`PatternError` saying why."""
    text = re.sub(r"\*+", "*", normalize(raw.replace("＊", "*").replace("？", "?")))
    if not text:
        raise PatternError("the pattern is empty: give plate characters, ? or *")
    if len(text) > MAX_PATTERN:
        raise PatternError(f"the pattern is {len(text)} characters long; at most "
                           f"{MAX_PATTERN}")
    bad = sorted({c for c in text if c not in PLATE_CHARS and c not in "?*"})
    if bad:
        shown = " ".join(repr(c) for c in bad[:5])
        raise PatternError(f"the pattern may hold letters, digits, the Chinese characters of "
                           f"plates, ? (one character) and * (any run); not {shown}")
    like = text.replace("?", "_").replace("*", "%")
    return Pattern(text, like, pattern_keys(text))


def plate_keys(plate: str) -> list[str]:
    """The keys of a stored plate: what the SQL function :data:`KEYS_FUNCTION` returns."""
    n = len(plate)
    keys = [f"{i}:{c}" for i, c in enumerate(plate)]
    keys += [f"-{n - i}:{c}" for i, c in enumerate(plate)]
    keys += [f"={plate[i:i + TRIGRAM]}" for i in range(n - TRIGRAM + 1)]
    return keys


def pattern_keys(text: str) -> tuple[str, ...]:
    """Keys every plate matching ``text`` must have.

    Characters before the first ``*`` have a fixed position from the start, those after the
    last ``*`` one from the end; every run of three or more literal characters anywhere
    gives its trigrams. Keys are never wrong, only sometimes too few (``*1*``: none), in
    which case ``LIKE`` does all the work.
    """
    parts = text.split("*")
    keys: list[str] = [f"{i}:{c}" for i, c in enumerate(parts[0]) if c != "?"]
    if len(parts) > 1:
        last = parts[-1]
        keys += [f"-{len(last) - i}:{c}" for i, c in enumerate(last) if c != "?"]
    for part in parts:
        for run in part.split("?"):
            keys += [f"={run[i:i + TRIGRAM]}" for i in range(len(run) - TRIGRAM + 1)]
    return tuple(dict.fromkeys(keys))


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """``lo <= plate < hi`` holds exactly for the plates starting with ``prefix`` under a
    code-point (binary) collation: SQLite's default, so its plate B-tree can seek."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True, slots=True)
class SightingSearch:
    """Filters of a plate search; ``None`` / empty means "any". ``since <= seen_at < until``.

    ``after`` is a keyset cursor, the ``(seen_at, id)`` of the last row of the previous page:
    results are newest first, and new sightings keep arriving at the top, so an offset would
    shift between pages (rows shown twice) and cost more the deeper it goes; a cursor does
    neither.
    """

    pattern: Pattern | None = None
    since: float | None = None
    until: float | None = None
    cameras: tuple[str, ...] = ()
    color: str | None = None
    plate_type: str | None = None
    after: tuple[float, str] | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class SightingRow:
    """One search hit: the columns a result table shows (the message body is not read)."""

    sighting_id: str
    camera_id: str
    plate: str
    plate_raw: str
    plate_type: str
    color: str
    confidence: float
    seen_at: float
    last_seen: float
    snapshot: str | None
    plate_crop: str | None


def _pattern_where(s: sa.Table, pattern: Pattern, dialect: str) -> list[sa.ColumnElement[bool]]:
    plate = s.c.plate_norm
    if pattern.exact is not None:
        return [plate == pattern.exact]
    where: list[sa.ColumnElement[bool]] = []
    if not pattern.matches_all:
        where.append(plate.like(pattern.like))
    if dialect == "postgresql" and pattern.keys:
        keys = getattr(sa.func, KEYS_FUNCTION)(plate, type_=postgresql.ARRAY(sa.Text))
        where.append(keys.contains(list(pattern.keys)))
    elif dialect == "sqlite" and pattern.prefix:
        lo, hi = prefix_bounds(pattern.prefix)
        where += [plate >= lo, plate < hi]
    return where


def search_statement(s: sa.Table, q: SightingSearch, dialect: str) -> sa.Select[tuple[
        object, ...]]:
    """The page's SELECT: newest first, ``limit + 1`` rows (the extra one says "more")."""
    cols = (s.c.id, s.c.camera_id, s.c.plate_norm, s.c.plate_raw, s.c.plate_type, s.c.color,
            s.c.confidence, s.c.seen_at, s.c.last_seen, s.c.snapshot, s.c.plate_crop)
    where = _pattern_where(s, q.pattern, dialect) if q.pattern is not None else []
    if q.since is not None:
        where.append(s.c.seen_at >= q.since)
    if q.until is not None:
        where.append(s.c.seen_at < q.until)
    if q.cameras:
        where.append(s.c.camera_id.in_(q.cameras))
    if q.color is not None:
        where.append(s.c.color == q.color)
    if q.plate_type is not None:
        where.append(s.c.plate_type == q.plate_type)
    if q.after is not None:
        at, last_id = q.after
        where += [s.c.seen_at <= at, sa.or_(s.c.seen_at < at, s.c.id < last_id)]
    return (sa.select(*cols).where(*where).order_by(s.c.seen_at.desc(), s.c.id.desc())
            .limit(q.limit + 1))


def row_of(row: sa.Row[tuple[object, ...]]) -> SightingRow:
    m = row._mapping
    return SightingRow(
        sighting_id=m["id"], camera_id=m["camera_id"], plate=m["plate_norm"],
        plate_raw=m["plate_raw"], plate_type=m["plate_type"], color=m["color"],
        confidence=float(m["confidence"]), seen_at=float(m["seen_at"]),
        last_seen=float(m["last_seen"]), snapshot=m["snapshot"], plate_crop=m["plate_crop"])
