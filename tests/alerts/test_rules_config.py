"""rules.yaml: the example loads, and every invalid case points at its exact line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.rules_config import ClonedRule, HealthRule, SceneRule, WatchlistRule
from alerts.rules_loader import load_rules, parse_rules
from core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "rules.yaml"
CAMERAS = ("cam-1", "cam-2", "gate-3")


def problems(text: str, groups: tuple[str, ...] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "rules.yaml", CAMERAS, groups)
    return caught.value.problems


def test_example_file_has_one_rule_of_each_kind_and_the_demo_zone_rule() -> None:
    rules = load_rules(EXAMPLE, camera_ids=[], groups=["skynet", "demo"])
    assert [type(rule) for rule in rules] == [WatchlistRule, SceneRule, HealthRule, ClonedRule,
                                              SceneRule]
    demo = rules[4]
    assert isinstance(demo, SceneRule) and demo.id == "demo-intrusion"
    assert (demo.zones, demo.groups, demo.schedule) == (["no-entry"], ["demo"], None)
    health = rules[2]
    assert isinstance(health, HealthRule)
    assert health.for_ == 120
    assert health.schedule is None


def test_valid_rules_with_every_kind_of_filter() -> None:
    rules = parse_rules("""\
rules:
  - {id: w, kind: watchlist, level: 1, cameras: [cam-1], groups: [skynet], categories: [stolen]}
  - id: s
    kind: scene
    level: 2
    events: [line_cross]
    zones: [gate-line]
    labels: [person]
    directions: [a_to_b]
    schedule: {days: [fri], windows: ["22:00-06:00", "12:00-13:00"], tz: "-05:00"}
    summary_zh: "{kind_zh} @ {place}"
  - {id: h, kind: camera_health, level: 3, states: [stalled], for: 0}
  - id: c
    kind: cloned_plate
    level: 2
    pairs: [{cameras: [cam-1, cam-2], max_speed_kmh: 60}]
""", "rules.yaml", CAMERAS)
    assert [rule.id for rule in rules] == ["w", "s", "h", "c"]


def test_empty_file_has_no_rules() -> None:
    assert parse_rules("", "rules.yaml", CAMERAS) == ()
    assert parse_rules("rules: []\n", "rules.yaml", CAMERAS) == ()


CASES: dict[str, tuple[str, list[str]]] = {
    "typo_key": ("""\
rules:
  - id: w
    kind: watchlist
    level: 1
    cooldwon: 5
""", ["rules.yaml:5: rules.0.cooldwon: Extra inputs are not permitted"]),
    "level_out_of_range": ("""\
rules:
  - id: w
    kind: watchlist
    level: 5
""", ["rules.yaml:4: rules.0.level: Input should be less than or equal to 4"]),
    "unknown_kind": ("""\
rules:
  - id: w
    kind: watchlst
    level: 1
""", ["rules.yaml:3: rules.0.kind: unknown rule kind 'watchlst'; expected one of "
      "watchlist, scene, camera_health, cloned_plate"]),
    "missing_kind": ("""\
rules:
  - id: w
    level: 1
""", ["rules.yaml:2: rules.0: rule needs a kind: one of watchlist, scene, camera_health, "
      "cloned_plate"]),
    "missing_level": ("""\
rules:
  - id: w
    kind: watchlist
""", ["rules.yaml:2: rules.0.level: Field required"]),
    "unknown_camera": ("""\
rules:
  - id: stolen
    kind: watchlist
    level: 1
    cameras:
      - cam-1
      - gate-03
""", ["rules.yaml:7: rules.0.cameras.1: rule 'stolen': unknown camera 'gate-03' "
      "(did you mean 'gate-3'?); cameras are defined in configs/cameras/*.yaml"]),
    "unknown_pair_camera": ("""\
rules:
  - id: cloned
    kind: cloned_plate
    level: 2
    pairs:
      - cameras: [cam-1, north-gate]
        max_speed_kmh: 80
""", ["rules.yaml:6: rules.0.pairs.0.cameras.1: rule 'cloned': unknown camera 'north-gate'; "
      "cameras are defined in configs/cameras/*.yaml"]),
    "pair_same_camera": ("""\
rules:
  - id: cloned
    kind: cloned_plate
    level: 2
    pairs:
      - {cameras: [cam-1, cam-1], max_speed_kmh: 80}
""", ["rules.yaml:6: rules.0.pairs.0: a speed pair needs two different cameras"]),
    "duplicate_id": ("""\
rules:
  - {id: same, kind: watchlist, level: 1}
  - {id: same, kind: scene, level: 1, events: [crowd]}
""", ["rules.yaml:3: rules.1.id: duplicate rule id 'same' (first at line 2); "
      "rule ids must be unique"]),
    "bad_window": ("""\
rules:
  - id: s
    kind: scene
    level: 2
    events: [intrusion]
    schedule:
      windows: ["22:00-06:00", "25:00-06:00"]
""", ["rules.yaml:7: rules.0.schedule.windows: window '25:00-06:00' must look like "
      "08:00-18:00 (24:00 may end one)"]),
    "empty_window": ("""\
rules:
  - id: s
    kind: scene
    level: 2
    events: [intrusion]
    schedule: {windows: ["08:00-08:00"]}
""", ["rules.yaml:6: rules.0.schedule.windows: window '08:00-08:00' starts where it ends; "
      "write 00:00-24:00 for the whole day"]),
    "bad_tz": ("""\
rules:
  - id: s
    kind: scene
    level: 2
    events: [intrusion]
    schedule:
      tz: Asia/Shanghai
""", ["rules.yaml:7: rules.0.schedule.tz: tz 'Asia/Shanghai' must be a UTC offset such "
      "as +08:00"]),
    "bad_day": ("""\
rules:
  - id: s
    kind: scene
    level: 2
    events: [intrusion]
    schedule:
      days: [mon, friday]
""", ["rules.yaml:7: rules.0.schedule.days.1: Input should be 'mon', 'tue', 'wed', 'thu', "
      "'fri', 'sat' or 'sun'"]),
    "bad_placeholder": ("""\
rules:
  - id: w
    kind: watchlist
    level: 1
    summary_en: "Vehicle {plaet} at {place}"
""", ["rules.yaml:5: rules.0.summary_en: unknown placeholder '{plaet}'; available: address, "
      "camera, camera_id, category, category_en, category_zh, entry_id, entry_plate, level, "
      "match_en, match_zh, place, plate, plate_raw, reason, rule, time"]),
    "format_spec_placeholder": ("""\
rules:
  - id: c
    kind: cloned_plate
    level: 1
    summary_zh: "{speed_kmh:.0f}"
""", ["rules.yaml:5: rules.0.summary_zh: placeholder '{speed_kmh}' must be a plain {name}"]),
    "health_without_conditions": ("""\
rules:
  - id: h
    kind: camera_health
    level: 3
    for: 30
""", ["rules.yaml:2: rules.0: a camera_health rule needs states and/or health to watch, "
      "e.g. states: [offline]"]),
    "health_bad_state": ("""\
rules:
  - id: h
    kind: camera_health
    level: 3
    states: [down]
""", ["rules.yaml:5: rules.0.states.0: Input should be 'offline', 'stalled' or 'backoff'"]),
    "directions_without_line_cross": ("""\
rules:
  - id: s
    kind: scene
    level: 2
    events: [intrusion]
    directions: [a_to_b]
""", ["rules.yaml:2: rules.0: directions apply only to line_cross events; add line_cross "
      "to events or remove directions"]),
    "yaml_syntax": ("""\
rules:
  - id: w
    kind watchlist
    level: 1
""", ["rules.yaml:4: could not find expected ':' (while scanning a simple key at line 3)"]),
    "not_a_list": ("""\
rules:
  id: w
""", ["rules.yaml:1: rules: Input should be a valid list"]),
    "top_level_typo": ("""\
rule:
  - {id: w, kind: watchlist, level: 1}
""", ["rules.yaml:1: rule: Extra inputs are not permitted"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_rules_point_at_the_line(case: str) -> None:
    text, expected = CASES[case]
    assert problems(text) == expected


def test_every_problem_is_reported_in_line_order() -> None:
    found = problems("""\
rules:
  - id: a
    kind: watchlist
    level: 0
  - id: b
    kind: scene
    level: 2
    events: [fire]
    cameras: [nowhere]
""")
    assert found == [
        "rules.yaml:4: rules.0.level: Input should be greater than or equal to 1",
        "rules.yaml:8: rules.1.events.0: Input should be 'intrusion', 'line_cross', "
        "'loitering', 'crowd' or 'tamper'",
    ]


def test_unknown_groups_are_errors_only_when_groups_are_known() -> None:
    text = "rules:\n  - {id: w, kind: watchlist, level: 1, groups: [skynett]}\n"
    assert parse_rules(text, "rules.yaml", CAMERAS)[0].id == "w"
    assert problems(text, groups=("skynet", "demo")) == [
        "rules.yaml:2: rules.0.groups.0: rule 'w': unknown group 'skynett' (did you mean "
        "'skynet'?); groups are the group: keys of configs/cameras/*.yaml"]


def test_load_rules_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {id: w, kind: watchlist, level: 9}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(path, CAMERAS)
    assert caught.value.problems == [
        f"{path}:2: rules.0.level: Input should be less than or equal to 4"]


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_rules(tmp_path / "nope.yaml", CAMERAS)
    assert caught.value.problems[0].startswith(f"{tmp_path / 'nope.yaml'}: cannot read file")
