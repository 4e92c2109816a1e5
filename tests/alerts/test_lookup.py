"""The real watchlist behind the rule engine: demo CSV row → alert for an exact and a misread."""

from __future__ import annotations

import uuid

from alerts.lookup import watchlist_lookup
from alerts.rules import RuleEngine
from alerts.rules_loader import parse_rules
from alerts.watchlist import Watchlist
from alerts.watchlist_io import import_csv
from core.clock import FakeClock
from core.config.models import Camera
from core.messages import Sighting

CSV = "plate,category,level,reason\n京A12345,stolen,1,2026-11 盗抢车辆\n"
RULES = "rules:\n  - {id: hit, kind: watchlist, level: 2, cooldown: 60}\n"


def engine() -> RuleEngine:
    watchlist = Watchlist(import_csv(CSV, "test.csv"))
    cameras = {"gate-3": Camera(id="gate-3", name="Gate 3", group="skynet", url="rtsp://h/s")}
    rules = parse_rules(RULES, "rules.yaml", cameras.keys())
    return RuleEngine(rules, cameras, watchlist_lookup(lambda: watchlist), FakeClock(2e9))


def sighting(plate: str, at: float) -> Sighting:
    return Sighting(uuid.uuid4().hex, "gate-3", plate, plate, "ordinary_7", "blue", 0.95, at, at)


def test_exact_and_single_confusion_reads_alert_and_others_do_not() -> None:
    rules = engine()
    exact = rules.evaluate(sighting("京A12345", 2e9))
    assert [(a.category, a.subject, a.level) for a in exact] == [("stolen", "京A12345", 1)]
    assert exact[0].watchlist_entry_id
    misread = engine().evaluate(sighting("京A1234S", 2e9))  # 5 read as S
    assert [a.subject for a in misread] == ["京A12345"]
    assert engine().evaluate(sighting("京B67890", 2e9)) == []
