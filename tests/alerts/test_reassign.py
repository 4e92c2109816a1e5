"""Reassignment (改派 / 交班) in the state machine and the store: who may give an alert
away, in which states, and what a race between two of them leaves behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core.clock import FakeClock
from core.errors import TransitionError
from core.lifecycle import Action, Case, HolderChange, reassign, transition
from core.messages import AlertState, TransitionKind
from core.store import Store, open_store
from tests.console.support import make_alert


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'v.db'}", FakeClock(start=1_700_000_100.0))
    yield s
    s.close()


def held(state: AlertState, holder: str | None = "alice") -> Case:
    return Case(replace(make_alert(1), state=state), holder)


def test_the_holder_or_a_privileged_user_may_reassign() -> None:
    case = held(AlertState.DISPOSING)
    tr = reassign(case, HolderChange("bob", "alice", 5.0, reason="下班"))
    assert tr is not None
    assert (tr.kind, tr.from_state, tr.to_state, tr.by, tr.note) == (
        "reassign", AlertState.DISPOSING, AlertState.DISPOSING, "alice", "alice → bob: 下班")
    lead = reassign(case, HolderChange("bob", "lead", 5.0, privileged=True,
                                       kind=TransitionKind.HANDOVER))
    assert lead is not None and (lead.kind, lead.note) == ("handover", "alice → bob")
    with pytest.raises(TransitionError, match="signed by alice"):
        reassign(held(AlertState.SIGNED), HolderChange("carol", "carol", 5.0))
    assert reassign(case, HolderChange("alice", "lead", 5.0, privileged=True)) is None


@pytest.mark.parametrize("state", [AlertState.NEW, AlertState.CLOSED, AlertState.DISMISSED])
def test_only_held_unfinished_alerts_change_hands(state: AlertState) -> None:
    holder = None if state is AlertState.NEW else "alice"
    with pytest.raises(TransitionError, match="disposing or feedback or signed"):
        reassign(held(state, holder), HolderChange("bob", "lead", 5.0, privileged=True))


def test_bad_requests_are_refused() -> None:
    case = held(AlertState.SIGNED)
    with pytest.raises(TransitionError, match="held by bob"):
        reassign(case, HolderChange("carol", "lead", 5.0, privileged=True,
                                    expected_holder="bob"))
    with pytest.raises(TransitionError, match="new holder"):
        reassign(case, HolderChange(" ", "alice", 5.0))
    with pytest.raises(ValueError, match="holder change"):
        reassign(case, HolderChange("bob", "alice", 5.0, kind=TransitionKind.TRANSITION))


def test_reassign_keeps_state_and_sla_stamps(store: Store) -> None:
    record = store.insert_alert(make_alert(1))
    step = transition(record.case, Action.SIGN, "alice", 1_700_000_010.0)
    signed = store.append_transition(step, record.case)
    result = store.change_holder(record.alert.alert_id,
                                 HolderChange("bob", "alice", 1_700_000_020.0, reason="r"))
    assert result.previous == "alice" and result.transition is not None
    now = result.record
    assert (now.claimed_by, now.alert.state, now.signed_at) == ("bob", AlertState.SIGNED,
                                                               signed.signed_at)
    entry = store.timeline(record.alert.alert_id)[-1]
    assert (entry.kind, entry.detail) == ("reassign", {"from": "alice", "to": "bob",
                                                       "reason": "r"})
    assert [r.alert.alert_id for r in store.held_by("bob")] == [record.alert.alert_id]
    assert store.held_by("alice") == []


def test_a_handover_never_takes_an_alert_reassigned_meanwhile(store: Store) -> None:
    """Two supervisors at once: one hands alice's alerts to bob, one gives them to carol.
    Each alert ends with exactly one of them, with one timeline entry for that move, and
    the handover (which asks for alerts alice still holds) never moves one twice."""
    ids = []
    for n in range(20):
        rec = store.insert_alert(make_alert(n, at=1_700_000_000.0 + n))
        store.append_transition(transition(rec.case, Action.SIGN, "alice", 1.0), rec.case)
        ids.append(rec.alert.alert_id)
    outcomes: dict[str, list[str]] = {"bob": [], "carol": []}

    def move(to: str) -> None:
        for alert_id in ids:
            change = HolderChange(to, f"lead-{to}", 2.0, privileged=True,
                                  kind=TransitionKind.HANDOVER, expected_holder="alice")
            try:
                store.change_holder(alert_id, change)
                outcomes[to].append(alert_id)
            except TransitionError:
                pass

    threads = [threading.Thread(target=move, args=(to,)) for to in ("bob", "carol")]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes["bob"] + outcomes["carol"]) == sorted(ids)
    for alert_id in ids:
        record = store.get_alert(alert_id)
        assert record is not None
        winner = "bob" if alert_id in outcomes["bob"] else "carol"
        assert record.claimed_by == winner
        moves = [e for e in store.timeline(alert_id) if e.kind == "handover"]
        assert [e.note for e in moves] == [f"alice → {winner}"]
