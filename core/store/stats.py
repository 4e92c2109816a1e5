"""Per-alert response times for the console's statistics, read from the timeline.

The timeline is the record of what operators did and when, so SLA compliance is computed
from it (the first ``transition`` into signed, feedback or dismissed), not from the mutable
columns of the alert row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlalchemy as sa

from core.messages import AlertState
from core.store import schema
from core.store.engine import StoreBase

_A, _T = schema.alerts, schema.alert_timeline
_TRACKED = (AlertState.SIGNED.value, AlertState.FEEDBACK.value, AlertState.DISMISSED.value)


@dataclass(frozen=True, slots=True)
class AlertTimes:
    """When one alert was raised and first signed / given feedback / dismissed."""

    alert_id: str
    level: int
    state: AlertState
    raised_at: float
    signed_at: float | None = None
    feedback_at: float | None = None
    dismissed_at: float | None = None


class StatsStore(StoreBase):
    def alert_times(self, since: float, until: float) -> list[AlertTimes]:
        """Alerts raised in ``[since, until)`` with their first response times, oldest first."""
        first = sa.func.min(_T.c.at)
        joined = _A.outerjoin(_T, sa.and_(
            _T.c.alert_id == _A.c.alert_id, _T.c.kind == "transition",
            _T.c.to_state.in_(_TRACKED)))
        stmt = (sa.select(_A.c.alert_id, _A.c.level, _A.c.state, _A.c.created_at, _A.c.seq,
                          _T.c.to_state, first.label("first_at"))
                .select_from(joined)
                .where(_A.c.created_at >= since, _A.c.created_at < until)
                .group_by(_A.c.alert_id, _A.c.level, _A.c.state, _A.c.created_at, _A.c.seq,
                          _T.c.to_state)
                .order_by(_A.c.created_at, _A.c.seq))
        out: dict[str, AlertTimes] = {}
        with self.read() as conn:
            for row in conn.execute(stmt):
                times = out.get(row.alert_id) or AlertTimes(
                    row.alert_id, row.level, AlertState(row.state), row.created_at)
                if row.to_state is not None:
                    field = f"{row.to_state}_at"
                    times = replace(times, **{field: row.first_at})
                out[row.alert_id] = times
        return list(out.values())
