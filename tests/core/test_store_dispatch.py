"""Store: the dispatch outbox, watchlist entries and the audit log, on both backends."""

from __future__ import annotations

import threading

import pytest

from core.clock import FakeClock
from core.errors import FatalError
from core.store import (
    DispatchItem,
    DispatchRequest,
    DispatchState,
    NotFoundError,
    Store,
    WatchlistRow,
)
from tests.core.store_support import alert

pytest_plugins = ["tests.core.store_fixtures"]


def request(n: int, target: str = "110") -> DispatchRequest:
    return DispatchRequest(alert(n).alert_id, target, f"msg_{n}_{target}", f'{{"n": {n}}}')


@pytest.fixture
def queued(store: Store) -> Store:
    for n in range(3):
        store.insert_alert(alert(n))
    return store


def test_enqueue_is_idempotent_per_target_and_webhook_id(queued: Store, clock: FakeClock) -> None:
    item = queued.enqueue_dispatch(request(0))
    assert (item.state, item.attempts, item.next_attempt_at) == (DispatchState.PENDING, 0,
                                                                 clock.now())
    assert queued.enqueue_dispatch(request(0)) == item
    other = queued.enqueue_dispatch(request(0, target="cap"))
    assert other.id != item.id
    assert [i.target for i in queued.dispatches_for(alert(0).alert_id)] == ["110", "cap"]


def test_enqueue_needs_a_stored_alert(store: Store) -> None:
    with pytest.raises(FatalError, match="IntegrityError"):
        store.enqueue_dispatch(request(9))


def test_due_dispatches_in_due_order_and_leased(queued: Store, clock: FakeClock) -> None:
    now = clock.now()
    late = queued.enqueue_dispatch(request(0), not_before=now + 10)
    first = queued.enqueue_dispatch(request(1), not_before=now - 5)
    second = queued.enqueue_dispatch(request(2))
    assert [i.id for i in queued.due_dispatches(now)] == [first.id, second.id]
    assert queued.due_dispatches(now) == []  # leased to the first caller
    assert [i.id for i in queued.due_dispatches(now + 10, limit=1)] == [late.id]
    assert {i.id for i in queued.due_dispatches(now + 61)} == {first.id, second.id}  # lease over


def test_two_workers_never_get_the_same_row(queued: Store, clock: FakeClock) -> None:
    for n in range(3):
        for target in ("a", "b", "c", "d"):
            queued.enqueue_dispatch(request(n, target))
    got: list[list[DispatchItem]] = [[], []]

    def worker(slot: int) -> None:
        for _ in range(6):
            got[slot].extend(queued.due_dispatches(clock.now(), limit=2))

    threads = [threading.Thread(target=worker, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i.id for i in got[0] + got[1]]
    assert len(ids) == len(set(ids)) == 12


def test_failure_retry_delivery_and_dead_letters(queued: Store, clock: FakeClock) -> None:
    item = queued.enqueue_dispatch(request(0))
    assert queued.mark_failed(item.id, next_at=clock.now() + 30, error="HTTP 503")
    assert queued.due_dispatches(clock.now()) == []
    [again] = queued.due_dispatches(clock.now() + 30)
    assert (again.attempts, again.last_error) == (1, "HTTP 503")
    clock.advance(31)
    assert queued.mark_delivered(item.id)
    [done] = queued.dispatches_for(alert(0).alert_id)
    assert (done.state, done.attempts, done.delivered_at) == (DispatchState.DELIVERED, 2,
                                                              clock.now())
    assert not queued.mark_failed(item.id, clock.now(), "late report")  # no longer pending

    dead = queued.enqueue_dispatch(request(1))
    assert queued.mark_dead(dead.id, "HTTP 400 bad signature")
    [letter] = queued.dead_letters()
    assert (letter.id, letter.state, letter.last_error) == (dead.id, DispatchState.DEAD,
                                                            "HTTP 400 bad signature")
    assert queued.retry_dead(dead.id)
    assert not queued.retry_dead(dead.id)
    assert queued.dead_letters() == []
    [again] = queued.due_dispatches(clock.now())
    assert (again.id, again.attempts) == (dead.id, 0)  # the whole retry schedule again
    with pytest.raises(NotFoundError, match="dispatch item 999"):
        queued.mark_delivered(999)


def entry(n: int, **changes: object) -> WatchlistRow:
    base = WatchlistRow(
        entry_id=f"D{n}", plate="京A12345", pattern="", category="stolen", level=1,
        reason="case 2024-17", applicant="Li", unit="Xicheng PSB", valid_from=0.0,
        valid_until=5000.0, scope={"cameras": "all", "areas": ["110102"]}, status="active",
        source="manual", entry={"DispositionID": f"D{n}", "PriorityLevel": 1},
    )
    return WatchlistRow(**{**{f: getattr(base, f) for f in base.__slots__}, **changes})


def test_watchlist_upsert_list_and_status(store: Store, clock: FakeClock) -> None:
    stored = store.upsert_watchlist_entry(entry(1), by="li")
    assert stored == entry(1, updated_at=clock.now())
    store.upsert_watchlist_entry(entry(2, status="pending", source="gat1400"), by="li")
    assert store.get_watchlist_entry("D9") is None
    assert [e.entry_id for e in store.list_watchlist_entries()] == ["D1", "D2"]
    assert [e.entry_id for e in store.list_watchlist_entries(status="pending")] == ["D2"]
    assert [e.entry_id for e in store.list_watchlist_entries(source="manual")] == ["D1"]
    changed = store.upsert_watchlist_entry(entry(1, level=3), by="wang")
    assert changed.level == 3
    withdrawn = store.set_watchlist_status("D1", "withdrawn", by="wang", reason="recovered")
    assert (withdrawn.status, withdrawn.withdrawn_reason) == ("withdrawn", "recovered")
    with pytest.raises(NotFoundError, match="watchlist entry D9"):
        store.set_watchlist_status("D9", "withdrawn", by="wang", reason="x")
    actions = [(a.who, a.action) for a in store.audit_log(obj="watchlist:D1")]
    assert actions == [("wang", "watchlist.withdrawn"), ("wang", "watchlist.upsert"),
                       ("li", "watchlist.upsert")]


def test_watchlist_entries_expire(store: Store) -> None:
    store.upsert_watchlist_entry(entry(1, valid_until=100.0), by="li")
    store.upsert_watchlist_entry(entry(2, valid_until=None), by="li")
    store.upsert_watchlist_entry(entry(3, valid_until=50.0, status="withdrawn"), by="li")
    store.upsert_watchlist_entry(entry(4, valid_until=80.0, status="pending_approval"), by="li")
    assert store.expire_watchlist(now=79.0) == []
    assert store.expire_watchlist(now=100.0) == ["D1", "D4"]
    assert store.expire_watchlist(now=100.0) == []
    assert store.get_watchlist_entry("D1").status == "expired"  # type: ignore[union-attr]
    assert store.audit_log(who="system")[0].action == "watchlist.expired"


def test_audit_log_filters_newest_first(store: Store, clock: FakeClock) -> None:
    first = store.audit("alice", "login", "user:alice")
    clock.advance(1)
    store.audit("bob", "alert.sign", "alert:1", {"via": "console", "n": [1, 2]})
    clock.advance(1)
    store.audit("alice", "alert.dismiss", "alert:1", None)
    assert [a.action for a in store.audit_log()] == ["alert.dismiss", "alert.sign", "login"]
    assert [a.action for a in store.audit_log(obj="alert:1", who="bob")] == ["alert.sign"]
    assert store.audit_log(obj="alert:1", who="bob")[0].detail == {"via": "console", "n": [1, 2]}
    assert [a.id for a in store.audit_log(since=clock.now() - 2, limit=5)][-1] == first
    assert len(store.audit_log(limit=1)) == 1
