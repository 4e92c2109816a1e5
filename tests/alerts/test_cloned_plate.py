"""Cloned plates (套牌): impossible travel between cameras, colour/type changes, LRU memory."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from alerts.cloned import Pass, PlateMemory, haversine_km
from alerts.rules import EngineOptions, RuleEngine, WatchlistHit
from alerts.rules_loader import parse_rules
from core.clock import FakeClock
from core.config.models import Camera, Location
from core.messages import Alert, Sighting

CHINA = timezone(timedelta(hours=8))
T0 = datetime(2024, 5, 3, 14, 0, tzinfo=CHINA).timestamp()
KM_PER_DEGREE_LAT = 111.19493
LON, LAT = 116.40, 39.90


def camera(cid: str, km_north: float | None, address: str) -> Camera:
    location = None if km_north is None else Location(
        lon=LON, lat=LAT + km_north / KM_PER_DEGREE_LAT, address=address)
    return Camera(id=cid, name=f"{cid} 卡口", group="skynet", url=f"rtsp://x.test/{cid}",
                  location=location)


CAMERAS = {c.id: c for c in (
    camera("north", 30.0, "北五环出口"),
    camera("south", 0.0, "人民路与建设路口"),
    camera("next-door", 1.0, "建设路中段"),
    camera("nowhere", None, ""),
)}
RULE = """\
rules:
  - id: cloned
    kind: cloned_plate
    level: 2
    max_speed_kmh: 150
    tolerance: 1.2
    min_dt: 60
    window: 3600
    cooldown: 0
"""


def no_hits(plate: str, camera_id: str, group: str, at: float) -> Sequence[WatchlistHit]:
    return ()


def engine(extra: str = "") -> RuleEngine:
    counter = itertools.count(1)
    options = EngineOptions(id_factory=lambda: f"alert-{next(counter)}")
    rules = parse_rules(RULE + extra, "rules.yaml", list(CAMERAS))
    return RuleEngine(rules, CAMERAS, no_hits, FakeClock(T0), options)


def sighting(camera_id: str, dt: float, color: str = "blue", plate_type: str = "small",
             sid: str | None = None) -> Sighting:
    return Sighting(sighting_id=sid or f"{camera_id}-{dt}", camera_id=camera_id,
                    plate="京A12345", plate_raw="京A·12345", plate_type=plate_type, color=color,
                    confidence=0.95, first_seen=T0 + dt - 1, last_seen=T0 + dt)


def run(steps: Sequence[Sighting], extra: str = "") -> list[Alert]:
    rules = engine(extra)
    return [alert for step in steps for alert in rules.evaluate(step)]


SCENARIOS = [
    # name, sightings, alerts
    ("30 km in 5 min", [sighting("south", 0), sighting("north", 300)], 1),
    ("30 km in 60 min", [sighting("south", 0), sighting("north", 3600)], 0),
    ("30 km in 11 min = 164 km/h, under 150 x 1.2",
     [sighting("south", 0), sighting("north", 660)], 0),
    ("30 km in 9 min = 200 km/h", [sighting("south", 0), sighting("north", 540)], 1),
    ("adjacent cameras 10 s apart (under min_dt)",
     [sighting("south", 0), sighting("next-door", 10)], 0),
    ("30 km in 30 s (under min_dt)", [sighting("south", 0), sighting("north", 30)], 0),
    ("different colour", [sighting("south", 0), sighting("south", 600, color="yellow")], 1),
    ("different colour, adjacent, 10 s",
     [sighting("south", 0), sighting("next-door", 10, color="green")], 1),
    ("different type", [sighting("south", 0), sighting("north", 3000, plate_type="trailer")],
     1),
    ("colour changes after the window",
     [sighting("south", 0), sighting("south", 7200, color="yellow")], 0),
    ("unknown colour is not compared",
     [sighting("south", 0), sighting("south", 600, color="unknown")], 0),
    ("camera without a position", [sighting("south", 0), sighting("nowhere", 300)], 0),
    ("early and final of one pass",
     [sighting("south", 0, sid="p"), sighting("north", 300, color="yellow", sid="p")], 0),
    ("early (not final) sighting",
     [sighting("south", 0), replace(sighting("north", 300), final=False)], 0),
    ("low confidence", [sighting("south", 0), replace(sighting("north", 300), confidence=0.5)], 0),
    ("a low-confidence read is not remembered",
     [sighting("south", 0), replace(sighting("north", 200), confidence=0.5),
      sighting("north", 400)], 1),
    ("late arrival of an older pass",
     [sighting("north", 300), sighting("south", 0)], 1),
]


@pytest.mark.parametrize(("name", "steps", "expected"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_cloned_plate_scenarios(name: str, steps: list[Sighting], expected: int) -> None:
    assert len(run(steps, "    min_confidence: 0.8\n")) == expected


def test_speed_alert_is_for_review_with_the_evidence_in_words() -> None:
    second = sighting("north", 300)
    [alert] = run([sighting("south", 0), second])
    assert (alert.rule_id, alert.category, alert.level, alert.subject) == \
        ("cloned", "cloned_plate", 2, "京A12345")
    assert alert.review_only is True
    assert (alert.camera_id, alert.address, alert.observation, alert.raised_at) == \
        ("north", "北五环出口", second, T0 + 300)
    assert alert.summary_zh == (
        "疑似套牌 京A12345：14:00:00 在 人民路与建设路口，14:05:00 在 北五环出口，"
        "相距 30.0 公里仅隔 5 分钟，需时速 360 公里（上限 150）")
    assert alert.summary_en == ("Possible cloned plate 京A12345: at 人民路与建设路口 at 14:00:00 "
                                "and at 北五环出口 at 14:05:00: 30.0 km in 5 min needs 360 km/h "
                                "(limit 150)")


def test_colour_alert_summary() -> None:
    [alert] = run([sighting("south", 0), sighting("south", 600, color="yellow")])
    assert alert.review_only is True
    assert alert.summary_zh == (
        "疑似套牌 京A12345：号牌颜色不一致，14:00:00 在 人民路与建设路口 为 蓝牌，"
        "14:10:00 在 人民路与建设路口 为 黄牌")
    assert alert.summary_en == (
        "Possible cloned plate 京A12345: plate colour differs: blue at 人民路与建设路口 at "
        "14:00:00, yellow at 人民路与建设路口 at 14:10:00")


@pytest.mark.parametrize(("pair_speed", "alerts"), [(400, 0), (250, 1)])
def test_per_pair_speed_overrides_the_global_one(pair_speed: int, alerts: int) -> None:
    pairs = f"    pairs:\n      - {{cameras: [north, south], max_speed_kmh: {pair_speed}}}\n"
    assert len(run([sighting("south", 0), sighting("north", 300)], pairs)) == alerts


def test_compare_only_colour() -> None:
    steps = [sighting("south", 0), sighting("south", 600, plate_type="trailer")]
    assert run(steps, "    compare: [colour]\n") == []


def test_each_switch_between_clone_and_original_is_flagged() -> None:
    steps = [sighting("south", 0), sighting("north", 300), sighting("south", 600),
             sighting("north", 900)]
    assert [a.camera_id for a in run(steps)] == ["north", "south", "north"]


def test_cloned_rule_schedule() -> None:
    night = '    schedule: {windows: ["22:00-06:00"]}\n'
    assert run([sighting("south", 0), sighting("north", 300)], night) == []


def test_haversine() -> None:
    assert haversine_km((116.4074, 39.9042), (121.4737, 31.2304)) == pytest.approx(1067, abs=3)
    assert haversine_km((LON, LAT), (LON, LAT)) == 0.0


def one_pass(sid: str, at: float) -> Pass:
    return Pass(sid, "south", at, "blue", "small", 0.9)


def test_plate_memory_is_a_bounded_lru() -> None:
    memory = PlateMemory(capacity=2)
    memory.remember("A", one_pass("a", 1))
    memory.remember("B", one_pass("b", 2))
    memory.remember("A", one_pass("a2", 3))
    memory.remember("C", one_pass("c", 4))
    assert (memory.previous("A"), memory.previous("B")) == (one_pass("a2", 3), None)
    assert len(memory) == 2
    memory.remember("C", one_pass("older", 0))
    assert memory.previous("C") == one_pass("c", 4), "an older pass does not replace a newer"
    assert memory.purge(older_than=3.5) == 1
    assert memory.previous("A") is None
