"""The alert workflow as one pure state machine (docs/architecture.md rule 8,
docs/integration.md §5).

::

    new ──sign──▶ signed ──dispose──▶ disposing ──feedback──▶ feedback ──close──▶ closed
     │              │                     │
     └──────────────┴───────dismiss───────┴──▶ dismissed  (false alarm; a reason is required)

Why it is shaped like this:

* **One holder.** ``sign`` (签收) makes the signing operator the alert's *holder*; from then on
  only the holder moves it on (dispose, feedback, close, dismiss). A second operator who tries
  to sign is refused with the holder's name ("expected new, got signed by alice"), which is
  what the console shows. Handing an alert to someone else is :func:`reassign`: not a
  state change but a change of holder, allowed to the holder and to supervisors.
* **Idempotent.** Repeating the move that produced the current state, by the same operator,
  is a successful no-op (a double click, a retried HTTP request): :class:`Step` then carries
  no transition and nothing is stored or published. The first feedback or dismissal reason
  stands.
* **Conflicts are loud.** Every other move raises :class:`~core.errors.TransitionError`
  "expected X, got Y". The store applies a step with a conditional UPDATE on the state and
  holder it was computed from, so two operators racing cannot both win.
* **Escalation is not a state.** An SLA escalation is an :class:`AlertTransition` with
  ``kind="escalation"`` whose ``to_state`` equals ``from_state``: the alert keeps its state
  and its holder, and the timeline records who was told and when (:func:`escalation`).

The module is pure: no I/O, no clock; time comes in as ``at``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from core.errors import TransitionError
from core.messages import Alert, AlertState, AlertTransition, TransitionKind

TERMINAL: frozenset[AlertState] = frozenset({AlertState.CLOSED, AlertState.DISMISSED})
"""States no move leaves."""


class Action(enum.StrEnum):
    """What an operator asks for; each maps to exactly one target state."""

    SIGN = "sign"
    DISPOSE = "dispose"
    FEEDBACK = "feedback"
    CLOSE = "close"
    DISMISS = "dismiss"


_S = AlertState
MOVES: dict[Action, tuple[frozenset[AlertState], AlertState]] = {
    Action.SIGN: (frozenset({_S.NEW}), _S.SIGNED),
    Action.DISPOSE: (frozenset({_S.SIGNED}), _S.DISPOSING),
    Action.FEEDBACK: (frozenset({_S.DISPOSING}), _S.FEEDBACK),
    Action.CLOSE: (frozenset({_S.FEEDBACK}), _S.CLOSED),
    Action.DISMISS: (frozenset({_S.NEW, _S.SIGNED, _S.DISPOSING}), _S.DISMISSED),
}
"""Action → (states it may start from, state it ends in). The table the tests walk."""


@dataclass(frozen=True, slots=True)
class Feedback:
    """The structured result of 反馈: a result code, free text and evidence references."""

    result: str
    note: str = ""
    attachments: tuple[str, ...] = ()

    def text(self) -> str:
        """The one-line note put on the published transition (the store keeps the rest)."""
        return f"{self.result}: {self.note}" if self.note else self.result


@dataclass(frozen=True, slots=True)
class Case:
    """An alert together with its holder: the whole input the machine needs."""

    alert: Alert
    holder: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of :func:`transition`.

    ``transition`` is ``None`` for an idempotent repeat: there is nothing to persist or publish.
    """

    case: Case
    transition: AlertTransition | None
    action: Action
    feedback: Feedback | None = None

    @property
    def changed(self) -> bool:
        return self.transition is not None


def _entity(alert: Alert) -> str:
    return f"alert {alert.alert_id}"


def _describe(state: AlertState, holder: str | None) -> str:
    return f"{state} by {holder}" if holder else str(state)


def _note_text(action: Action, note: str | Feedback, alert: Alert) -> tuple[str, Feedback | None]:
    """Check the note fits the action: feedback needs a result, dismissal needs a reason."""
    if action is Action.FEEDBACK:
        if not isinstance(note, Feedback) or not note.result.strip():
            raise TransitionError(_entity(alert), "feedback with a result", repr(note))
        return note.text(), note
    if isinstance(note, Feedback):
        raise TransitionError(_entity(alert), f"a text note for {action}", "structured feedback")
    if action is Action.DISMISS and not note.strip():
        raise TransitionError(_entity(alert), "a dismissal reason", "an empty note")
    return note, None


def transition(case: Case, action: Action, by: str, at: float, note: str | Feedback = "") -> Step:
    """Apply ``action`` by operator ``by`` at event time ``at``; return the new case and the
    transition to persist and publish (``None`` when the move is a repeat)."""
    alert, holder = case.alert, case.holder
    if not by.strip():
        raise TransitionError(_entity(alert), "an operator", "nobody")
    text, feedback = _note_text(action, note, alert)
    sources, target = MOVES[action]
    if alert.state is target and holder == by:
        return Step(case, None, action, feedback)
    if alert.state not in sources:
        expected = " or ".join(sorted(str(s) for s in sources))
        raise TransitionError(_entity(alert), expected, _describe(alert.state, holder))
    if holder is not None and holder != by:
        raise TransitionError(
            _entity(alert), _describe(alert.state, by), _describe(alert.state, holder)
        )
    new_alert = replace(alert, state=target)
    record = AlertTransition(alert.alert_id, TransitionKind.TRANSITION, alert.state, target, by,
                             at, text)
    return Step(Case(new_alert, holder or by), record, action, feedback)


def escalation(alert: Alert, at: float, note: str, by: str = "sla") -> AlertTransition:
    """An escalation record: the alert keeps its state (see the module docstring)."""
    return AlertTransition(alert.alert_id, TransitionKind.ESCALATION, alert.state, alert.state,
                           by, at, note)


REASSIGNABLE: frozenset[AlertState] = frozenset({_S.SIGNED, _S.DISPOSING, _S.FEEDBACK})
"""States whose holder may change: an alert someone holds that is not finished yet. A new
alert has no holder to replace (anyone may sign it) and a finished one needs none."""
REASSIGN_KINDS = (TransitionKind.REASSIGN, TransitionKind.HANDOVER)
"""Timeline kinds of a holder change: one alert given to someone (``reassign``) or one of a
shift's alerts passed to the next shift (``handover``)."""


@dataclass(frozen=True, slots=True)
class HolderChange:
    """A request to give an alert to another operator (:func:`reassign`, ``Store.change_holder``).

    ``privileged``: ``by`` is a supervisor or an admin and may take an alert from anyone;
    otherwise only the holder may give it away. ``kind`` is the timeline kind: ``reassign``
    (one alert) or ``handover`` (part of handing a whole shift over).
    """

    to: str
    by: str
    at: float
    privileged: bool = False
    kind: TransitionKind = TransitionKind.REASSIGN
    reason: str = ""
    expected_holder: str | None = None
    """Move it only while this operator still holds it (a handover passes on the alerts
    the outgoing operator holds, not ones reassigned meanwhile)."""


def reassign(case: Case, change: HolderChange) -> AlertTransition | None:
    """Make ``change.to`` the holder of ``case``'s alert, asked by ``change.by``; the state
    stays.

    Only the holder may give the alert away, unless ``change.privileged`` (a supervisor or
    an admin taking over a stuck alert) — the same one-holder rule as every move, so a
    monitor cannot take a colleague's alert. Giving it to its holder is an idempotent no-op.
    Returns the timeline entry to store (``None`` for the no-op); its note reads
    ``from → to`` (plus the reason), so the timeline says who had it without a lookup.
    """
    alert, holder, to, by = case.alert, case.holder, change.to, change.by
    if change.kind not in REASSIGN_KINDS:
        raise ValueError(f"not a holder change: {change.kind!r}")
    if not by.strip() or not to.strip():
        raise TransitionError(_entity(alert), "an operator and a new holder", "nobody")
    if change.expected_holder not in (None, holder):
        raise TransitionError(_entity(alert), f"held by {change.expected_holder}",
                              _describe(alert.state, holder))
    if alert.state not in REASSIGNABLE:
        expected = " or ".join(sorted(str(s) for s in REASSIGNABLE))
        raise TransitionError(_entity(alert), expected, _describe(alert.state, holder))
    if holder != by and not change.privileged:
        raise TransitionError(
            _entity(alert), _describe(alert.state, by), _describe(alert.state, holder)
        )
    if holder == to:
        return None
    reason = change.reason.strip()
    text = f"{holder} → {to}" + (f": {reason}" if reason else "")
    return AlertTransition(alert.alert_id, change.kind, alert.state, alert.state, by,
                           change.at, text)
