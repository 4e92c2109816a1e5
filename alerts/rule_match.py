"""Matching one observation against one rule: scope, schedule, filters → candidates.

A :class:`Candidate` is an alert before de-duplication: :class:`alerts.rules.RuleEngine`
decides whether it is raised (cool-down, repeated pass) and turns it into an
:class:`~core.messages.Alert`. Everything here is a pure function of its arguments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from alerts.rules_config import (
    CHINA_TZ,
    ClonedRule,
    HealthRule,
    Rule,
    SceneRule,
    Scoped,
    WatchlistRule,
    offset_seconds,
)
from alerts.schedule import CompiledSchedule
from alerts.summaries import (
    CATEGORY_LABELS,
    OBJECT_LABELS,
    SCENE_LABELS,
    Value,
    Values,
    label,
)
from core.messages import Observation, SceneEvent, Sighting


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    """One watchlist entry a plate matched. ``level`` 1–4 (1 most urgent); ``distance`` is
    the fuzzy-match distance (0 and ``exact`` for an exact match)."""

    entry_id: str
    plate: str
    category: str
    level: int
    reason: str = ""
    distance: int = 0
    exact: bool = True


WatchlistLookup = Callable[[str, str, str, float], Sequence[WatchlistHit]]
"""``(plate_norm, camera_id, camera_group, at) -> hits``: active entries whose scope covers
the camera at event time ``at``. The watchlist index provides it; the engine never imports
it, so matching can change without touching rules."""

_FACT = re.compile(r"(?P<key>label|direction)=(?P<value>[A-Za-z0-9_\-]+)")


R = TypeVar("R", WatchlistRule, SceneRule, HealthRule, ClonedRule)


@dataclass(frozen=True, slots=True)
class CompiledRule(Generic[R]):
    """A rule with its scope as sets, its schedule compiled and its summary time offset."""

    rule: R
    schedule: CompiledSchedule | None
    cameras: frozenset[str]
    groups: frozenset[str]
    offset: int

    @classmethod
    def compile(cls, rule: R) -> CompiledRule[R]:
        schedule = None if rule.schedule is None else CompiledSchedule.compile(rule.schedule)
        cameras, groups = _scope(rule)
        tz = CHINA_TZ if rule.schedule is None else rule.schedule.tz
        return cls(rule, schedule, cameras, groups, offset_seconds(tz))

    def in_scope(self, camera_id: str, group: str) -> bool:
        """No cameras and no groups: every camera; otherwise its id or its group is listed."""
        if not self.cameras and not self.groups:
            return True
        return camera_id in self.cameras or group in self.groups

    def active(self, at: float) -> bool:
        return self.schedule is None or self.schedule.active(at)

    def applies(self, camera_id: str, group: str, at: float) -> bool:
        return self.in_scope(camera_id, group) and self.active(at)


def _scope(rule: Rule) -> tuple[frozenset[str], frozenset[str]]:
    if isinstance(rule, Scoped):
        return frozenset(rule.cameras), frozenset(rule.groups)
    return frozenset(), frozenset()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible alert. ``subject`` is what cool-downs are keyed on besides camera and
    rule: the plate, ``zone:kind`` for scene events, the camera for its health."""

    rule: Rule
    offset: int
    level: int
    category: str
    subject: str
    at: float
    observation: Observation
    values: Values = field(default_factory=dict)
    entry_id: str | None = None
    review_only: bool = False


def watchlist_candidates(compiled: CompiledRule[WatchlistRule], sighting: Sighting,
                         hits: Sequence[WatchlistHit]) -> list[Candidate]:
    """One candidate per watchlisted plate the rule accepts; when several entries of one
    plate match, the most urgent (then exact, then closest) is reported."""
    rule = compiled.rule
    best: dict[str, WatchlistHit] = {}
    for hit in hits:
        if accepts(rule, hit) and (hit.plate not in best or _rank(hit) < _rank(best[hit.plate])):
            best[hit.plate] = hit
    return [Candidate(rule, compiled.offset, hit.level if rule.level_from_entry else rule.level,
                      hit.category, hit.plate, sighting.last_seen, sighting,
                      _hit_values(sighting, hit), hit.entry_id)
            for hit in best.values()]


def accepts(rule: WatchlistRule, hit: WatchlistHit) -> bool:
    """Category, level and match-distance filters of a watchlist rule."""
    if rule.categories and hit.category not in rule.categories:
        return False
    if hit.level > rule.min_level:
        return False
    return hit.exact or (rule.max_distance > 0 and hit.distance <= rule.max_distance)


def _rank(hit: WatchlistHit) -> tuple[int, bool, int]:
    return hit.level, not hit.exact, hit.distance


def _hit_values(sighting: Sighting, hit: WatchlistHit) -> dict[str, Value]:
    zh, en = label(CATEGORY_LABELS, hit.category)
    near = not hit.exact and hit.plate != sighting.plate
    return {
        "plate": sighting.plate, "plate_raw": sighting.plate_raw, "category": hit.category,
        "category_zh": zh, "category_en": en, "reason": hit.reason, "entry_id": hit.entry_id,
        "entry_plate": hit.plate,
        "match_zh": f"（近似匹配布控号牌 {hit.plate}）" if near else "",
        "match_en": f" (near match for {hit.plate})" if near else "",
    }


def scene_facts(event: SceneEvent) -> tuple[str, str]:
    """``(label, direction)`` of a scene event: its fields, or for events recorded before
    the fields existed, ``label=…`` / ``direction=…`` tokens in ``detail``."""
    facts = {m["key"]: m["value"] for m in _FACT.finditer(event.detail)}
    return (event.label or facts.get("label", ""),
            event.direction or facts.get("direction", ""))


def scene_candidate(compiled: CompiledRule[SceneRule], event: SceneEvent) -> Candidate | None:
    """The candidate of a scene event the rule's kind/zone/label/direction filters accept."""
    rule = compiled.rule
    obj, direction = scene_facts(event)
    if event.kind not in rule.events:
        return None
    if rule.zones and event.zone not in rule.zones:
        return None
    if rule.labels and obj not in rule.labels:
        return None
    if event.kind == "line_cross" and rule.directions and direction not in rule.directions:
        return None
    zone = event.zone or ""
    return Candidate(rule, compiled.offset, rule.level, event.kind, f"{zone or '-'}:{event.kind}",
                     event.at, event, _scene_values(event, zone, obj, direction))


def _scene_values(event: SceneEvent, zone: str, obj: str, direction: str) -> dict[str, Value]:
    kind_zh, kind_en = label(SCENE_LABELS, event.kind)
    obj_zh, obj_en = label(OBJECT_LABELS, obj)
    parts_zh = [p for p in (f"区域 {zone}" if zone else "", obj_zh, direction) if p]
    parts_en = [p for p in (f"zone {zone}" if zone else "", obj_en, direction) if p]
    return {
        "kind": event.kind, "kind_zh": kind_zh, "kind_en": kind_en, "zone": zone,
        "label": obj, "direction": direction,
        "detail_zh": f"（{'，'.join(parts_zh)}）" if parts_zh else "",
        "detail_en": f" ({', '.join(parts_en)})" if parts_en else "",
    }
