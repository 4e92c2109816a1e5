"""The rule engine: observations in, alerts out (docs/architecture.md: ``RuleEngine.evaluate``).

It is the decision core, so it is synchronous and does no I/O: time comes from the
observation (``Sighting.last_seen``, ``SceneEvent.at``, ``CameraStatus.since``); the
injected :class:`~core.clock.Clock` is consulted only to expire old state, and
:meth:`RuleEngine.tick` lets time pass for camera-health rules when no message arrives.
Watchlist hits come from a :data:`WatchlistLookup` callable, so the engine never imports
the watchlist or matching code.

De-duplication, in order: a pass (``sighting_id``/``event_id``) alerts at most once per rule
(early and final Sightings, bus redelivery); then the cool-down on ``(camera, rule,
subject)`` suppresses repeats, where the subject is the plate (watchlist, cloned plate),
``zone:kind`` (scene) or the camera (health), so one plate never hides another.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from alerts.cloned import ClonedCheck, Pass, PlateMemory, Position, Spot, conflict_values
from alerts.cooldown import Cooldowns, RecentIds
from alerts.health import Outage, Outages
from alerts.rule_match import (
    Candidate,
    CompiledRule,
    WatchlistHit,
    WatchlistLookup,
    scene_candidate,
    watchlist_candidates,
)
from alerts.rules_config import ClonedRule, HealthRule, Rule, SceneRule, WatchlistRule
from alerts.summaries import (
    CONDITION_LABELS,
    Value,
    duration,
    label,
    local_time,
    place_of,
    render,
)
from core.clock import Clock
from core.config.models import Camera
from core.messages import Alert, CameraStatus, Observation, SceneEvent, Sighting
from core.plates import unknown_province

__all__ = ["EngineOptions", "RuleEngine", "WatchlistHit", "WatchlistLookup"]

log = logging.getLogger(__name__)


_ALERT_IDS = uuid.UUID("0b6f7c1e-3f55-4b8e-9a51-2f9d1c7e4a60")
"""Namespace of the alert ids derived from (rule, observation): see :func:`alert_id_for`."""


def alert_id_for(rule_id: str, observation_key: str) -> str:
    """The alert id of ``rule_id`` firing on the pass or event ``observation_key``.

    Derived, not random, so that the same decision made twice gets the same id: when the
    alerting hub dies after committing an alert but before acknowledging its sighting, the
    hub that takes over evaluates the sighting again (and the pass's final sighting after an
    early one that alerted on the dead hub), and the store's insert is idempotent on the id
    (:meth:`core.store.Store.insert_alert`), so no second alert appears. Camera-health
    alerts, raised by the clock rather than by one observation, keep random ids."""
    return str(uuid.uuid5(_ALERT_IDS, f"{rule_id}|{observation_key}"))


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Tuning and test hooks. ``id_factory`` makes alert ids for tests; by default they
    come from :func:`alert_id_for` (uuid4 for alerts without an observation key)."""

    id_factory: Callable[[], str] | None = None
    plate_capacity: int = 200_000
    cooldown_capacity: int = 500_000
    recent_capacity: int = 100_000
    purge_every: int = 10_000
    """Evaluations between two housekeeping passes (also done by every ``tick``)."""


@dataclass(frozen=True, slots=True)
class _Rules:
    """The current rule set, compiled and split by kind; enabled rules only."""

    all: tuple[Rule, ...]
    watchlist: tuple[CompiledRule[WatchlistRule], ...]
    scene: tuple[CompiledRule[SceneRule], ...]
    health: tuple[CompiledRule[HealthRule], ...]
    cloned: tuple[tuple[CompiledRule[ClonedRule], ClonedCheck], ...]
    min_confidence: float
    """The lowest ``min_confidence`` of the cloned rules: reads below it are useless."""

    @classmethod
    def compile(cls, rules: Sequence[Rule]) -> _Rules:
        ids = [rule.id for rule in rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule id(s): {', '.join(dup)}")
        on = [rule for rule in rules if rule.enabled]
        cloned = [r for r in on if isinstance(r, ClonedRule)]
        return cls(
            tuple(rules),
            tuple(CompiledRule.compile(r) for r in on if isinstance(r, WatchlistRule)),
            tuple(CompiledRule.compile(r) for r in on if isinstance(r, SceneRule)),
            tuple(CompiledRule.compile(r) for r in on if isinstance(r, HealthRule)),
            tuple((CompiledRule.compile(r), ClonedCheck.compile(r)) for r in cloned),
            min((r.min_confidence for r in cloned), default=0.0),
        )

    def health_rule(self, rule_id: str) -> CompiledRule[HealthRule] | None:
        return next((c for c in self.health if c.rule.id == rule_id), None)

    def horizon(self) -> float:
        """How long a plate's last pass is worth keeping: the longest cloned window."""
        return max((check.rule.window for _, check in self.cloned), default=0.0)


class RuleEngine:
    """Evaluates observations against the rules; keeps cool-downs, plate passes, outages.

    Not thread-safe: one engine belongs to the one thread that consumes observations."""

    def __init__(self, rules: Sequence[Rule], cameras: Mapping[str, Camera],
                 lookup: WatchlistLookup, clock: Clock,
                 options: EngineOptions | None = None) -> None:
        self._options = options or EngineOptions()
        self._rules = _Rules.compile(rules)
        self._cameras: Mapping[str, Camera] = dict(cameras)
        self._positions = _positions(self._cameras)
        self._lookup = lookup
        self._clock = clock
        self._cooldowns = Cooldowns(self._options.cooldown_capacity)
        self._recent = RecentIds(self._options.recent_capacity)
        self._plates = PlateMemory(self._options.plate_capacity)
        self._outages = Outages()
        self._latest = float("-inf")
        self._since_purge = 0
        self._counts = {"evaluated": 0, "alerts": 0, "cooldown_suppressed": 0,
                        "repeat_suppressed": 0}

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules.all

    def replace_rules(self, rules: Sequence[Rule]) -> None:
        """Hot reload: new rules take effect at once; cool-downs, repeat memory and open
        outages of rules whose id still exists are kept, those of removed rules dropped.
        Plate passes are rule-independent and always kept."""
        compiled = _Rules.compile(rules)
        ids = {rule.id for rule in compiled.all}
        self._cooldowns.keep_rules(ids)
        self._recent.keep_rules(ids)
        self._outages.keep_rules(ids)
        self._rules = compiled
        log.info("rule engine: %d rule(s) loaded", len(ids))

    def replace_cameras(self, cameras: Mapping[str, Camera]) -> None:
        """Hot reload of cameras (names, groups, positions); all state is kept."""
        self._cameras = dict(cameras)
        self._positions = _positions(self._cameras)

    def stats(self) -> dict[str, int]:
        """Counters and state sizes, for metrics."""
        return {**self._counts, "cooldowns": len(self._cooldowns), "plates": len(self._plates),
                "outages": len(self._outages)}

    def evaluate(self, observation: Observation) -> list[Alert]:
        """Alerts raised by one observation (often none)."""
        self._counts["evaluated"] += 1
        if isinstance(observation, Sighting):
            at, key, found = observation.last_seen, observation.sighting_id, \
                self._sighting(observation)
        elif isinstance(observation, SceneEvent):
            at, key, found = observation.at, observation.event_id, self._scene(observation)
        else:
            at, key, found = observation.since, "", self._status(observation)
        self._latest = max(self._latest, at)
        alerts = self._raise(found, key)
        self._since_purge += 1
        if self._since_purge >= self._options.purge_every:
            self._housekeeping(self._clock.now())
        return alerts

    def tick(self, now: float | None = None) -> list[Alert]:
        """Let time pass (``now`` defaults to the clock): camera-health rules whose outage
        has lasted ``for`` seconds alert now. Call it about once a second."""
        at = self._clock.now() if now is None else now
        found: list[Candidate] = []
        for outage in self._outages.pending():
            compiled = self._rules.health_rule(outage.rule_id)
            candidate = None if compiled is None else self._due(compiled, outage, at)
            if candidate is not None:
                found.append(candidate)
        self._housekeeping(at)
        return self._raise(found, "")

    def _group(self, camera_id: str) -> str:
        camera = self._cameras.get(camera_id)
        return "" if camera is None else camera.group

    def _sighting(self, sighting: Sighting) -> list[Candidate]:
        if not sighting.plate:
            return []
        camera_id, at = sighting.camera_id, sighting.last_seen
        group = self._group(camera_id)
        found: list[Candidate] = []
        rules = [c for c in self._rules.watchlist if c.applies(camera_id, group, at)]
        if rules:
            hits = self._lookup(sighting.plate, camera_id, group, at)
            if hits:
                for compiled in rules:
                    found += watchlist_candidates(compiled, sighting, hits)
        if self._rules.cloned and sighting.final and not unknown_province(sighting.plate):
            found += self._cloned(sighting)  # "?A12345" is many plates, never a clone
        return found

    def _cloned(self, sighting: Sighting) -> list[Candidate]:
        """Final sightings only: an early vote may still change the plate, and a cloned
        plate is for review, not for speed. A read below every cloned rule's
        ``min_confidence`` is not remembered: a misread must not stand in for the plate."""
        current = Pass.of(sighting)
        previous = self._plates.previous(sighting.plate)
        if current.confidence >= self._rules.min_confidence:
            self._plates.remember(sighting.plate, current)
        if previous is None:
            return []
        found: list[Candidate] = []
        for compiled, check in self._rules.cloned:
            conflict = check.conflict(previous, current, self._positions)
            if conflict is None or not compiled.active(current.at):
                continue
            values = conflict_values(conflict, self._spot(current.camera_id),
                                     self._spot(previous.camera_id), compiled.offset)
            found.append(Candidate(
                compiled.rule, compiled.offset, compiled.rule.level, "cloned_plate",
                sighting.plate, current.at, sighting,
                {**values, "plate": sighting.plate, "plate_raw": sighting.plate_raw},
                review_only=True))
        return found

    def _scene(self, event: SceneEvent) -> list[Candidate]:
        group = self._group(event.camera_id)
        found: list[Candidate] = []
        for compiled in self._rules.scene:
            if compiled.applies(event.camera_id, group, event.at):
                candidate = scene_candidate(compiled, event)
                if candidate is not None:
                    found.append(candidate)
        return found

    def _status(self, status: CameraStatus) -> list[Candidate]:
        group = self._group(status.camera_id)
        found: list[Candidate] = []
        for compiled in self._rules.health:
            if not compiled.in_scope(status.camera_id, group):
                continue
            outage = self._outages.update(compiled.rule, status)
            if outage is not None and not outage.fired:
                candidate = self._due(compiled, outage, status.since)
                if candidate is not None:
                    found.append(candidate)
        return found

    def _due(self, compiled: CompiledRule[HealthRule], outage: Outage,
             now: float) -> Candidate | None:
        """The outage's candidate if it has lasted ``for`` seconds by ``now``. Raised at the
        moment it became due, or at ``now`` if the schedule was closed then."""
        rule = compiled.rule
        due = outage.since + rule.for_
        if now < due:
            return None
        at = due if compiled.active(due) else now if compiled.active(now) else None
        if at is None:
            return None
        outage.fired = True
        zh, en = label(CONDITION_LABELS, outage.condition)
        values: dict[str, Value] = {
            "condition": outage.condition, "condition_zh": zh, "condition_en": en,
            "duration": duration(at - outage.since),
            "since": local_time(outage.since, compiled.offset)}
        return Candidate(rule, compiled.offset, rule.level, "camera_health", outage.camera_id,
                         at, outage.status, values)

    def _raise(self, candidates: Iterable[Candidate], key: str) -> list[Alert]:
        """Apply repeat memory and cool-downs; build the alerts that remain."""
        alerts: list[Alert] = []
        raised: set[str] = set()
        for candidate in candidates:
            rule = candidate.rule
            if key and (rule.id, key) in self._recent:
                self._counts["repeat_suppressed"] += 1
                continue
            cooldown_key = (candidate.observation.camera_id, rule.id, candidate.subject)
            if not self._cooldowns.allows(cooldown_key, candidate.at, rule.cooldown):
                self._counts["cooldown_suppressed"] += 1
                continue
            self._cooldowns.record(cooldown_key, candidate.at, rule.cooldown)
            raised.add(rule.id)
            alerts.append(self._alert(candidate, key))
        for rule_id in raised if key else ():
            self._recent.add((rule_id, key))
        self._counts["alerts"] += len(alerts)
        return alerts

    def _spot(self, camera_id: str) -> Spot:
        camera = self._cameras.get(camera_id)
        if camera is None:
            return Spot(camera_id, camera_id)
        address = camera.location.address if camera.location else ""
        return Spot(camera.name, place_of(camera.name, address))

    def _alert_id(self, rule_id: str, key: str) -> str:
        factory = self._options.id_factory
        if factory is not None:
            return factory()
        return alert_id_for(rule_id, key) if key else str(uuid.uuid4())

    def _alert(self, candidate: Candidate, key: str) -> Alert:
        rule, camera_id = candidate.rule, candidate.observation.camera_id
        camera = self._cameras.get(camera_id)
        location = None if camera is None else camera.location
        name = camera_id if camera is None else camera.name
        address = "" if location is None else location.address
        common = {"camera": name, "camera_id": camera_id, "place": place_of(name, address),
                  "address": address, "time": local_time(candidate.at, candidate.offset),
                  "level": str(candidate.level), "rule": rule.id}
        zh, en = render(rule, {**common, **candidate.values})
        return Alert(
            alert_id=self._alert_id(rule.id, key), rule_id=rule.id, level=candidate.level,
            category=candidate.category, observation=candidate.observation,
            raised_at=candidate.at, summary_zh=zh, summary_en=en, subject=candidate.subject,
            camera_id=camera_id, camera_name=name, address=address,
            lon=None if location is None else location.lon,
            lat=None if location is None else location.lat,
            crs="WGS84" if location is None else location.crs,
            watchlist_entry_id=candidate.entry_id, review_only=candidate.review_only)

    def _housekeeping(self, now: float) -> None:
        """Expire cool-downs and plate passes. "Now" is the earlier of the clock and the
        latest event time seen, so replaying old recordings never expires live state."""
        self._since_purge = 0
        horizon = min(now, self._latest)
        if horizon == float("-inf"):
            return
        self._cooldowns.purge(horizon)
        self._plates.purge(horizon - self._rules.horizon())


def _positions(cameras: Mapping[str, Camera]) -> dict[str, Position]:
    return {cid: (cam.location.lon, cam.location.lat)
            for cid, cam in cameras.items() if cam.location is not None}
