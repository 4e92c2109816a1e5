"""Pydantic models for ``configs/rules.yaml`` (the rule engine's only configuration).

The file is a list of rules, each with a ``kind`` that picks its model::

    rules:
      - id: stolen-vehicles
        kind: watchlist
        level: 1
        groups: [skynet]

Every model forbids unknown keys, so a misspelt key (``cooldwon``) is an error at its line
instead of a rule that silently behaves differently. Checks that need to know the cameras
(``cameras:`` naming a camera that does not exist) live in :mod:`alerts.rules_loader`,
which also turns every problem into a ``file:line: key.path: message`` line.

Summary templates are checked here too: a placeholder the rule kind does not provide
(``{plaet}``) is a configuration error, never a ``KeyError`` in the middle of the night.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.config.models import ALL_DAYS, Day

RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
HHMM = r"([01]\d|2[0-3]):[0-5]\d"
WINDOW = re.compile(rf"^(?P<start>{HHMM})-(?P<end>{HHMM}|24:00)$")
TZ_OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>0\d|1[0-4]):(?P<minutes>[0-5]\d)$")
CHINA_TZ = "+08:00"
"""Asia/Shanghai as a fixed offset: China has had no daylight saving time since 1991."""

Level = Annotated[int, Field(ge=1, le=4, description="1 = most urgent, 4 = least")]
Seconds = Annotated[float, Field(ge=0)]
SceneKind = Literal["intrusion", "line_cross", "loitering", "crowd", "tamper"]
StateCondition = Literal["offline", "stalled", "backoff"]
HealthCondition = Literal["frozen", "black", "blank", "degraded", "tamper"]
Direction = Literal["a_to_b", "b_to_a"]
Compared = Literal["colour", "type"]
COMPARED: tuple[Compared, ...] = ("colour", "type")

COMMON_FIELDS = frozenset({"camera", "camera_id", "place", "address", "time", "level", "rule"})
"""Placeholders every summary template may use (see docs/rules.md, "Summaries")."""
KIND_FIELDS: dict[str, frozenset[str]] = {
    "watchlist": COMMON_FIELDS | {"plate", "plate_raw", "category", "category_zh",
                                  "category_en", "reason", "entry_id", "entry_plate",
                                  "match_zh", "match_en"},
    "scene": COMMON_FIELDS | {"kind", "kind_zh", "kind_en", "zone", "label", "direction",
                              "detail_zh", "detail_en"},
    "camera_health": COMMON_FIELDS | {"condition", "condition_zh", "condition_en",
                                      "duration", "since"},
    "cloned_plate": COMMON_FIELDS | {"plate", "plate_raw", "colour", "plate_type",
                                     "prev_camera", "prev_place", "prev_time", "prev_colour",
                                     "prev_type", "distance_km", "interval", "speed_kmh",
                                     "limit_kmh", "detail_zh", "detail_en"},
}
"""Placeholders per rule kind; :mod:`alerts.summaries` fills exactly these."""


def window_minutes(window: str) -> tuple[int, int]:
    """``"22:00-06:00"`` → ``(1320, 360)``: minutes after local midnight, end exclusive."""
    match = WINDOW.match(window)
    if match is None:
        raise ValueError(f"window '{window}' must look like 08:00-18:00 (24:00 may end one)")
    start, end = (_minutes(match[part]) for part in ("start", "end"))
    return start, end


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def offset_seconds(tz: str) -> int:
    """``"+08:00"`` → ``28800``: seconds east of UTC."""
    match = TZ_OFFSET.match(tz)
    if match is None:
        raise ValueError(f"tz '{tz}' must be a UTC offset such as +08:00")
    seconds = int(match["hours"]) * 3600 + int(match["minutes"]) * 60
    return -seconds if match["sign"] == "-" else seconds


def template_fields(template: str) -> list[str]:
    """Placeholder names in ``template``; raises ``ValueError`` for anything but ``{name}``.

    Format specs, conversions, attribute and index access are refused so that rendering a
    checked template can never fail (every value is handed over as text)."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template is not valid: {exc} (write {{{{ for a literal brace)") \
            from exc
    for _text, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder '{{{name}}}' must be a plain {{name}}")
        names.append(name)
    return names


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(Strict):
    """When a rule may raise alerts, in local time at a fixed UTC offset.

    A window whose end is before its start runs overnight and belongs to the day it starts
    on: ``days: [fri]`` with ``22:00-06:00`` covers Friday 22:00 to Saturday 06:00."""

    days: list[Day] = Field(default_factory=lambda: list(ALL_DAYS), min_length=1)
    windows: list[str] = Field(default_factory=lambda: ["00:00-24:00"], min_length=1)
    tz: str = CHINA_TZ

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            start, end = window_minutes(window)
            if start == end:
                raise ValueError(f"window '{window}' starts where it ends; "
                                 "write 00:00-24:00 for the whole day")
        return value

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        offset_seconds(value)
        return value


class RuleBase(Strict):
    """Keys every rule kind has. ``KIND`` is the ``kind:`` value of the subclass."""

    KIND: ClassVar[str] = ""
    id: str
    level: Level
    enabled: bool = True
    cooldown: Seconds = Field(300.0, description="same camera+rule+subject suppressed this long")
    schedule: Schedule | None = None
    description: str = ""
    summary_zh: str | None = None
    summary_en: str | None = None

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not RULE_ID.match(value):
            raise ValueError("rule id must be a slug (letters, digits, '_', '-', '.'; "
                             "at most 64)")
        return value

    @field_validator("summary_zh", "summary_en")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        allowed = KIND_FIELDS[cls.KIND]
        unknown = [name for name in template_fields(value) if name not in allowed]
        if unknown:
            raise ValueError(f"unknown placeholder '{{{unknown[0]}}}'; "
                             f"available: {', '.join(sorted(allowed))}")
        return value


class Scoped(RuleBase):
    """A rule limited to some cameras: by id or by group; both empty means every camera."""

    cameras: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)


class WatchlistRule(Scoped):
    """A sighting whose plate is on a watchlist (布控)."""

    KIND: ClassVar[str] = "watchlist"
    kind: Literal["watchlist"]
    categories: list[str] = Field(default_factory=list, description="empty = every category")
    min_level: Level = Field(4, description="entries with level <= this match (1 = urgent)")
    max_distance: int = Field(1, ge=0, le=3, description="largest fuzzy-match distance")
    level_from_entry: bool = Field(True, description="alert level = the entry's level")


class SceneRule(Scoped):
    """A scene event: intrusion, line crossing, loitering, crowding, tampering."""

    KIND: ClassVar[str] = "scene"
    kind: Literal["scene"]
    events: list[SceneKind] = Field(min_length=1)
    zones: list[str] = Field(default_factory=list, description="zone/line ids; empty = any")
    labels: list[str] = Field(default_factory=list, description="object classes; empty = any")
    directions: list[Direction] = Field(default_factory=list, description="line_cross only")

    @model_validator(mode="after")
    def _directions(self) -> SceneRule:
        if self.directions and "line_cross" not in self.events:
            raise ValueError("directions apply only to line_cross events; "
                             "add line_cross to events or remove directions")
        return self


class HealthRule(Scoped):
    """A camera that stays offline, stalled or with a bad picture for ``for`` seconds."""

    KIND: ClassVar[str] = "camera_health"
    kind: Literal["camera_health"]
    states: list[StateCondition] = Field(default_factory=list)
    health: list[HealthCondition] = Field(default_factory=list)
    for_: Seconds = Field(60.0, alias="for", description="bad this long before alerting")

    @model_validator(mode="after")
    def _some_condition(self) -> HealthRule:
        if not self.states and not self.health:
            raise ValueError("a camera_health rule needs states and/or health to watch, "
                             "e.g. states: [offline]")
        return self


class SpeedPair(Strict):
    """A max speed for one pair of cameras (either order), e.g. across a ring road."""

    cameras: tuple[str, str]
    max_speed_kmh: float = Field(gt=0)

    @model_validator(mode="after")
    def _two_cameras(self) -> SpeedPair:
        if self.cameras[0] == self.cameras[1]:
            raise ValueError("a speed pair needs two different cameras")
        return self


class ClonedRule(RuleBase):
    """The same plate where it cannot be, or with a different colour/type (套牌)."""

    KIND: ClassVar[str] = "cloned_plate"
    kind: Literal["cloned_plate"]
    max_speed_kmh: float = Field(150.0, gt=0)
    tolerance: float = Field(1.2, ge=1.0, description="alert above max_speed × tolerance")
    min_dt: Seconds = Field(60.0, description="ignore passes closer in time (clock skew)")
    window: float = Field(3600.0, gt=0, description="compare with passes at most this old")
    pairs: list[SpeedPair] = Field(default_factory=list)
    compare: list[Compared] = Field(default_factory=lambda: list(COMPARED))
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _unique_pairs(self) -> ClonedRule:
        seen: set[frozenset[str]] = set()
        for pair in self.pairs:
            key = frozenset(pair.cameras)
            if key in seen:
                raise ValueError(f"pair {pair.cameras[0]}/{pair.cameras[1]} is listed twice")
            seen.add(key)
        return self


Rule = WatchlistRule | SceneRule | HealthRule | ClonedRule
RULE_KINDS: dict[str, type[WatchlistRule] | type[SceneRule] | type[HealthRule]
                 | type[ClonedRule]] = {
    "watchlist": WatchlistRule,
    "scene": SceneRule,
    "camera_health": HealthRule,
    "cloned_plate": ClonedRule,
}


class RulesFile(Strict):
    """The file's top level; each item of ``rules`` is validated by its kind's model."""

    rules: list[object] = Field(default_factory=list)
