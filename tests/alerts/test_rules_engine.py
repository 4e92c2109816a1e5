"""RuleEngine: watchlist and scene rules, filters, schedules, cool-downs, hot reload.

Camera health has its own file (test_rules_health.py), cloned plates test_cloned_plate.py.
Everything runs on a FakeClock and event times; nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from alerts.rules import EngineOptions, RuleEngine, WatchlistHit, alert_id_for
from alerts.rules_loader import parse_rules
from core.clock import FakeClock
from core.config.models import Camera, Location
from core.messages import SceneEvent, SceneKind, Sighting

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2024, 5, 3, 14, 0, tzinfo=CHINA).timestamp()
"""Friday 2024-05-03 14:00 in Beijing."""


def camera(cid: str, name: str, group: str, address: str = "") -> Camera:
    location = Location(lon=116.40, lat=39.90, crs="GCJ02", address=address) if address else None
    return Camera(id=cid, name=name, group=group, url=f"rtsp://example.test/{cid}",
                  location=location)


CAMERAS = {c.id: c for c in (
    camera("cam-1", "人民路卡口", "skynet", "人民路与建设路口"),
    camera("cam-2", "东门", "demo"),
    camera("cam-3", "西门", "other"),
)}


class Lookup:
    """A watchlist that is a dict; records every call."""

    def __init__(self, hits: dict[str, list[WatchlistHit]]) -> None:
        self.hits = hits
        self.calls: list[tuple[str, str, str, float]] = []

    def __call__(self, plate: str, camera_id: str, group: str,
                 at: float) -> Sequence[WatchlistHit]:
        self.calls.append((plate, camera_id, group, at))
        return self.hits.get(plate, [])


STOLEN = WatchlistHit("entry-1", "京A12345", "stolen", 1, "盗抢", 0, True)
WANTED = WatchlistHit("entry-2", "京B67890", "wanted", 3, "涉案", 0, True)
HITS = {"京A12345": [STOLEN], "京B67890": [WANTED]}


def engine(rules: str, hits: dict[str, list[WatchlistHit]] | None = None,
           clock: FakeClock | None = None) -> tuple[RuleEngine, Lookup]:
    lookup = Lookup(HITS if hits is None else hits)
    counter = itertools.count(1)
    options = EngineOptions(id_factory=lambda: f"alert-{next(counter)}")
    parsed = parse_rules(rules, "rules.yaml", list(CAMERAS))
    return RuleEngine(parsed, CAMERAS, lookup, clock or FakeClock(T0), options), lookup


def sighting(plate: str = "京A12345", camera_id: str = "cam-1", at: float = T0,
             sid: str | None = None, final: bool = True) -> Sighting:
    return Sighting(sighting_id=sid or f"s-{plate}-{camera_id}-{at}", camera_id=camera_id,
                    plate=plate, plate_raw=plate, plate_type="small", color="blue",
                    confidence=0.95, first_seen=at - 2, last_seen=at, final=final)


def event(kind: str = "intrusion", zone: str | None = "z1", camera_id: str = "cam-1",
          at: float = T0, detail: str = "label=person") -> SceneEvent:
    return SceneEvent(event_id=f"e-{kind}-{zone}-{camera_id}-{at}", camera_id=camera_id,
                      kind=SceneKind(kind), zone=zone, track_ids=(7,), at=at, detail=detail)


WATCH = "rules:\n  - {id: w, kind: watchlist, level: 2, cooldown: 300 %s}\n"


def watch_rule(extra: str = "") -> str:
    return WATCH % (", " + extra if extra else "")


def test_watchlist_hit_makes_a_complete_alert() -> None:
    rules, _ = engine(watch_rule())
    seen = sighting()
    [alert] = rules.evaluate(seen)
    assert (alert.alert_id, alert.rule_id, alert.level, alert.category) == \
        ("alert-1", "w", 1, "stolen")
    assert (alert.subject, alert.camera_id, alert.camera_name, alert.address) == \
        ("京A12345", "cam-1", "人民路卡口", "人民路与建设路口")
    assert (alert.lon, alert.lat, alert.crs) == (116.40, 39.90, "GCJ02")
    assert (alert.observation, alert.raised_at, alert.watchlist_entry_id) == \
        (seen, T0, "entry-1")
    assert alert.summary_zh == "布控车辆 京A12345（盗抢车辆）出现在 人民路与建设路口"
    assert alert.summary_en == "Watchlisted vehicle 京A12345 (stolen) seen at 人民路与建设路口"
    assert alert.review_only is False


def test_camera_without_address_is_named_and_has_no_position() -> None:
    rules, _ = engine(watch_rule())
    [alert] = rules.evaluate(sighting(camera_id="cam-2"))
    assert alert.summary_zh == "布控车辆 京A12345（盗抢车辆）出现在 东门"
    assert (alert.lon, alert.lat, alert.address) == (None, None, "")


FILTERS = [
    # rule keys, hit, camera, alerts?
    ("", STOLEN, "cam-1", True),
    ("categories: [wanted]", STOLEN, "cam-1", False),
    ("categories: [wanted, stolen]", STOLEN, "cam-1", True),
    ("min_level: 2", WatchlistHit("e", "京A12345", "stolen", 3), "cam-1", False),
    ("min_level: 2", WatchlistHit("e", "京A12345", "stolen", 2), "cam-1", True),
    ("max_distance: 0", WatchlistHit("e", "京A12845", "stolen", 1, "", 1, False), "cam-1", False),
    ("max_distance: 1", WatchlistHit("e", "京A12845", "stolen", 1, "", 1, False), "cam-1", True),
    ("max_distance: 1", WatchlistHit("e", "京A18845", "stolen", 1, "", 2, False), "cam-1", False),
    ("cameras: [cam-2]", STOLEN, "cam-1", False),
    ("cameras: [cam-1]", STOLEN, "cam-1", True),
    ("groups: [demo]", STOLEN, "cam-2", True),
    ("groups: [demo]", STOLEN, "cam-1", False),
    ("cameras: [cam-1], groups: [demo]", STOLEN, "cam-1", True),
    ("cameras: [cam-1], groups: [demo]", STOLEN, "cam-3", False),
    ("", STOLEN, "cam-unknown", True),
    ("groups: [skynet]", STOLEN, "cam-unknown", False),
    ("enabled: false", STOLEN, "cam-1", False),
]


@pytest.mark.parametrize(("keys", "hit", "camera_id", "alerts"), FILTERS)
def test_watchlist_filters(keys: str, hit: WatchlistHit, camera_id: str, alerts: bool) -> None:
    rules, _ = engine(watch_rule(keys), {"京A12345": [hit]})
    assert bool(rules.evaluate(sighting(camera_id=camera_id))) is alerts


def test_level_from_entry_or_from_rule() -> None:
    by_entry, _ = engine(watch_rule())
    by_rule, _ = engine(watch_rule("level_from_entry: false"))
    assert by_entry.evaluate(sighting("京B67890"))[0].level == 3
    assert by_rule.evaluate(sighting("京B67890"))[0].level == 2


def test_near_match_is_said_and_the_most_urgent_entry_wins() -> None:
    near = WatchlistHit("e-near", "京A12845", "wanted", 2, "", 1, False)
    also = WatchlistHit("e-other", "京A12845", "suspect", 4, "", 1, False)
    rules, _ = engine(watch_rule(), {"京A12345": [also, near]})
    [alert] = rules.evaluate(sighting())
    assert (alert.watchlist_entry_id, alert.subject) == ("e-near", "京A12845")
    assert alert.summary_zh == "布控车辆 京A12345（涉案车辆）出现在 人民路与建设路口" \
                               "（近似匹配布控号牌 京A12845）"
    assert alert.summary_en.endswith("seen at 人民路与建设路口 (near match for 京A12845)")


def test_lookup_is_asked_once_per_sighting_and_only_when_a_rule_applies() -> None:
    two = "rules:\n  - {id: a, kind: watchlist, level: 1}\n  - {id: b, kind: watchlist, " \
          "level: 2, categories: [stolen]}\n"
    rules, lookup = engine(two)
    assert len(rules.evaluate(sighting())) == 2
    assert lookup.calls == [("京A12345", "cam-1", "skynet", T0)]
    scoped, lookup = engine(watch_rule("groups: [demo]"))
    scoped.evaluate(sighting(camera_id="cam-1"))
    scoped.evaluate(sighting(plate=""))
    assert lookup.calls == []


def test_custom_summary_templates() -> None:
    rules, _ = engine(watch_rule('summary_zh: "{level}级 {plate} {reason} @{camera}", '
                                 'summary_en: "{rule}: {entry_id} {time}"'))
    [alert] = rules.evaluate(sighting())
    assert (alert.summary_zh, alert.summary_en) == ("1级 京A12345 盗抢 @人民路卡口",
                                                    "w: entry-1 14:00:00")


COOLDOWN = [
    # (plate, camera, seconds after T0, sighting id or None), expected alerting steps
    ([("京A12345", "cam-1", 0, None), ("京A12345", "cam-1", 100, None)], [0]),
    ([("京A12345", "cam-1", 0, None), ("京A12345", "cam-1", 300, None)], [0, 1]),
    ([("京A12345", "cam-1", 0, None), ("京B67890", "cam-1", 10, None)], [0, 1]),
    ([("京A12345", "cam-1", 0, None), ("京A12345", "cam-2", 10, None)], [0, 1]),
    ([("京A12345", "cam-1", 0, None), ("京A12345", "cam-1", -100, None)], [0]),
    # suppressed passes do not extend the cool-down
    ([("京A12345", "cam-1", 0, None), ("京A12345", "cam-1", 200, None),
      ("京A12345", "cam-1", 300, None)], [0, 2]),
    # a plate does not hide another between its own repeats
    ([("京A12345", "cam-1", 0, None), ("京B67890", "cam-1", 5, None),
      ("京A12345", "cam-1", 6, None), ("京B67890", "cam-1", 7, None)], [0, 1]),
]


@pytest.mark.parametrize(("passes", "expected"), COOLDOWN)
def test_cooldown_on_camera_rule_and_plate(passes: list[tuple[str, str, float, str | None]],
                                           expected: list[int]) -> None:
    rules, _ = engine(watch_rule())
    alerting = [step for step, (plate, cam, dt, sid) in enumerate(passes)
                if rules.evaluate(sighting(plate, cam, T0 + dt, sid))]
    assert alerting == expected


def test_early_and_final_sighting_of_one_pass_alert_once_even_without_cooldown() -> None:
    rules, _ = engine(watch_rule().replace("cooldown: 300", "cooldown: 0"))
    early = sighting("京A12345", at=T0, sid="pass-1", final=False)
    final = sighting("京A12345", at=T0 + 4, sid="pass-1", final=True)
    corrected = sighting("京B67890", at=T0 + 5, sid="pass-1", final=True)
    assert len(rules.evaluate(early)) == 1
    assert rules.evaluate(final) == []
    assert rules.evaluate(corrected) == []
    assert len(rules.evaluate(sighting("京A12345", at=T0 + 6, sid="pass-2"))) == 1
    assert rules.stats()["repeat_suppressed"] == 2


SCENE = ("rules:\n  - {id: s, kind: scene, level: 2, cooldown: 60, events: [intrusion, "
         "line_cross, crowd] %s}\n")


def scene_rule(extra: str = "") -> str:
    return SCENE % (", " + extra if extra else "")


SCENE_FILTERS = [
    # rule keys, event, alerts?
    ("", event(), True),
    ("", event(kind="loitering"), False),
    ("zones: [z2]", event(), False),
    ("zones: [z1, z2]", event(), True),
    ("zones: [z1]", event(zone=None), False),
    ("labels: [car]", event(), False),
    ("labels: [person]", event(), True),
    ("labels: [person]", event(detail=""), False),
    ("directions: [a_to_b]", event("line_cross", "gate", detail="label=car direction=a_to_b"),
     True),
    ("directions: [a_to_b]", event("line_cross", "gate", detail="label=car direction=b_to_a"),
     False),
    ("directions: [a_to_b]", event("line_cross", "gate", detail="label=car"), False),
    ("directions: [a_to_b]", event("intrusion"), True),
    ("groups: [demo]", event(), False),
    ("groups: [demo]", event(camera_id="cam-2"), True),
    ("cameras: [cam-3]", event(camera_id="cam-3"), True),
]


@pytest.mark.parametrize(("keys", "observed", "alerts"), SCENE_FILTERS)
def test_scene_filters(keys: str, observed: SceneEvent, alerts: bool) -> None:
    rules, _ = engine(scene_rule(keys))
    assert bool(rules.evaluate(observed)) is alerts


def test_scene_alert_fields_and_summary() -> None:
    rules, _ = engine(scene_rule())
    [alert] = rules.evaluate(event())
    assert (alert.category, alert.subject, alert.level, alert.watchlist_entry_id) == \
        ("intrusion", "z1:intrusion", 2, None)
    assert alert.summary_zh == "人民路与建设路口 发生区域入侵（区域 z1，行人）"
    assert alert.summary_en == "Intrusion at 人民路与建设路口 (zone z1, person)"
    [line] = rules.evaluate(event("line_cross", "gate", detail="direction=a_to_b label=car"))
    assert line.summary_en == "Line crossing at 人民路与建设路口 (zone gate, car, a_to_b)"


def test_scene_cooldown_is_per_zone_and_kind() -> None:
    rules, _ = engine(scene_rule())
    steps = [event(at=T0), event(at=T0 + 10), event(zone="z2", at=T0 + 11),
             event(kind="crowd", at=T0 + 12), event(at=T0 + 60)]
    assert [bool(rules.evaluate(e)) for e in steps] == [True, False, True, True, True]


@pytest.mark.parametrize(("local", "alerts"), [
    (datetime(2024, 5, 3, 23, 0), True),
    (datetime(2024, 5, 4, 5, 30), True),
    (datetime(2024, 5, 4, 6, 0), False),
    (datetime(2024, 5, 3, 14, 0), False),
])
def test_schedule_gates_alerts(local: datetime, alerts: bool) -> None:
    rules, _ = engine(scene_rule('schedule: {windows: ["22:00-06:00"]}'))
    at = local.replace(tzinfo=CHINA).timestamp()
    assert bool(rules.evaluate(event(at=at))) is alerts


def test_hot_replace_keeps_cooldowns_of_rules_that_still_exist() -> None:
    rules, _ = engine(watch_rule())
    assert rules.evaluate(sighting(at=T0))
    rules.replace_rules(parse_rules(watch_rule("categories: [stolen]"), "r", list(CAMERAS)))
    assert rules.evaluate(sighting(at=T0 + 100)) == []
    assert len(rules.rules) == 1
    rules.replace_rules(parse_rules(scene_rule(), "r", list(CAMERAS)))
    assert rules.evaluate(sighting(at=T0 + 110)) == []
    assert rules.evaluate(event(at=T0 + 110))
    rules.replace_rules(parse_rules(watch_rule(), "r", list(CAMERAS)))
    assert rules.evaluate(sighting(at=T0 + 120)), "a removed rule's cool-down is forgotten"


def test_replace_rules_refuses_duplicate_ids() -> None:
    rules, _ = engine(watch_rule())
    twice = [*rules.rules, *rules.rules]
    with pytest.raises(ValueError, match="duplicate rule id"):
        rules.replace_rules(twice)


def test_expired_cooldowns_are_forgotten_but_not_while_replaying_old_events() -> None:
    clock = FakeClock(T0)
    rules, _ = engine(watch_rule(), clock=clock)
    rules.evaluate(sighting(at=T0))
    clock.advance(1000)
    rules.tick()
    assert rules.stats()["cooldowns"] == 1, "no event after T0: a replay may still need it"
    rules.evaluate(sighting("京B67890", at=T0 + 900))
    rules.tick()
    assert rules.stats()["cooldowns"] == 1
    assert rules.evaluate(sighting(at=T0 + 950))


def test_the_same_decision_twice_gets_the_same_alert_id() -> None:
    """A hub that takes over re-evaluates what the dead one committed but did not
    acknowledge: the alert id is derived from (rule, pass), so the store's idempotent insert
    keeps one alert. Different passes or rules get different ids."""
    parsed = parse_rules(watch_rule(), "rules.yaml", list(CAMERAS))

    def fresh() -> RuleEngine:  # a new process: no memory of what was raised
        return RuleEngine(parsed, CAMERAS, Lookup(HITS), FakeClock(T0))

    early = sighting(sid="pass-1", final=False)
    [first] = fresh().evaluate(early)
    [again] = fresh().evaluate(dataclasses.replace(early, final=True, last_seen=T0 + 1))
    assert first.alert_id == again.alert_id == alert_id_for("w", "pass-1")
    [other] = fresh().evaluate(sighting(sid="pass-2"))
    assert other.alert_id != first.alert_id
    assert alert_id_for("w2", "pass-1") != first.alert_id
