"""Rule schedules compiled once, then checked per observation with integer arithmetic.

A schedule is evaluated for every sighting on every rule, so it avoids ``datetime``: the
local day and minute come straight from the POSIX time plus a fixed UTC offset (China has
one zone and no daylight saving time, so a fixed offset is exact there).
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.rules_config import Schedule, offset_seconds, window_minutes
from core.config.models import ALL_DAYS

DAY_SECONDS = 86_400
EPOCH_WEEKDAY = 3
"""1970-01-01 was a Thursday; Monday is 0."""


def local_day_minute(at: float, offset: int) -> tuple[int, int]:
    """Weekday (Monday = 0) and minute after midnight of POSIX time ``at`` at ``offset``."""
    local = int(at // 1) + offset
    day, second = divmod(local, DAY_SECONDS)
    return (day + EPOCH_WEEKDAY) % 7, second // 60


@dataclass(frozen=True, slots=True)
class CompiledSchedule:
    """``days``: weekdays (Monday = 0) on which a window *starts*; ``spans``: minutes after
    local midnight, end exclusive; an end at or before the start runs past midnight."""

    days: frozenset[int]
    spans: tuple[tuple[int, int], ...]
    offset: int

    @classmethod
    def compile(cls, schedule: Schedule) -> CompiledSchedule:
        days = frozenset(ALL_DAYS.index(day) for day in schedule.days)
        spans = tuple(window_minutes(window) for window in schedule.windows)
        return cls(days, spans, offset_seconds(schedule.tz))

    def active(self, at: float) -> bool:
        """Whether POSIX time ``at`` falls in one of the windows."""
        weekday, minute = local_day_minute(at, self.offset)
        today = weekday in self.days
        yesterday = (weekday - 1) % 7 in self.days
        for start, end in self.spans:
            if start < end:
                if today and start <= minute < end:
                    return True
            elif (today and minute >= start) or (yesterday and minute < end):
                return True
        return False
