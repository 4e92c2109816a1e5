"""The store's global alert event log and the console tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from core.clock import FakeClock
from core.lifecycle import Action, escalation, transition
from core.messages import AlertTransition, TransitionKind
from core.store import Store, open_store, schema
from core.store.migrations import MIGRATIONS, migrate
from core.store.users import TokenRow, UserChange, UserRow
from tests.core.store_support import alert

pytest_plugins = ["tests.core.store_fixtures"]


def test_every_timeline_entry_is_an_event_in_order(store: Store) -> None:
    first = store.insert_alert(alert(1))
    second = store.insert_alert(alert(2))
    step = transition(first.case, Action.SIGN, "alice", 1010.0)
    store.append_transition(step, first.case)
    assert store.append_event(escalation(second.alert, 1060.0, "sign escalation 1/2 (60 s)"))
    state = second.alert.state
    store.append_event(AlertTransition(second.alert.alert_id, TransitionKind.DISPATCH, state,
                                       state, "110", 1070.0, "accepted"))
    store.insert_alert(alert(1))  # idempotent repeat: no new event
    events = store.events_after(0)
    assert [(e.id, e.kind, e.timeline_seq) for e in events] == [
        (1, "raised", 1), (2, "raised", 1), (3, "transition", 2), (4, "escalation", 2),
        (5, "dispatch", 3)]
    assert [e.alert_id for e in events] == [first.alert.alert_id, second.alert.alert_id,
                                            first.alert.alert_id, second.alert.alert_id,
                                            second.alert.alert_id]
    assert store.last_event_id() == 5
    assert [e.id for e in store.events_after(3, limit=1)] == [4]
    details = store.event_details_after(2)
    assert details[0].record.alert.state.value == "signed"
    assert details[0].entry.by == "alice" and details[2].entry.note == "accepted"


def test_concurrent_writers_get_gap_free_ordered_ids(store: Store) -> None:
    """Inserts and transitions from several threads at once: ids 1..N, each once, and a
    reader never sees id k without every id below it."""
    records = [store.insert_alert(alert(n)) for n in range(8)]
    seen_gaps: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            ids = [e.id for e in store.events_after(0, limit=10_000)]
            if ids != list(range(1, len(ids) + 1)):
                seen_gaps.append(repr(ids))

    def signer(index: int) -> None:
        record = records[index]
        store.append_transition(transition(record.case, Action.SIGN, f"op{index}", 2000.0),
                                record.case)

    def inserter(base: int) -> None:
        for n in range(base, base + 10):
            store.insert_alert(alert(n))

    threads = [threading.Thread(target=signer, args=(i,)) for i in range(8)]
    threads += [threading.Thread(target=inserter, args=(b,)) for b in (100, 200)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    ids = [e.id for e in store.events_after(0, limit=10_000)]
    assert ids == list(range(1, 8 + 8 + 20 + 1))
    assert not seen_gaps


def test_migration_2_backfills_existing_timelines(store_url: str) -> None:
    clock = FakeClock()
    old = Store(store_url, clock)
    try:
        migrate(old, MIGRATIONS[:1])  # a version-1 database with history in it
        with old.write() as conn:
            for n, at in ((1, 1000.0), (2, 900.0)):
                a = alert(n, at=at)
                conn.execute(schema.alerts.insert().values(old._alert_values(a, n)))
                conn.execute(schema.alert_timeline.insert().values(
                    alert_id=a.alert_id, seq=1, kind="raised", from_state="new",
                    to_state="new", by="rule:watchlist", at=at, note=""))
    finally:
        old.close()
    upgraded = open_store(store_url, clock)
    try:
        events = upgraded.events_after(0)
        assert [(e.id, e.alert_id, e.at) for e in events] == [
            (1, alert(2).alert_id, 900.0), (2, alert(1).alert_id, 1000.0)]
        upgraded.insert_alert(alert(3))
        assert upgraded.last_event_id() == 3
    finally:
        upgraded.close()


def test_users_tokens_and_login_failures(store: Store, clock: FakeClock) -> None:
    assert store.add_user(UserRow("alice", "Alice", "monitor", "h1"), "admin") is not None
    assert store.add_user(UserRow("alice", "Again", "admin", "h2"), "admin") is None
    session = store.add_token(TokenRow(0, "session", "a" * 64, "session", "alice", "monitor",
                                       "alice", 0.0, expires_at=clock.now() + 10), "alice")
    grant = store.token_by_hash("a" * 64)
    assert grant is not None and grant.user is not None and grant.user.username == "alice"
    store.update_user("alice", UserChange(disabled=True), "admin")
    grant = store.token_by_hash("a" * 64)
    assert grant is not None and grant.token.revoked_at == clock.now()
    assert store.revoke_token(session.id, "admin") is False
    store.add_login_failure("alice|ip", clock.now() - 400, forget_before=0.0)
    store.add_login_failure("alice|ip", clock.now(), forget_before=clock.now() - 300)
    assert store.login_failures("alice|ip", 0.0) == [clock.now()]
    store.clear_login_failures(["alice|ip"])
    assert store.login_failures("alice|ip", 0.0) == []
    with store.read() as conn:
        audit = conn.execute(sa.select(schema.audit_log.c.action)).scalars().all()
    assert audit == ["user.add", "user.update"]


def test_insert_returns_what_is_stored(store: Store) -> None:
    """``insert_alert`` builds its record without reading it back: it must equal the row."""
    record = store.insert_alert(alert(7))
    assert record == store.get_alert(record.alert.alert_id)
    assert store.insert_alert(alert(7)) == record  # the idempotent repeat reads it back
