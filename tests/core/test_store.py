"""Store: alerts, timelines, the publish outbox and optimistic concurrency, on both backends."""

from __future__ import annotations

import threading
from dataclasses import replace

import psycopg
import pytest
import sqlalchemy as sa

from core.clock import FakeClock
from core.errors import FatalError, TransitionError
from core.lifecycle import Action, Case, Feedback, Step, transition
from core.messages import AlertState, AlertTransition, TransitionKind
from core.store import AlertQuery, AlertRecord, NotFoundError, Store, open_store, schema
from tests.core.store_support import PG_ADMIN_URL, alert, pg_unreachable

pytest_plugins = ["tests.core.store_fixtures"]


@pytest.mark.postgres
def test_postgres_is_reachable() -> None:
    """The PostgreSQL half must not vanish silently: fail here with what to do (skipped
    only with VIGIL_SKIP_POSTGRES=1, never under CI)."""
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=5).close()
    except psycopg.Error as exc:
        pg_unreachable(exc)


def count(st: Store, table: sa.Table) -> int:
    with st.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_insert_alert_writes_row_timeline_and_outbox(store: Store, clock: FakeClock) -> None:
    a = alert(1)
    record = store.insert_alert(a)
    assert record.seq == 1
    assert record.alert == a
    assert record.claimed_by is None and record.pushed_at is None
    assert store.get_alert(a.alert_id) == record
    [first] = store.timeline(a.alert_id)
    assert (first.seq, first.kind, first.by, first.at) == (1, "raised", "rule:watchlist", 1000.0)
    assert [r.alert.alert_id for r in store.pending_publish()] == [a.alert_id]


def test_insert_alert_is_idempotent(store: Store) -> None:
    first = store.insert_alert(alert(1))
    again = store.insert_alert(alert(1))
    assert again == first
    assert count(store, schema.alerts) == 1
    assert count(store, schema.alert_timeline) == 1
    assert count(store, schema.publish_outbox) == 1


def test_insert_alert_is_one_transaction(store: Store) -> None:
    """If the outbox row cannot be written, neither is the alert nor its timeline entry."""
    store.insert_alert(alert(1))
    store.mark_published([alert(1).alert_id])
    with store.write() as conn:  # squat on the next outbox seq to force a failure
        conn.execute(schema.publish_outbox.insert().values(
            alert_id=alert(1).alert_id, seq=2, created_at=0.0))
    with pytest.raises(FatalError):
        store.insert_alert(alert(2))
    assert store.get_alert(alert(2).alert_id) is None
    assert store.timeline(alert(2).alert_id) == []


def test_seq_is_gap_free_and_replayable(store: Store) -> None:
    ids = [store.insert_alert(alert(n, at=1000.0 + n)).alert.alert_id for n in range(7)]
    assert [r.seq for r in store.alerts_after(0)] == list(range(1, 8))
    assert [r.alert.alert_id for r in store.alerts_after(3)] == ids[3:]
    assert [r.seq for r in store.alerts_after(3, limit=2)] == [4, 5]
    assert store.alerts_after(7) == []


def test_concurrent_inserts_get_distinct_gap_free_seqs(store: Store) -> None:
    def work(base: int) -> None:
        for n in range(base, base + 8):
            store.insert_alert(alert(n))

    threads = [threading.Thread(target=work, args=(b,)) for b in (0, 100, 200, 300)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.seq for r in store.alerts_after(0, limit=100)] == list(range(1, 33))
    assert [r.seq for r in store.pending_publish()] == list(range(1, 33))


def test_get_alert_unknown_is_none(store: Store) -> None:
    assert store.get_alert("nope") is None


def act(st: Store, n: int, action: Action, by: str, note: str | Feedback = "") -> Step:
    """Read alert ``n``, compute the move and store it (what the console does)."""
    record = st.get_alert(alert(n).alert_id)
    assert record is not None
    step = transition(record.case, action, by, 5000.0 + len(st.timeline(alert(n).alert_id)), note)
    st.append_transition(step, record.case)
    return step


def test_list_alerts_filters_newest_first(store: Store) -> None:
    store.insert_alert(alert(1, level=1, camera="cam-1", at=100.0))
    store.insert_alert(alert(2, level=2, camera="cam-2", at=200.0))
    store.insert_alert(alert(3, level=1, camera="cam-2", at=300.0))
    act(store, 3, Action.SIGN, "alice")
    names = {alert(n).alert_id: n for n in (1, 2, 3)}

    def found(query: AlertQuery) -> list[int]:
        return [names[r.alert.alert_id] for r in store.list_alerts(query)]

    assert found(AlertQuery()) == [3, 2, 1]
    assert found(AlertQuery(level=1)) == [3, 1]
    assert found(AlertQuery(camera_id="cam-2")) == [3, 2]
    assert found(AlertQuery(state=AlertState.NEW)) == [2, 1]
    assert found(AlertQuery(state=AlertState.SIGNED)) == [3]
    assert found(AlertQuery(since=200.0, until=300.0)) == [2]
    assert found(AlertQuery(limit=1, offset=1)) == [2]


def test_full_lifecycle_is_stored_with_timestamps(store: Store) -> None:
    store.insert_alert(alert(1))
    act(store, 1, Action.SIGN, "alice")
    act(store, 1, Action.DISPOSE, "alice", "patrol 3 sent")
    act(store, 1, Action.FEEDBACK, "alice", Feedback("intercepted", "driver held", ("a.jpg",)))
    act(store, 1, Action.CLOSE, "alice")
    record = store.get_alert(alert(1).alert_id)
    assert record is not None
    assert record.alert.state is AlertState.CLOSED and record.claimed_by == "alice"
    assert (record.signed_at, record.disposed_at, record.feedback_at, record.closed_at) == (
        5001.0, 5002.0, 5003.0, 5004.0)
    timeline = store.timeline(alert(1).alert_id)
    assert [(e.kind, e.from_state, e.to_state) for e in timeline] == [
        ("raised", "new", "new"), ("transition", "new", "signed"),
        ("transition", "signed", "disposing"), ("transition", "disposing", "feedback"),
        ("transition", "feedback", "closed")]
    assert timeline[2].note == "patrol 3 sent"
    assert timeline[3].note == "intercepted: driver held"
    assert timeline[3].detail == {"result": "intercepted", "note": "driver held",
                                  "attachments": ["a.jpg"]}


def test_dismissal_stores_reason_and_time(store: Store) -> None:
    store.insert_alert(alert(1))
    act(store, 1, Action.DISMISS, "bob", "plate misread")
    record = store.get_alert(alert(1).alert_id)
    assert record is not None
    assert record.alert.state is AlertState.DISMISSED and record.dismissed_at == 5001.0
    assert store.timeline(alert(1).alert_id)[-1].note == "plate misread"


def test_stale_repeat_is_a_no_op_success(store: Store) -> None:
    """A double click: both requests were computed from the unsigned alert."""
    store.insert_alert(alert(1))
    before = store.get_alert(alert(1).alert_id)
    assert before is not None
    step = transition(before.case, Action.SIGN, "alice", 10.0)
    first = store.append_transition(step, before.case)
    second = store.append_transition(step, before.case)
    assert first == second and second.claimed_by == "alice"
    assert len(store.timeline(alert(1).alert_id)) == 2


def test_no_op_step_returns_current(store: Store) -> None:
    store.insert_alert(alert(1))
    act(store, 1, Action.SIGN, "alice")
    record = store.get_alert(alert(1).alert_id)
    assert record is not None
    step = transition(record.case, Action.SIGN, "alice", 99.0)
    assert not step.changed
    assert store.append_transition(step, record.case) == record


def test_stale_conflict_names_the_holder(store: Store) -> None:
    store.insert_alert(alert(1))
    before = store.get_alert(alert(1).alert_id)
    assert before is not None
    store.append_transition(transition(before.case, Action.SIGN, "alice", 1.0), before.case)
    with pytest.raises(TransitionError, match="expected new, got signed by alice"):
        store.append_transition(transition(before.case, Action.SIGN, "bob", 2.0), before.case)


def test_stale_but_still_legal_move_is_applied(store: Store) -> None:
    """Computed against "new", but alice signed meanwhile: her dismissal is still legal."""
    store.insert_alert(alert(1))
    before = store.get_alert(alert(1).alert_id)
    assert before is not None
    act(store, 1, Action.SIGN, "alice")
    step = transition(before.case, Action.DISMISS, "alice", 9.0, "duplicate")
    after = store.append_transition(step, before.case)
    assert after.alert.state is AlertState.DISMISSED
    assert [e.from_state for e in store.timeline(alert(1).alert_id)][-1] is AlertState.SIGNED


def _race_sign(st: Store, record: AlertRecord, who: str, barrier: threading.Barrier,
               out: tuple[list[str], list[TransitionError]]) -> None:
    step = transition(record.case, Action.SIGN, who, 1.0)
    barrier.wait()
    try:
        out[0].append(st.append_transition(step, record.case).claimed_by or "")
    except TransitionError as exc:
        out[1].append(exc)


@pytest.mark.parametrize("rounds", [6])
def test_two_operators_signing_at_once_exactly_one_wins(store: Store, rounds: int) -> None:
    for n in range(rounds):
        store.insert_alert(alert(n))
        record = store.get_alert(alert(n).alert_id)
        assert record is not None
        barrier = threading.Barrier(2)
        wins: list[str] = []
        errors: list[TransitionError] = []
        threads = [threading.Thread(target=_race_sign, args=(store, record, who, barrier,
                                                             (wins, errors)))
                   for who in ("alice", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and len(errors) == 1, (wins, errors)
        assert f"got signed by {wins[0]}" in str(errors[0])
        assert store.get_alert(alert(n).alert_id).claimed_by == wins[0]  # type: ignore[union-attr]
        assert len(store.timeline(alert(n).alert_id)) == 2


def test_transition_of_unknown_alert(store: Store) -> None:
    step = transition(Case(replace(alert(1), alert_id="ghost")), Action.SIGN, "alice", 1.0)
    with pytest.raises(NotFoundError, match="alert ghost"):
        store.append_transition(step, step.case)


def test_escalations_and_dispatch_events(store: Store) -> None:
    a = store.insert_alert(alert(1)).alert
    esc = AlertTransition(a.alert_id, TransitionKind.ESCALATION, AlertState.NEW, AlertState.NEW,
                          "sla", 60.0, "sign escalation 1/2 (60 s)")
    assert store.append_event(esc)
    act(store, 1, Action.SIGN, "alice")
    assert not store.append_event(replace(esc, at=180.0))  # stale: the alert moved on
    callback = AlertTransition(a.alert_id, TransitionKind.DISPATCH, AlertState.SIGNED,
                               AlertState.SIGNED, "110", 300.0, "arrived")
    assert store.append_event(callback, {"status": "arrived"})
    kinds = [(e.kind, e.note) for e in store.timeline(a.alert_id)]
    assert kinds == [("raised", "布控车辆 1"), ("escalation", "sign escalation 1/2 (60 s)"),
                     ("transition", ""), ("dispatch", "arrived")]
    assert store.timeline(a.alert_id)[-1].detail == {"status": "arrived"}
    with pytest.raises(ValueError, match="append_transition"):
        store.append_event(replace(callback, kind=TransitionKind.TRANSITION))
    with pytest.raises(NotFoundError):
        store.append_event(replace(callback, alert_id="ghost"))


def test_publish_outbox(store: Store, clock: FakeClock) -> None:
    for n in range(3):
        store.insert_alert(alert(n))
    assert [r.seq for r in store.pending_publish()] == [1, 2, 3]
    assert [r.seq for r in store.pending_publish(limit=2)] == [1, 2]
    clock.advance(5.0)
    assert store.mark_published([alert(0).alert_id, alert(2).alert_id]) == 2
    assert store.mark_published([alert(0).alert_id]) == 0
    assert store.mark_published([]) == 0
    assert [r.seq for r in store.pending_publish()] == [2]
    assert store.get_alert(alert(0).alert_id).pushed_at == clock.now()  # type: ignore[union-attr]


def test_store_reopens_with_data(store_url: str, clock: FakeClock) -> None:
    first = open_store(store_url, clock)
    first.insert_alert(alert(1))
    first.close()
    again = open_store(store_url, clock)
    try:
        assert again.get_alert(alert(1).alert_id) is not None
    finally:
        again.close()
