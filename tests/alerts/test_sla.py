"""SLA timers driven by a fake clock: every stage once, in order, stopping when the alert moves."""

from __future__ import annotations

from dataclasses import replace

import pydantic
import pytest

from alerts.sla import SlaLevel, SlaSettings, SlaTimer, SlaTracker
from core.clock import FakeClock
from core.messages import Alert, AlertState, AlertTransition, SceneEvent, SceneKind, TransitionKind
from core.store import AlertRecord, TimelineEntry

S = AlertState


def make_alert(n: int, at: float, level: int = 2) -> Alert:
    event = SceneEvent(f"e-{n}", "cam-1", SceneKind.INTRUSION, "gate", (n,), at)
    return Alert(f"a-{n}", "rule-1", level, "intrusion", event, at)


def move(alert: Alert, start: AlertState, end: AlertState, at: float) -> AlertTransition:
    return AlertTransition(alert.alert_id, TransitionKind.TRANSITION, start, end, "alice", at)


def notes(out: list[AlertTransition]) -> list[tuple[str, float, str]]:
    return [(t.alert_id, t.at, t.note) for t in out]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_000_000.0)


def test_sign_timer_emits_each_stage_exactly_once(clock: FakeClock) -> None:
    t0 = clock.now()
    alert = make_alert(1, t0)
    tracker = SlaTracker()
    assert tracker.watch(alert) and tracker.watching("a-1") == "sign"
    seen: list[AlertTransition] = []
    for _ in range(400):  # tick every second for 400 s
        clock.advance(1.0)
        seen.extend(tracker.tick(clock.now()))
    assert notes(seen) == [("a-1", t0 + 30, "sign overdue (30 s)"),
                           ("a-1", t0 + 60, "sign escalation 1/2 (60 s)"),
                           ("a-1", t0 + 180, "sign escalation 2/2 (180 s)")]
    assert all((t.kind, t.by, t.from_state, t.to_state) == ("escalation", "sla", S.NEW, S.NEW)
               for t in seen)


def test_nothing_before_the_deadline_and_exactly_at_it(clock: FakeClock) -> None:
    tracker = SlaTracker()
    tracker.watch(make_alert(1, clock.now()))
    clock.advance(29.999)
    assert tracker.tick(clock.now()) == []
    clock.advance(0.001)
    assert len(tracker.tick(clock.now())) == 1
    assert tracker.tick(clock.now()) == []


def test_a_late_tick_catches_up_with_deadline_times(clock: FakeClock) -> None:
    t0 = clock.now()
    tracker = SlaTracker()
    tracker.watch(make_alert(1, t0))
    clock.advance(1000)
    assert [t.at - t0 for t in tracker.tick(clock.now())] == [30, 60, 180]


def test_signing_stops_the_sign_timer_and_starts_feedback(clock: FakeClock) -> None:
    t0 = clock.now()
    alert = make_alert(1, t0)
    tracker = SlaTracker()
    tracker.watch(alert)
    clock.advance(45)
    assert [t.at - t0 for t in tracker.tick(clock.now())] == [30]
    tracker.observe(move(alert, S.NEW, S.SIGNED, clock.now()))
    tracker.observe(move(alert, S.NEW, S.SIGNED, clock.now() + 5))  # duplicate: no restart
    assert tracker.watching("a-1") == "feedback"
    signed = clock.now()
    clock.advance(1799)
    assert tracker.tick(clock.now()) == []  # the sign escalations at 60/180 s never come
    clock.advance(1)
    [overdue] = tracker.tick(clock.now())
    assert (overdue.at, overdue.note, overdue.from_state) == (
        signed + 1800, "feedback overdue (1800 s)", S.SIGNED)
    tracker.observe(move(alert, S.SIGNED, S.DISPOSING, clock.now()))
    clock.advance(3600 * 5)
    late = tracker.tick(clock.now())
    assert notes(late) == [("a-1", signed + 3600, "feedback escalation 1/3 (3600 s)"),
                           ("a-1", signed + 7200, "feedback escalation 2/3 (7200 s)"),
                           ("a-1", signed + 14400, "feedback escalation 3/3 (14400 s)")]
    assert {t.from_state for t in late} == {S.DISPOSING}
    assert tracker.tick(clock.now() + 1e6) == []


@pytest.mark.parametrize(("path", "stops_at"), [
    ([(S.NEW, S.DISMISSED)], 10),
    ([(S.NEW, S.SIGNED), (S.SIGNED, S.DISMISSED)], 10),
    ([(S.NEW, S.SIGNED), (S.SIGNED, S.DISPOSING), (S.DISPOSING, S.FEEDBACK)], 10),
    ([(S.NEW, S.SIGNED), (S.SIGNED, S.DISPOSING), (S.DISPOSING, S.FEEDBACK),
      (S.FEEDBACK, S.CLOSED)], 10),
])
def test_timing_stops_when_the_alert_moves_on(
    clock: FakeClock, path: list[tuple[AlertState, AlertState]], stops_at: float
) -> None:
    alert = make_alert(1, clock.now())
    tracker = SlaTracker()
    tracker.watch(alert)
    clock.advance(stops_at)
    for start, end in path:
        tracker.observe(move(alert, start, end, clock.now()))
    assert tracker.watching("a-1") is None and len(tracker) == 0
    clock.advance(10 * 3600)
    assert tracker.tick(clock.now()) == []


def test_escalations_and_unknown_alerts_do_not_disturb(clock: FakeClock) -> None:
    alert = make_alert(1, clock.now())
    tracker = SlaTracker()
    tracker.watch(alert)
    tracker.observe(AlertTransition("a-1", TransitionKind.ESCALATION, S.NEW, S.NEW, "sla",
                                    clock.now()))
    tracker.observe(move(make_alert(2, 0.0), S.NEW, S.SIGNED, clock.now()))
    assert tracker.watching("a-1") == "sign" and tracker.watching("a-2") is None
    tracker.forget("a-1")
    assert len(tracker) == 0


def test_several_alerts_come_out_in_time_order(clock: FakeClock) -> None:
    t0 = clock.now()
    tracker = SlaTracker()
    tracker.watch(make_alert(2, t0 + 10))
    tracker.watch(make_alert(1, t0))
    clock.advance(100)
    assert [(t.alert_id, t.at - t0) for t in tracker.tick(clock.now())] == [
        ("a-1", 30), ("a-2", 40), ("a-1", 60), ("a-2", 70)]


def test_per_level_overrides_and_disabled_timers(clock: FakeClock) -> None:
    settings = SlaSettings.model_validate({
        "levels": {1: {"sign": {"due": 15, "escalate_at": [30]}},
                   4: {"sign": {"due": 30, "enabled": False}}},
    })
    tracker = SlaTracker(settings)
    t0 = clock.now()
    assert tracker.watch(make_alert(1, t0, level=1))
    assert tracker.watch(make_alert(2, t0, level=2))
    assert not tracker.watch(make_alert(3, t0, level=4))
    clock.advance(60)
    assert [(t.alert_id, t.at - t0, t.note) for t in tracker.tick(clock.now())] == [
        ("a-1", 15, "sign overdue (15 s)"), ("a-1", 30, "sign escalation 1/1 (30 s)"),
        ("a-2", 30, "sign overdue (30 s)"), ("a-2", 60, "sign escalation 1/2 (60 s)")]
    assert settings.timer("feedback", 1) == SlaSettings().feedback  # not overridden


def test_restore_after_restart_skips_emitted_stages(clock: FakeClock) -> None:
    t0 = clock.now()
    alert = replace(make_alert(1, t0 - 9000), state=S.DISPOSING)
    tracker = SlaTracker()
    assert tracker.watch(alert, signed_at=t0 - 8000, done=2)  # overdue + 1st already stored
    [only] = tracker.tick(t0)
    assert only.note == "feedback escalation 2/3 (7200 s)" and only.from_state is S.DISPOSING
    with pytest.raises(ValueError, match="signed_at is required"):
        tracker.watch(replace(alert, alert_id="a-9", state=S.SIGNED))
    assert not tracker.watch(replace(alert, state=S.CLOSED))
    assert tracker.watching("a-1") is None


@pytest.mark.parametrize(("data", "message"), [
    ({"sign": {"due": 30, "escalate_at": [60, 60]}}, "increase strictly"),
    ({"sign": {"due": 90, "escalate_at": [60]}}, "increase strictly"),
    ({"sign": {"due": 0}}, "greater than 0"),
    ({"levels": {5: {}}}, "alert levels are 1-4"),
    ({"sing": {"due": 30}}, "Extra inputs are not permitted"),
    ({"levels": {1: {"sign": {"due": 5, "escalte_at": [9]}}}}, "Extra inputs are not permitted"),
])
def test_bad_settings_are_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        SlaSettings.model_validate(data)


def test_defaults_match_published_practice() -> None:
    settings = SlaSettings()
    assert settings.sign.stages() == (30, 60, 180)
    assert settings.feedback.stages() == (1800, 3600, 7200, 14400)
    assert SlaLevel().sign is None and SlaTimer(due=1).escalate_at == ()


def test_restore_from_the_store_timeline(clock: FakeClock) -> None:
    t0 = clock.now()
    alert = make_alert(1, t0)
    esc = [TimelineEntry("a-1", 2, "escalation", S.NEW, S.NEW, "sla", t0 + 30,
                         "sign overdue (30 s)"),
           TimelineEntry("a-1", 3, "dispatch", S.NEW, S.NEW, "110", t0 + 40, "sign accepted")]
    tracker = SlaTracker()
    assert tracker.restore(AlertRecord(1, alert), esc)
    assert [t.note for t in tracker.tick(t0 + 100)] == ["sign escalation 1/2 (60 s)"]
    signed = AlertRecord(1, replace(alert, state=S.SIGNED), "alice", signed_at=t0 + 50)
    assert tracker.restore(signed, esc)  # sign stages do not count for the feedback timer
    assert [t.note for t in tracker.tick(t0 + 50 + 1800)] == ["feedback overdue (1800 s)"]
