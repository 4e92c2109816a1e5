"""Human-readable alert summaries in Chinese and English.

The operator reads the summary first, often on a wall screen: it names the subject, what
happened and the place (the camera's address, or its name when it has none). Each rule may
override the default template per language; the placeholders a kind provides are listed
in :data:`alerts.rules_config.KIND_FIELDS` and checked when rules are loaded, so rendering
never fails. Values are text; a value given as ``(zh, en)`` differs per language
(durations: "5 分钟" / "5 min").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

from alerts.rules_config import Rule

Value = str | tuple[str, str]
Values = Mapping[str, Value]

DEFAULTS: dict[str, tuple[str, str]] = {
    "watchlist": ("布控车辆 {plate}（{category_zh}）出现在 {place}{match_zh}",
                  "Watchlisted vehicle {plate} ({category_en}) seen at {place}{match_en}"),
    "scene": ("{place} 发生{kind_zh}{detail_zh}", "{kind_en} at {place}{detail_en}"),
    "camera_health": ("摄像机 {camera} {condition_zh}已持续 {duration}",
                      "Camera {camera} {condition_en} for {duration}"),
    "cloned_plate": ("疑似套牌 {plate}：{detail_zh}", "Possible cloned plate {plate}: {detail_en}"),
}
"""Default ``(zh, en)`` templates per rule kind."""

CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "stolen": ("盗抢车辆", "stolen"),
    "wanted": ("涉案车辆", "wanted"),
    "suspect": ("嫌疑车辆", "suspect"),
    "cloned": ("套牌车辆", "cloned plate"),
    "fake": ("假牌车辆", "fake plate"),
    "overdue": ("逾期未检验", "overdue inspection"),
    "scrapped": ("报废车辆", "scrapped"),
    "vip": ("重点关注", "of interest"),
}
SCENE_LABELS: dict[str, tuple[str, str]] = {
    "intrusion": ("区域入侵", "Intrusion"),
    "line_cross": ("越线", "Line crossing"),
    "loitering": ("徘徊", "Loitering"),
    "crowd": ("人员聚集", "Crowding"),
    "tamper": ("摄像机遭遮挡或破坏", "Camera tampering"),
}
CONDITION_LABELS: dict[str, tuple[str, str]] = {
    "offline": ("离线", "offline"),
    "stalled": ("视频中断", "stream stalled"),
    "backoff": ("重连失败", "failing to reconnect"),
    "frozen": ("画面冻结", "picture frozen"),
    "black": ("黑屏", "picture black"),
    "blank": ("画面无内容", "picture blank"),
    "degraded": ("画质下降", "picture degraded"),
    "tamper": ("疑似遭遮挡", "tampered with"),
}
OBJECT_LABELS: dict[str, tuple[str, str]] = {
    "person": ("行人", "person"),
    "car": ("汽车", "car"),
    "truck": ("货车", "truck"),
    "bus": ("客车", "bus"),
    "motorcycle": ("摩托车", "motorcycle"),
    "bicycle": ("自行车", "bicycle"),
}
COLOUR_LABELS: dict[str, tuple[str, str]] = {
    "blue": ("蓝牌", "blue"),
    "yellow": ("黄牌", "yellow"),
    "green": ("绿牌", "green"),
    "yellow_green": ("黄绿牌", "yellow-green"),
    "white": ("白牌", "white"),
    "black": ("黑牌", "black"),
}


def label(table: Mapping[str, tuple[str, str]], key: str) -> tuple[str, str]:
    """The ``(zh, en)`` label of ``key``; an unknown key is shown as written."""
    return table.get(key, (key, key))


def place_of(camera_name: str, address: str) -> str:
    """Where it happened, as an operator says it: the address, else the camera's name."""
    return address or camera_name


def local_time(at: float, offset: int) -> str:
    """``HH:MM:SS`` of POSIX time ``at`` at a fixed UTC offset (seconds east)."""
    zone = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(at, UTC).astimezone(zone).strftime("%H:%M:%S")


def duration(seconds: float) -> tuple[str, str]:
    """``(zh, en)`` text of a duration: 45 秒 / 45 s, 5 分钟 / 5 min, 2 小时 5 分钟 / 2 h 5 min."""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} 秒", f"{total} s"
    hours, minutes = divmod(total // 60, 60)
    if hours == 0:
        return f"{minutes} 分钟", f"{minutes} min"
    if minutes == 0:
        return f"{hours} 小时", f"{hours} h"
    return f"{hours} 小时 {minutes} 分钟", f"{hours} h {minutes} min"


def render(rule: Rule, values: Values) -> tuple[str, str]:
    """The rule's ``(summary_zh, summary_en)``: its own templates, else the kind's default.

    Placeholders were checked against the kind's fields at load time; a value the caller
    did not supply renders empty rather than failing an alert that must be raised."""
    zh_default, en_default = DEFAULTS[rule.kind]
    zh = (rule.summary_zh or zh_default).format_map(_Language(values, 0))
    en = (rule.summary_en or en_default).format_map(_Language(values, 1))
    return zh, en


class _Language(dict[str, str]):
    """``format_map`` view of ``values`` in one language (0 = zh, 1 = en)."""

    def __init__(self, values: Values, index: int) -> None:
        super().__init__({key: value if isinstance(value, str) else value[index]
                          for key, value in values.items()})

    def __missing__(self, key: str) -> str:
        return ""
