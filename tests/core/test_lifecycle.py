"""The alert state machine, table-driven, plus a property test over random request streams."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import TransitionError
from core.lifecycle import MOVES, TERMINAL, Action, Case, Feedback, escalation, transition
from core.messages import Alert, AlertState, SceneEvent, SceneKind

S, A = AlertState, Action
FB = Feedback("intercepted", "driver held", ("photo.jpg",))


def case(state: AlertState, holder: str | None = None) -> Case:
    event = SceneEvent("e-1", "cam-1", SceneKind.INTRUSION, "gate", (1,), 10.0)
    return Case(Alert("a-1", "rule-1", 2, "intrusion", event, 10.0, state=state), holder)


LEGAL = [
    # from state, holder, action, by, note -> to state, holder
    (S.NEW, None, A.SIGN, "alice", "", S.SIGNED, "alice"),
    (S.SIGNED, "alice", A.DISPOSE, "alice", "patrol sent", S.DISPOSING, "alice"),
    (S.DISPOSING, "alice", A.FEEDBACK, "alice", FB, S.FEEDBACK, "alice"),
    (S.FEEDBACK, "alice", A.CLOSE, "alice", "", S.CLOSED, "alice"),
    (S.NEW, None, A.DISMISS, "bob", "plate misread", S.DISMISSED, "bob"),
    (S.SIGNED, "alice", A.DISMISS, "alice", "duplicate", S.DISMISSED, "alice"),
    (S.DISPOSING, "alice", A.DISMISS, "alice", "false alarm", S.DISMISSED, "alice"),
]


@pytest.mark.parametrize(("start", "holder", "action", "by", "note", "end", "new_holder"), LEGAL)
def test_legal_moves(start: AlertState, holder: str | None, action: Action, by: str,
                     note: str | Feedback, end: AlertState, new_holder: str) -> None:
    before = case(start, holder)
    step = transition(before, action, by, 42.0, note)
    assert step.case == Case(replace(before.alert, state=end), new_holder)
    assert step.transition is not None and step.changed
    assert (step.transition.kind, step.transition.from_state, step.transition.to_state) == (
        "transition", start, end)
    assert (step.transition.by, step.transition.at, step.transition.alert_id) == (by, 42.0, "a-1")
    assert before.alert.state is start  # inputs are never mutated


REFUSED = [
    # state, holder, action, by, note -> message
    (S.SIGNED, "alice", A.SIGN, "bob", "", "expected new, got signed by alice"),
    (S.DISPOSING, "alice", A.SIGN, "bob", "", "expected new, got disposing by alice"),
    (S.NEW, None, A.DISPOSE, "alice", "", "expected signed, got new"),
    (S.SIGNED, "alice", A.DISPOSE, "bob", "", "expected signed by bob, got signed by alice"),
    (S.SIGNED, "alice", A.FEEDBACK, "alice", FB, "expected disposing, got signed by alice"),
    (S.DISPOSING, "alice", A.CLOSE, "alice", "", "expected feedback, got disposing by alice"),
    (S.DISPOSING, "alice", A.DISMISS, "bob", "x",
     "expected disposing by bob, got disposing by alice"),
    (S.FEEDBACK, "alice", A.DISMISS, "alice", "x",
     "expected disposing or new or signed, got feedback by alice"),
    (S.CLOSED, "alice", A.DISMISS, "bob", "x", "got closed by alice"),
    (S.DISMISSED, "bob", A.SIGN, "alice", "", "expected new, got dismissed by bob"),
    (S.DISMISSED, "bob", A.DISMISS, "carol", "x", "got dismissed by bob"),
    (S.NEW, None, A.DISMISS, "bob", "  ", "expected a dismissal reason, got an empty note"),
    (S.DISPOSING, "alice", A.FEEDBACK, "alice", "just text", "expected feedback with a result"),
    (S.DISPOSING, "alice", A.FEEDBACK, "alice", Feedback(" "), "expected feedback with a result"),
    (S.SIGNED, "alice", A.DISPOSE, "alice", FB, "expected a text note for dispose"),
    (S.NEW, None, A.SIGN, " ", "", "expected an operator, got nobody"),
]


@pytest.mark.parametrize(("state", "holder", "action", "by", "note", "message"), REFUSED)
def test_refused_moves(state: AlertState, holder: str | None, action: Action, by: str,
                       note: str | Feedback, message: str) -> None:
    with pytest.raises(TransitionError, match=message) as info:
        transition(case(state, holder), action, by, 1.0, note)
    assert str(info.value).startswith("alert a-1: expected ")


REPEATS = [
    (S.SIGNED, "alice", A.SIGN, ""),
    (S.DISPOSING, "alice", A.DISPOSE, "again"),
    (S.FEEDBACK, "alice", A.FEEDBACK, Feedback("other result")),
    (S.CLOSED, "alice", A.CLOSE, ""),
    (S.DISMISSED, "bob", A.DISMISS, "another reason"),
]


@pytest.mark.parametrize(("state", "holder", "action", "note"), REPEATS)
def test_repeats_by_the_same_operator_are_no_ops(
    state: AlertState, holder: str, action: Action, note: str | Feedback
) -> None:
    before = case(state, holder)
    step = transition(before, action, holder, 99.0, note)
    assert step.case == before and step.transition is None and not step.changed


def test_feedback_step_carries_the_structured_result() -> None:
    step = transition(case(S.DISPOSING, "alice"), A.FEEDBACK, "alice", 5.0, FB)
    assert step.feedback == FB and step.transition is not None
    assert step.transition.note == "intercepted: driver held"
    assert Feedback("not_found").text() == "not_found"


def test_every_action_has_a_move_and_no_move_leaves_a_terminal_state() -> None:
    assert set(MOVES) == set(Action)
    for sources, target in MOVES.values():
        assert not sources & TERMINAL and target not in sources


def test_escalation_keeps_state_and_holder() -> None:
    alert = case(S.SIGNED, "alice").alert
    record = escalation(alert, 70.0, "feedback overdue (1800 s)")
    assert (record.kind, record.from_state, record.to_state, record.by, record.at) == (
        "escalation", S.SIGNED, S.SIGNED, "sla", 70.0)


REQUESTS = st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(["a", "b"])),
                    max_size=12)


@given(REQUESTS)
def test_random_request_streams_keep_the_invariants(requests: list[tuple[Action, str]]) -> None:
    """Whatever operators click: one holder for life, terminal is final, steps chain."""
    current = case(S.NEW)
    for n, (action, by) in enumerate(requests):
        note: str | Feedback = FB if action is A.FEEDBACK else "reason"
        try:
            step = transition(current, action, by, float(n), note)
        except TransitionError:
            continue
        if step.transition is not None:
            assert current.alert.state not in TERMINAL
            assert step.transition.from_state is current.alert.state
            assert current.holder in (None, step.case.holder)
        current = step.case
