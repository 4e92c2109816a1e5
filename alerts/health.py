"""Camera outages for ``camera_health`` rules: bad for ``for`` seconds → one alert.

The engine is pure, so time passing without a message is seen through
:meth:`alerts.rules.RuleEngine.tick`. An outage starts at the ``since`` of the first bad
:class:`CameraStatus` and continues through further bad statuses (stalled → backoff →
connecting is one outage for a rule watching ``offline``); it ends, and the rule re-arms,
at the first status the rule does not consider bad. Each outage alerts at most once.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.rules_config import HealthRule
from core.messages import CameraHealth, CameraState, CameraStatus

STATE_CONDITIONS: dict[str, frozenset[CameraState]] = {
    "offline": frozenset({CameraState.CONNECTING, CameraState.STALLED, CameraState.BACKOFF}),
    "stalled": frozenset({CameraState.STALLED}),
    "backoff": frozenset({CameraState.BACKOFF}),
}
"""``states:`` values. ``stopped`` and ``disabled`` are deliberate and never an outage."""


def condition(rule: HealthRule, status: CameraStatus) -> str | None:
    """The first of the rule's conditions ``status`` meets, or ``None`` if it is fine.

    Picture health (``frozen``, ``black``…) counts only while streaming: a stalled camera's
    last health value is stale."""
    for name in rule.states:
        if status.state in STATE_CONDITIONS[name]:
            return name
    if status.state is CameraState.STREAMING and status.health is not CameraHealth.OK:
        value = str(status.health.value)
        if value in rule.health:
            return value
    return None


@dataclass(slots=True)
class Outage:
    """One camera being bad for one rule. ``status`` is the latest bad status seen."""

    rule_id: str
    camera_id: str
    since: float
    status: CameraStatus
    condition: str
    fired: bool = False


class Outages:
    """Open outages per (rule id, camera id)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], Outage] = {}

    def __len__(self) -> int:
        return len(self._open)

    def update(self, rule: HealthRule, status: CameraStatus) -> Outage | None:
        """Record ``status``; the open outage it belongs to, or ``None`` (re-armed)."""
        key = (rule.id, status.camera_id)
        found = condition(rule, status)
        if found is None:
            self._open.pop(key, None)
            return None
        outage = self._open.get(key)
        if outage is None:
            outage = Outage(rule.id, status.camera_id, status.since, status, found)
            self._open[key] = outage
        else:
            outage.status, outage.condition = status, found
        return outage

    def pending(self) -> list[Outage]:
        """Open outages that have not alerted yet."""
        return [outage for outage in self._open.values() if not outage.fired]

    def keep_rules(self, rule_ids: set[str]) -> None:
        """Forget outages of rules that no longer exist (after a reload)."""
        for key in [k for k in self._open if k[0] not in rule_ids]:
            del self._open[key]
