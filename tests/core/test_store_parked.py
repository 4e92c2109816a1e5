"""Parked bus messages in the store (schema migration 3), on SQLite and PostgreSQL."""

from __future__ import annotations

from core.clock import FakeClock
from core.store import Store
from core.store.parked import Poison

pytest_plugins = ["tests.core.store_fixtures"]


def poison(n: int) -> Poison:
    return Poison("alerts.sightings", "sightings", f"{n}-0", '{"type":"sighting","data":{}}',
                  "RuntimeError: 京A66666 breaks the lookup", 5, 1_700_000_000.0 + n)


def test_parked_messages_are_kept_whole_and_listed_newest_first(
        store: Store, clock: FakeClock) -> None:
    kept = [store.park_message(poison(n)) for n in range(3)]
    assert [k.parked_at for k in kept] == [clock.now()] * 3
    assert len({k.id for k in kept}) == 3
    assert store.parked() == kept[::-1]
    assert store.parked(limit=2, offset=1) == [kept[1], kept[0]]
    assert store.parked()[0].poison == poison(2)
