"""Cloned plates (套牌): the same plate where one vehicle cannot be, or in another colour.

The engine remembers the last pass of every plate (a bounded LRU; the oldest plates are
forgotten first) and compares each new pass with it:

* **speed** — two different cameras with known positions, ``Δt ≥ min_dt`` and
  ``distance / Δt > max_speed × tolerance``. ``min_dt`` absorbs clock skew between cameras
  and adjacent cameras; ``tolerance`` absorbs position and timing error. Distances are
  great-circle (haversine) between the cameras' configured positions, taken as given
  whatever their ``crs``: WGS84/GCJ-02 differ by at most ~0.5 km, far below what a
  speed check at ``min_dt`` can resolve.
* **colour / type** — the plate colour or plate type differs (both known) within ``window``.

Only comparisons with the *last* pass are made: a clone and its original alternating at
different places still produce a conflict at each switch.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from alerts.rules_config import ClonedRule
from alerts.summaries import COLOUR_LABELS, Values, duration, label, local_time
from core.messages import Sighting

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""
UNKNOWN = frozenset({"", "unknown", "other"})
"""Colour/type values that are never compared (the reader did not say)."""

Position = tuple[float, float]
"""``(lon, lat)`` in degrees."""


def haversine_km(a: Position, b: Position) -> float:
    """Great-circle distance in km between two ``(lon, lat)`` points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class Pass:
    """What is remembered of one sighting: where, when (``last_seen``), colour and type."""

    sighting_id: str
    camera_id: str
    at: float
    colour: str
    plate_type: str
    confidence: float

    @classmethod
    def of(cls, sighting: Sighting) -> Pass:
        return cls(sighting.sighting_id, sighting.camera_id, sighting.last_seen,
                   sighting.color, sighting.plate_type, sighting.confidence)


class PlateMemory:
    """The last pass per normalised plate; at most ``capacity`` plates, oldest evicted."""

    def __init__(self, capacity: int = 200_000) -> None:
        self._capacity = capacity
        self._passes: OrderedDict[str, Pass] = OrderedDict()

    def __len__(self) -> int:
        return len(self._passes)

    def previous(self, plate: str) -> Pass | None:
        return self._passes.get(plate)

    def remember(self, plate: str, current: Pass) -> None:
        """Keep ``current`` unless the remembered pass is a later, different pass (an
        observation that arrives late must not replace a newer one)."""
        known = self._passes.get(plate)
        if known is not None and known.sighting_id != current.sighting_id \
                and known.at > current.at:
            return
        self._passes[plate] = current
        self._passes.move_to_end(plate)
        while len(self._passes) > self._capacity:
            self._passes.popitem(last=False)

    def purge(self, older_than: float) -> int:
        """Forget passes before ``older_than``, oldest first, stopping at the first newer
        one (insertion order follows event time closely enough for housekeeping)."""
        count = 0
        while self._passes:
            plate, first = next(iter(self._passes.items()))
            if first.at >= older_than:
                break
            del self._passes[plate]
            count += 1
        return count


@dataclass(frozen=True, slots=True)
class Conflict:
    """Why two passes of one plate cannot be one vehicle. ``reason``: speed, colour, type."""

    reason: str
    previous: Pass
    current: Pass
    dt: float
    distance_km: float = 0.0
    speed_kmh: float = 0.0
    limit_kmh: float = 0.0


@dataclass(frozen=True, slots=True)
class ClonedCheck:
    """One ``cloned_plate`` rule, compiled: per-pair speed limits keyed by camera pair."""

    rule: ClonedRule
    pairs: Mapping[frozenset[str], float]

    @classmethod
    def compile(cls, rule: ClonedRule) -> ClonedCheck:
        return cls(rule, {frozenset(p.cameras): p.max_speed_kmh for p in rule.pairs})

    def limit_kmh(self, a: str, b: str) -> float:
        return self.pairs.get(frozenset((a, b)), self.rule.max_speed_kmh)

    def conflict(self, previous: Pass, current: Pass,
                 positions: Mapping[str, Position]) -> Conflict | None:
        """The first conflict between two passes (speed before colour before type)."""
        rule = self.rule
        if previous.sighting_id == current.sighting_id:
            return None
        if min(previous.confidence, current.confidence) < rule.min_confidence:
            return None
        dt = abs(current.at - previous.at)
        if dt > rule.window:
            return None
        return self._speed(previous, current, dt, positions) or _mismatch(
            rule, previous, current, dt)

    def _speed(self, previous: Pass, current: Pass, dt: float,
               positions: Mapping[str, Position]) -> Conflict | None:
        if previous.camera_id == current.camera_id or dt <= 0 or dt < self.rule.min_dt:
            return None
        here, there = positions.get(current.camera_id), positions.get(previous.camera_id)
        if here is None or there is None:
            return None
        km = haversine_km(there, here)
        speed = km / (dt / 3600.0)
        limit = self.limit_kmh(previous.camera_id, current.camera_id)
        if speed <= limit * self.rule.tolerance:
            return None
        return Conflict("speed", previous, current, dt, km, speed, limit)


def _mismatch(rule: ClonedRule, previous: Pass, current: Pass, dt: float) -> Conflict | None:
    pairs = (("colour", previous.colour, current.colour),
             ("type", previous.plate_type, current.plate_type))
    for reason, old, new in pairs:
        if reason in rule.compare and old.lower() not in UNKNOWN \
                and new.lower() not in UNKNOWN and old != new:
            return Conflict(reason, previous, current, dt)
    return None


@dataclass(frozen=True, slots=True)
class Spot:
    """A camera as a summary names it."""

    camera: str
    place: str


def conflict_values(conflict: Conflict, here: Spot, there: Spot, offset: int) -> Values:
    """Summary placeholders of a conflict (``here`` = current pass, ``there`` = previous)."""
    prev, cur = conflict.previous, conflict.current
    now_t, prev_t = local_time(cur.at, offset), local_time(prev.at, offset)
    interval = duration(conflict.dt)
    values: dict[str, str | tuple[str, str]] = {
        "colour": cur.colour, "plate_type": cur.plate_type, "prev_camera": there.camera,
        "prev_place": there.place, "prev_time": prev_t, "prev_colour": prev.colour,
        "prev_type": prev.plate_type, "distance_km": f"{conflict.distance_km:.1f}",
        "interval": interval, "speed_kmh": f"{conflict.speed_kmh:.0f}",
        "limit_kmh": f"{conflict.limit_kmh:.0f}",
    }
    if conflict.reason == "speed":
        values["detail_zh"] = (
            f"{prev_t} 在 {there.place}，{now_t} 在 {here.place}，相距 "
            f"{values['distance_km']} 公里仅隔 {interval[0]}，需时速 {values['speed_kmh']} "
            f"公里（上限 {values['limit_kmh']}）")
        values["detail_en"] = (
            f"at {there.place} at {prev_t} and at {here.place} at {now_t}: "
            f"{values['distance_km']} km in {interval[1]} needs {values['speed_kmh']} km/h "
            f"(limit {values['limit_kmh']})")
        return values
    old, new = (prev.colour, cur.colour) if conflict.reason == "colour" \
        else (prev.plate_type, cur.plate_type)
    old_zh, old_en = label(COLOUR_LABELS, old)
    new_zh, new_en = label(COLOUR_LABELS, new)
    what_zh, what_en = ("号牌颜色", "plate colour") if conflict.reason == "colour" \
        else ("号牌种类", "plate type")
    values["detail_zh"] = (f"{what_zh}不一致，{prev_t} 在 {there.place} 为 {old_zh}，"
                           f"{now_t} 在 {here.place} 为 {new_zh}")
    values["detail_en"] = (f"{what_en} differs: {old_en} at {there.place} at {prev_t}, "
                           f"{new_en} at {here.place} at {now_t}")
    return values
