"""camera_health rules: ``for`` seconds, tick-driven firing, one alert per outage, re-arm."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from alerts.rules import EngineOptions, RuleEngine, WatchlistHit
from alerts.rules_loader import parse_rules
from core.clock import FakeClock
from core.config.models import Camera
from core.messages import Alert, CameraHealth, CameraState, CameraStatus

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2024, 5, 3, 14, 0, tzinfo=CHINA).timestamp()
CAMERAS = {
    "cam-1": Camera(id="cam-1", name="人民路卡口", group="skynet", url="rtsp://x.test/1"),
    "cam-2": Camera(id="cam-2", name="东门", group="demo", url="rtsp://x.test/2"),
}


def no_hits(plate: str, camera_id: str, group: str, at: float) -> Sequence[WatchlistHit]:
    return ()


def engine(keys: str = "", cooldown: float = 0) -> RuleEngine:
    text = ("rules:\n  - {id: down, kind: camera_health, level: 3, states: [offline], "
            f"health: [frozen], for: 60, cooldown: {cooldown}{', ' + keys if keys else ''}}}\n")
    counter = itertools.count(1)
    options = EngineOptions(id_factory=lambda: f"alert-{next(counter)}")
    return RuleEngine(parse_rules(text, "rules.yaml", list(CAMERAS)), CAMERAS, no_hits,
                      FakeClock(T0), options)


def status(state: CameraState, since: float, camera_id: str = "cam-1",
           health: CameraHealth = CameraHealth.OK) -> CameraStatus:
    return CameraStatus(camera_id=camera_id, state=state, since=since, health=health)


STALLED, BACKOFF, STREAMING = CameraState.STALLED, CameraState.BACKOFF, CameraState.STREAMING


def test_alert_after_for_seconds_then_once_per_outage() -> None:
    rules = engine()
    down = status(STALLED, T0)
    assert rules.evaluate(down) == []
    assert rules.tick(T0 + 59) == []
    [alert] = rules.tick(T0 + 61)
    assert (alert.alert_id, alert.rule_id, alert.level, alert.category) == \
        ("alert-1", "down", 3, "camera_health")
    assert (alert.subject, alert.camera_id, alert.raised_at, alert.observation) == \
        ("cam-1", "cam-1", T0 + 60, down)
    assert alert.summary_zh == "摄像机 人民路卡口 离线已持续 1 分钟"
    assert alert.summary_en == "Camera 人民路卡口 offline for 1 min"
    assert rules.tick(T0 + 200) == []
    assert rules.evaluate(status(BACKOFF, T0 + 210)) == [], "still the same outage"
    assert rules.tick(T0 + 400) == []


def test_recovery_rearms_and_a_new_outage_alerts_again() -> None:
    rules = engine()
    rules.evaluate(status(STALLED, T0))
    assert len(rules.tick(T0 + 60)) == 1
    rules.evaluate(status(STREAMING, T0 + 100))
    rules.evaluate(status(STALLED, T0 + 200))
    assert rules.tick(T0 + 259) == []
    [again] = rules.tick(T0 + 260)
    assert again.raised_at == T0 + 260


def test_recovery_before_for_means_no_alert() -> None:
    rules = engine()
    rules.evaluate(status(STALLED, T0))
    rules.evaluate(status(STREAMING, T0 + 30))
    assert rules.tick(T0 + 120) == []


def test_cooldown_limits_a_flapping_camera() -> None:
    rules = engine(cooldown=600)
    fired: list[Alert] = []
    for start in (T0, T0 + 200, T0 + 400, T0 + 700):
        fired += rules.evaluate(status(STALLED, start))
        fired += rules.tick(start + 60)
        fired += rules.evaluate(status(STREAMING, start + 100))
    assert [a.raised_at for a in fired] == [T0 + 60, T0 + 760]


def test_status_already_old_enough_alerts_without_a_tick() -> None:
    rules = engine()
    rules.evaluate(status(CameraState.CONNECTING, T0))
    [alert] = rules.evaluate(status(BACKOFF, T0 + 90))
    assert (alert.raised_at, alert.summary_en) == (T0 + 60, "Camera 人民路卡口 offline for 1 min")


@pytest.mark.parametrize(("state", "health", "bad"), [
    (STREAMING, CameraHealth.FROZEN, True),
    (STREAMING, CameraHealth.BLACK, False),
    (STREAMING, CameraHealth.OK, False),
    (STALLED, CameraHealth.OK, True),
    (BACKOFF, CameraHealth.OK, True),
    (CameraState.CONNECTING, CameraHealth.OK, True),
    (CameraState.STOPPED, CameraHealth.OK, False),
    (CameraState.DISABLED, CameraHealth.FROZEN, False),
])
def test_which_statuses_are_an_outage(state: CameraState, health: CameraHealth,
                                      bad: bool) -> None:
    rules = engine()
    rules.evaluate(status(state, T0, health=health))
    assert bool(rules.tick(T0 + 60)) is bad


def test_picture_health_counts_only_while_streaming() -> None:
    text = ("rules:\n  - {id: pic, kind: camera_health, level: 3, health: [frozen], "
            "for: 0}\n")
    rules = RuleEngine(parse_rules(text, "r", list(CAMERAS)), CAMERAS, no_hits, FakeClock(T0))
    assert rules.evaluate(status(STALLED, T0, health=CameraHealth.FROZEN)) == []
    [alert] = rules.evaluate(status(STREAMING, T0 + 5, health=CameraHealth.FROZEN))
    assert alert.summary_zh == "摄像机 人民路卡口 画面冻结已持续 0 秒"


def test_camera_scope() -> None:
    rules = engine("groups: [demo]")
    rules.evaluate(status(STALLED, T0, camera_id="cam-1"))
    rules.evaluate(status(STALLED, T0, camera_id="cam-2"))
    assert [a.camera_id for a in rules.tick(T0 + 60)] == ["cam-2"]


def test_outage_due_outside_the_schedule_alerts_when_the_window_opens() -> None:
    rules = engine('schedule: {windows: ["08:00-18:00"]}')
    night = datetime(2024, 5, 3, 7, 0, tzinfo=CHINA).timestamp()
    rules.evaluate(status(STALLED, night))
    assert rules.tick(night + 1800) == []
    opens = datetime(2024, 5, 3, 8, 0, tzinfo=CHINA).timestamp()
    [alert] = rules.tick(opens + 1)
    assert alert.raised_at == opens + 1
    assert alert.summary_en == "Camera 人民路卡口 offline for 1 h"


def test_hot_replace_keeps_open_outages_of_rules_that_still_exist() -> None:
    rules = engine()
    rules.evaluate(status(STALLED, T0))
    rules.replace_rules(rules.rules)
    assert len(rules.tick(T0 + 60)) == 1
    rules.evaluate(status(STALLED, T0 + 100, camera_id="cam-2"))
    rules.replace_rules([])
    assert rules.stats()["outages"] == 0
