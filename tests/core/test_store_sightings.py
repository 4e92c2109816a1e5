"""Store: sightings, trajectories (and the index they use) and retention, on both backends."""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from core.clock import FakeClock
from core.store import PurgeResult, Store, schema
from core.store import sightings as sightings_module
from core.store.sightings import trajectory_query
from tests.core.store_support import alert, sighting

pytest_plugins = ["tests.core.store_fixtures"]


def test_trajectory_in_time_order_within_range(store: Store) -> None:
    for n, at in enumerate([500.0, 100.0, 300.0, 200.0, 900.0]):
        store.add_sighting(sighting(n, at=at, camera=f"cam-{n}"))
    store.add_sighting(sighting(10, plate="沪A12345F", at=250.0))
    found = store.trajectory("京A12345", 150.0, 500.0)
    assert [s.first_seen for s in found] == [200.0, 300.0, 500.0]
    assert [s.camera_id for s in found] == ["cam-3", "cam-2", "cam-0"]
    assert found[0] == sighting(3, at=200.0, camera="cam-3")
    assert [s.sighting_id for s in store.trajectory("沪A12345F", 0.0, 1e9)] == ["s-10"]
    assert store.trajectory("京A12345", 150.0, 500.0, limit=2)[-1].first_seen == 300.0
    assert store.trajectory("京B00000", 0.0, 1e9) == []


def test_same_time_sightings_have_a_stable_order(store: Store) -> None:
    for n in (3, 1, 2):
        store.add_sighting(sighting(n, at=100.0))
    assert [s.sighting_id for s in store.trajectory("京A12345", 0, 1e9)] == ["s-1", "s-2", "s-3"]


def _fill(store: Store, rows: int, plates: int) -> None:
    """Many passes of many plates, then fresh planner statistics."""
    values = [{"id": f"bulk-{i}", "camera_id": f"cam-{i % 50}", "plate_norm": f"P{i % plates}",
               "plate_raw": "", "plate_type": "small", "color": "blue", "confidence": 0.9,
               "seen_at": float(i), "first_seen": float(i), "last_seen": float(i),
               "final": True, "body": "{}"} for i in range(rows)]
    with store.write() as conn:
        conn.execute(schema.sightings.insert(), values)
    with store.write() as conn:
        conn.exec_driver_sql("ANALYZE")


def test_trajectory_uses_the_plate_time_index(store: Store) -> None:
    _fill(store, rows=20_000, plates=2_000)
    stmt = trajectory_query("P7", 1000.0, 9000.0, 100)
    sql = str(stmt.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.read() as conn:
        if store.dialect == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            # rows come in seen_at order from the index; only equal times are sorted (by id)
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            plan = " ".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + sql))
    assert "ix_sightings_plate_seen" in plan, plan


def test_final_emission_replaces_early_one_but_not_the_reverse(store: Store) -> None:
    early = replace(sighting(1), plate_raw="京A1234S", confidence=0.5, final=False)
    final = replace(sighting(1), confidence=0.95)
    store.add_sighting(early)
    store.add_sighting(final)
    store.add_sighting(early)  # arrives late (the bus may reorder): ignored
    store.add_sighting(final)  # delivered twice: harmless
    assert store.trajectory("京A12345", 0, 1e9) == [final]


def test_purge_deletes_old_and_strips_evidence(store: Store, clock: FakeClock) -> None:
    now = clock.now()
    store.add_sighting(sighting(1, at=now - 100 * 86400, snapshot="/ev/1.jpg"))  # very old
    store.add_sighting(sighting(2, at=now - 40 * 86400, snapshot="/ev/2.jpg"))  # old evidence
    store.add_sighting(sighting(3, at=now - 40 * 86400))  # old, no evidence
    store.add_sighting(sighting(4, at=now - 1 * 86400, snapshot="/ev/4.jpg"))  # recent
    result = store.purge(older_than_sightings=90 * 86400, older_than_evidence=30 * 86400)
    assert result == PurgeResult(1, 1, ["/ev/1.jpg", "/ev/1.jpg.crop", "/ev/2.jpg",
                                        "/ev/2.jpg.crop"])
    left = store.trajectory("京A12345", 0, 1e12)
    assert [s.sighting_id for s in left] == ["s-2", "s-3", "s-4"]
    assert (left[0].evidence.snapshot, left[0].evidence.plate_crop) == (None, None)
    assert left[2].evidence.snapshot == "/ev/4.jpg"
    assert store.purge(90 * 86400, 30 * 86400) == PurgeResult()  # nothing left to do


def test_purge_keeps_evidence_an_alert_refers_to(store: Store, clock: FakeClock) -> None:
    old = clock.now() - 100 * 86400
    raised = alert(7, at=old)
    store.add_sighting(replace(sighting(7, at=old, snapshot="/ev/7.jpg")))
    store.insert_alert(raised)
    result = store.purge(90 * 86400, 30 * 86400)
    assert (result.sightings_deleted, result.evidence_paths) == (1, [])
    assert store.get_alert(raised.alert_id) is not None


def test_purge_works_in_batches(store: Store, clock: FakeClock,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sightings_module, "PURGE_BATCH", 3)
    for n in range(8):
        store.add_sighting(sighting(n, at=clock.now() - 1000 - n, snapshot=f"/ev/{n}"))
    result = store.purge(older_than_sightings=500, older_than_evidence=500)
    assert result.sightings_deleted == 8 and len(result.evidence_paths) == 16
    with store.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sightings")).scalar_one() == 0


def test_purge_rejects_negative_ages(store: Store) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        store.purge(-1, 0)
