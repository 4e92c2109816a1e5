"""Sightings: every vehicle pass, for trajectories (车辆轨迹) and retention."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from core import codec
from core.messages import Sighting
from core.store import schema
from core.store.engine import StoreBase
from core.store.plate_search import SightingRow, SightingSearch, row_of, search_statement
from core.store.records import PurgeResult
from core.store.sql import decode_as, upsert

PURGE_BATCH = 2000
"""Rows per purge transaction, so a large purge never holds the write lock for long."""

_S = schema.sightings


def trajectory_query(plate_norm: str, start: float, end: float, limit: int) -> sa.Select[Any]:
    """The trajectory SELECT, served by ``ix_sightings_plate_seen`` (tests EXPLAIN it)."""
    return (
        sa.select(_S.c.body, _S.c.snapshot, _S.c.plate_crop)
        .where(_S.c.plate_norm == plate_norm, _S.c.seen_at >= start, _S.c.seen_at <= end)
        .order_by(_S.c.seen_at, _S.c.id)
        .limit(limit)
    )


def _values(sighting: Sighting) -> dict[str, Any]:
    return {
        "id": sighting.sighting_id, "camera_id": sighting.camera_id,
        "plate_norm": sighting.plate, "plate_raw": sighting.plate_raw,
        "plate_type": sighting.plate_type, "color": sighting.color,
        "confidence": sighting.confidence, "seen_at": sighting.first_seen,
        "first_seen": sighting.first_seen, "last_seen": sighting.last_seen,
        "final": sighting.final, "snapshot": sighting.evidence.snapshot,
        "plate_crop": sighting.evidence.plate_crop,
        "body": codec.encode(sighting).decode("utf-8"),
    }


def _not_final_yet(excluded: Any) -> sa.ColumnElement[bool]:
    """An early emission arriving after the final one must not overwrite it."""
    return sa.or_(sa.not_(_S.c.final), excluded.final)


class SightingStore(StoreBase):
    def add_sighting(self, sighting: Sighting) -> None:
        """Store a pass; the final emission of a sighting replaces its early one (same id).

        ``seen_at`` is ``first_seen``: it does not move between the early and final emission,
        so a trajectory keeps its order. Re-adding the same sighting is harmless (the bus
        delivers at least once).
        """
        stmt = upsert(self.dialect, _S, _values(sighting), ["id"], _not_final_yet)
        with self.write() as conn:
            conn.execute(stmt)

    def trajectory(
        self, plate_norm: str, start: float, end: float, limit: int = 10_000
    ) -> list[Sighting]:
        """Every sighting of ``plate_norm`` with ``start <= seen_at <= end``, oldest first.

        Evidence references come from the columns, which :meth:`purge` clears when the files
        are gone, so a trajectory never points at a deleted picture.
        """
        with self.read() as conn:
            rows = conn.execute(trajectory_query(plate_norm, start, end, limit)).all()
        out: list[Sighting] = []
        for body, snapshot, plate_crop in rows:
            sighting = decode_as(body, Sighting, "sightings")
            evidence = replace(sighting.evidence, snapshot=snapshot, plate_crop=plate_crop)
            out.append(replace(sighting, evidence=evidence))
        return out

    def search_sightings(self, query: SightingSearch) -> tuple[list[SightingRow], bool]:
        """A page of plate-search hits, newest first, and whether more follow
        (core/store/plate_search.py explains the pattern and the index)."""
        with self.read() as conn:
            rows = conn.execute(search_statement(_S, query, self.dialect)).all()
        return [row_of(r) for r in rows[:query.limit]], len(rows) > query.limit

    def sighting_evidence(self, sighting_id: str) -> tuple[str | None, str | None] | None:
        """The snapshot and plate-crop refs of one sighting (``None`` if there is no such
        sighting). Read from the columns, which retention clears with the files."""
        stmt = sa.select(_S.c.snapshot, _S.c.plate_crop).where(_S.c.id == sighting_id)
        with self.read() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else (row.snapshot, row.plate_crop)

    def purge(self, older_than_sightings: float, older_than_evidence: float) -> PurgeResult:
        """Retention: delete sightings older than ``older_than_sightings`` seconds and drop the
        evidence references of those older than ``older_than_evidence`` seconds (ages against
        the store's clock). Returns the evidence paths for the caller to delete; paths an
        alert still refers to are kept (alerts are case records).
        """
        if older_than_sightings < 0 or older_than_evidence < 0:
            raise ValueError("retention ages must be >= 0 seconds")
        now = self.clock.now()
        paths: list[str] = []
        deleted = self._purge_rows(now - older_than_sightings, paths)
        cleared = self._strip_evidence(now - older_than_evidence, paths)
        return PurgeResult(deleted, cleared, paths)

    def _batch(self, conn: sa.Connection, where: sa.ColumnElement[bool]) -> list[Any]:
        referenced = sa.exists().where(schema.alerts.c.observation_id == _S.c.id)
        stmt = sa.select(_S.c.id, _S.c.snapshot, _S.c.plate_crop, referenced.label("kept"))
        return list(conn.execute(stmt.where(where).limit(PURGE_BATCH)).all())

    @staticmethod
    def _collect(rows: list[Any]) -> tuple[list[str], list[str]]:
        """Row ids and the evidence paths no alert refers to."""
        paths = [p for r in rows if not r.kept for p in (r.snapshot, r.plate_crop) if p]
        return [row.id for row in rows], paths

    def _purge_rows(self, cutoff: float, paths: list[str]) -> int:
        total = 0
        while True:
            with self.write() as conn:
                ids, found = self._collect(self._batch(conn, _S.c.seen_at < cutoff))
                if ids:
                    conn.execute(sa.delete(_S).where(_S.c.id.in_(ids)))
            paths.extend(found)  # only once the deletion is committed
            total += len(ids)
            if len(ids) < PURGE_BATCH:
                return total

    def _strip_evidence(self, cutoff: float, paths: list[str]) -> int:
        has_files = sa.or_(_S.c.snapshot.is_not(None), _S.c.plate_crop.is_not(None))
        total = 0
        while True:
            with self.write() as conn:
                batch = self._batch(conn, sa.and_(_S.c.seen_at < cutoff, has_files))
                ids, found = self._collect(batch)
                if ids:
                    conn.execute(sa.update(_S).where(_S.c.id.in_(ids))
                                 .values(snapshot=None, plate_crop=None))
            paths.extend(found)
            total += len(ids)
            if len(ids) < PURGE_BATCH:
                return total
