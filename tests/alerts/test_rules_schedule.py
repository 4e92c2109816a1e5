"""Rule schedules: day windows, overnight windows and UTC offsets, table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from alerts.rules_config import Schedule
from alerts.schedule import CompiledSchedule, local_day_minute


def posix(local: str, tz_hours: int = 8) -> float:
    """``"2024-05-03 22:00"`` at UTC+``tz_hours`` as POSIX seconds (2024-05-03 is a Friday)."""
    zone = timezone(timedelta(hours=tz_hours))
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=zone).timestamp()


def schedule(windows: list[str], days: list[str] | None = None,
             tz: str = "+08:00") -> CompiledSchedule:
    raw: dict[str, object] = {"windows": windows, "tz": tz}
    if days is not None:
        raw["days"] = days
    return CompiledSchedule.compile(Schedule.model_validate(raw))


CASES = [
    # windows, days, local time (+08:00 unless tz given), expected
    (["08:00-18:00"], None, "2024-05-03 08:00", True),
    (["08:00-18:00"], None, "2024-05-03 17:59", True),
    (["08:00-18:00"], None, "2024-05-03 18:00", False),
    (["08:00-18:00"], None, "2024-05-03 07:59", False),
    (["08:00-18:00"], ["sat", "sun"], "2024-05-03 12:00", False),
    (["08:00-18:00"], ["sat", "sun"], "2024-05-04 12:00", True),
    (["00:00-24:00"], ["fri"], "2024-05-03 23:59", True),
    (["00:00-24:00"], ["fri"], "2024-05-04 00:00", False),
    # overnight: belongs to the day it starts on
    (["22:00-06:00"], None, "2024-05-03 21:59", False),
    (["22:00-06:00"], None, "2024-05-03 22:00", True),
    (["22:00-06:00"], None, "2024-05-04 00:30", True),
    (["22:00-06:00"], None, "2024-05-04 05:59", True),
    (["22:00-06:00"], None, "2024-05-04 06:00", False),
    (["22:00-06:00"], ["fri"], "2024-05-03 23:00", True),
    (["22:00-06:00"], ["fri"], "2024-05-04 05:00", True),
    (["22:00-06:00"], ["fri"], "2024-05-03 05:00", False),
    (["22:00-06:00"], ["fri"], "2024-05-04 23:00", False),
    (["22:00-06:00"], ["sun"], "2024-05-06 03:00", True),
    # several windows
    (["07:00-09:00", "17:00-19:00"], None, "2024-05-03 12:00", False),
    (["07:00-09:00", "17:00-19:00"], None, "2024-05-03 18:30", True),
]


@pytest.mark.parametrize(("windows", "days", "local", "expected"), CASES)
def test_schedule_windows(windows: list[str], days: list[str] | None, local: str,
                          expected: bool) -> None:
    assert schedule(windows, days).active(posix(local)) is expected


def test_offsets_other_than_china() -> None:
    new_york = schedule(["09:00-17:00"], ["fri"], tz="-05:00")
    assert new_york.active(posix("2024-05-03 09:30", tz_hours=-5))
    assert not new_york.active(posix("2024-05-03 09:30", tz_hours=8))


@pytest.mark.parametrize(("local", "weekday", "minute"), [
    ("2024-05-03 00:00", 4, 0),       # Friday
    ("2024-05-05 23:59", 6, 1439),    # Sunday
    ("2024-05-06 07:30", 0, 450),     # Monday
    ("1970-01-01 08:00", 3, 480),     # the epoch, a Thursday, at +08:00
])
def test_local_day_minute(local: str, weekday: int, minute: int) -> None:
    assert local_day_minute(posix(local), 8 * 3600) == (weekday, minute)
