"""SLA timers for the alert workflow: sign-for (签收) and feedback (反馈) deadlines.

Defaults follow published PSB practice (docs/integration.md §4–§5): sign within 30 s of the alert
(escalate at 60 s and 180 s), give feedback within 30 min of signing (escalate at 1 h, 2 h
and 4 h). Each timer has *stages*: the deadline itself ("overdue") and then each escalation.
Every stage is emitted exactly once per alert as an :class:`~core.messages.AlertTransition`
with ``kind="escalation"``, ``by="sla"`` and the alert's unchanged state (escalation is not a
state change: see :mod:`core.lifecycle`). Notes read ``sign overdue (30 s)`` or
``feedback escalation 2/3 (7200 s)``.

The tracker is pure and clock-driven: it never reads the time, :meth:`SlaTracker.tick` is
given ``now``; so tests advance a :class:`~core.clock.FakeClock` instead of sleeping. An
escalation is stamped with the moment its deadline passed, not with the tick that noticed.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.lifecycle import TERMINAL, escalation
from core.messages import Alert, AlertState, AlertTransition
from core.store import AlertRecord, TimelineEntry

log = logging.getLogger(__name__)

TimerKind = Literal["sign", "feedback"]


class SlaTimer(BaseModel):
    """One deadline and the escalations after it, in seconds from the timer's start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    due: float = Field(gt=0)
    escalate_at: tuple[float, ...] = ()
    enabled: bool = True

    @model_validator(mode="after")
    def _increasing(self) -> SlaTimer:
        stages = self.stages()
        if any(b <= a for a, b in itertools.pairwise(stages)):
            raise ValueError(f"due and escalate_at must increase strictly, got {list(stages)}")
        return self

    def stages(self) -> tuple[float, ...]:
        return (self.due, *self.escalate_at)


class SlaLevel(BaseModel):
    """Overrides for one alert level (1–4); an omitted timer uses the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sign: SlaTimer | None = None
    feedback: SlaTimer | None = None


class SlaSettings(BaseModel):
    """SLA configuration: default timers plus per-level overrides.

    Example (YAML)::

        sla:
          sign: {due: 30, escalate_at: [60, 180]}
          feedback: {due: 1800, escalate_at: [3600, 7200, 14400]}
          levels:
            1: {sign: {due: 15, escalate_at: [30, 90]}}
            4: {sign: {due: 30, enabled: false}, feedback: {due: 1800, enabled: false}}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sign: SlaTimer = SlaTimer(due=30.0, escalate_at=(60.0, 180.0))
    feedback: SlaTimer = SlaTimer(due=1800.0, escalate_at=(3600.0, 7200.0, 14400.0))
    levels: dict[int, SlaLevel] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_levels(self) -> SlaSettings:
        unknown = sorted(k for k in self.levels if not 1 <= k <= 4)
        if unknown:
            raise ValueError(f"levels: alert levels are 1-4, got {unknown}")
        return self

    def timer(self, kind: TimerKind, level: int) -> SlaTimer:
        """The timer of ``kind`` that applies to alerts of ``level``."""
        override = self.levels.get(level)
        chosen = getattr(override, kind, None) if override is not None else None
        default: SlaTimer = self.sign if kind == "sign" else self.feedback
        return chosen if isinstance(chosen, SlaTimer) else default


@dataclass(slots=True)
class _Watch:
    alert: Alert
    kind: TimerKind
    started: float
    stages: tuple[float, ...]
    done: int = 0


def _note(kind: TimerKind, index: int, stages: tuple[float, ...]) -> str:
    if index == 0:
        return f"{kind} overdue ({stages[0]:g} s)"
    return f"{kind} escalation {index}/{len(stages) - 1} ({stages[index]:g} s)"


class SlaTracker:
    """Watches open alerts and says when an SLA stage passes (see the module docstring).

    Feed it every new alert (:meth:`watch`; :meth:`restore` on start-up) and every state
    change (:meth:`observe`); call :meth:`tick` periodically and, for each escalation
    returned, ``store.append_event(t)`` then publish it on ``core.topics.ALERT_TRANSITIONS``
    (``append_event`` drops a stale one). Not thread-safe: own it from one task.
    """

    def __init__(self, settings: SlaSettings | None = None) -> None:
        self.settings = settings or SlaSettings()
        self._watches: dict[str, _Watch] = {}

    def watch(self, alert: Alert, signed_at: float | None = None, done: int = 0) -> bool:
        """Start the timer the alert's state calls for; returns False if none applies.

        ``new`` → the sign timer from ``raised_at``; ``signed``/``disposing`` → the feedback
        timer from ``signed_at`` (required). After a restart pass ``done``, the number of
        stages of that timer already in the alert's timeline, so none is emitted twice.
        """
        if alert.state is AlertState.NEW:
            return self._start(alert, "sign", alert.raised_at, done)
        if alert.state in (AlertState.SIGNED, AlertState.DISPOSING):
            if signed_at is None:
                raise ValueError(f"alert {alert.alert_id}: signed_at is required for "
                                 f"an alert in state {alert.state}")
            return self._start(alert, "feedback", signed_at, done)
        self._watches.pop(alert.alert_id, None)
        return False

    def restore(self, record: AlertRecord, timeline: Sequence[TimelineEntry]) -> bool:
        """:meth:`watch` a stored alert after a restart, counting the stages of its current
        timer already in ``timeline`` (``store.timeline(alert_id)``) so none repeats."""
        kind: TimerKind = "sign" if record.alert.state is AlertState.NEW else "feedback"
        done = sum(1 for e in timeline
                   if e.kind == "escalation" and e.by == "sla" and e.note.startswith(f"{kind} "))
        return self.watch(record.alert, record.signed_at, done)

    def _start(self, alert: Alert, kind: TimerKind, started: float, done: int) -> bool:
        timer = self.settings.timer(kind, alert.level)
        if not timer.enabled:
            self._watches.pop(alert.alert_id, None)
            return False
        self._watches[alert.alert_id] = _Watch(alert, kind, started, timer.stages(), done)
        return True

    def observe(self, transition: AlertTransition) -> None:
        """Follow a state change: signing swaps the sign timer for the feedback timer;
        feedback, close and dismissal stop timing. Escalations and unknown alerts are ignored.
        """
        current = self._watches.get(transition.alert_id)
        if current is None or transition.kind != "transition":
            return
        state = transition.to_state
        alert = replace(current.alert, state=state)
        if state is AlertState.SIGNED and current.kind == "sign":
            self._start(alert, "feedback", transition.at, 0)
        elif state in (AlertState.SIGNED, AlertState.DISPOSING) and current.kind == "feedback":
            current.alert = alert  # a repeat, or disposing: the feedback deadline still runs
        elif state is AlertState.FEEDBACK or state in TERMINAL:
            del self._watches[transition.alert_id]
        else:
            log.warning("alert %s: SLA timing stopped on unexpected move %s -> %s",
                        transition.alert_id, transition.from_state, state)
            del self._watches[transition.alert_id]

    def forget(self, alert_id: str) -> None:
        self._watches.pop(alert_id, None)

    def watching(self, alert_id: str) -> TimerKind | None:
        """Which timer runs for the alert, if any."""
        current = self._watches.get(alert_id)
        return None if current is None else current.kind

    def __len__(self) -> int:
        return len(self._watches)

    def tick(self, now: float) -> list[AlertTransition]:
        """Escalations whose deadline is at or before ``now`` and not emitted yet, in time
        order. Each (alert, timer, stage) is returned by exactly one tick."""
        out: list[AlertTransition] = []
        for w in self._watches.values():
            while w.done < len(w.stages) and w.started + w.stages[w.done] <= now:
                at = w.started + w.stages[w.done]
                out.append(escalation(w.alert, at, _note(w.kind, w.done, w.stages)))
                w.done += 1
        out.sort(key=lambda t: (t.at, t.alert_id))
        return out
