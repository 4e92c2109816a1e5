"""Watchlists without a rule: the built-in rule, and the warning naming uncovered files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alerts.rules_config import SceneRule, WatchlistRule
from alerts.rules_default import DEFAULT_WATCHLIST_RULE, coverage_warning, uncovered
from alerts.watchlist import Category, WatchlistEntry
from core.config import load_config
from vigil.alerting import rules_for

ROOT = Path(__file__).resolve().parents[2]
CAMERAS = "cameras:\n  - {id: gate-1, name: 一号卡口, group: gates, url: rtsp://127.0.0.1/x}\n"
CSV = ("plate,category,level,reason,applicant,unit,valid_until,scope,strictness\n"
       "京A12345,stolen,1,盗抢车辆,test,测试分局,,all,strict\n"
       "沪B88888,key_vehicle,3,重点管控,test,测试分局,,all,strict\n")


def entry(category: Category, level: int, source: str = "a.csv") -> WatchlistEntry:
    return WatchlistEntry(f"{source}-{category}-{level}", "京A12345", None, category, level,
                          "why", "test", source=source)


def test_the_built_in_rule_takes_every_category_and_level() -> None:
    entries = [entry(c, level) for c in Category for level in (1, 2, 3, 4)]
    assert uncovered([DEFAULT_WATCHLIST_RULE], entries) == {}
    assert coverage_warning([DEFAULT_WATCHLIST_RULE], entries) is None
    assert DEFAULT_WATCHLIST_RULE.level_from_entry and not DEFAULT_WATCHLIST_RULE.cameras


def test_entries_no_rule_matches_are_counted_per_file() -> None:
    stolen_only = WatchlistRule(id="s", kind="watchlist", level=1, categories=["stolen"],
                                min_level=2)
    scene = SceneRule(id="z", kind="scene", level=2, events=["intrusion"])
    entries = [entry(Category.STOLEN, 1), entry(Category.STOLEN, 3),
               entry(Category.WANTED, 1, "b.csv"), entry(Category.WANTED, 1, "")]
    assert uncovered([stolen_only, scene], entries) == {"a.csv": 1, "b.csv": 1, "console": 1}
    warning = coverage_warning([scene], entries)
    assert warning is not None and "a.csv (2 entries), b.csv (1 entry)" in warning
    disabled = stolen_only.model_copy(update={"enabled": False})
    assert uncovered([disabled], [entry(Category.STOLEN, 1)]) == {"a.csv": 1}


def write_config(folder: Path, rules: str | None) -> Path:
    (folder / "cameras").mkdir(parents=True)
    (folder / "cameras" / "cams.yaml").write_text(CAMERAS, encoding="utf-8")
    (folder / "watchlists").mkdir()
    (folder / "watchlists" / "stolen.csv").write_text(CSV, encoding="utf-8")
    if rules is not None:
        (folder / "rules.yaml").write_text(rules, encoding="utf-8")
    return folder


def validate(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vigil.cli", "validate-config", str(folder)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.slow  # the CLI in a subprocess
def test_no_rules_file_means_the_built_in_rule(tmp_path: Path) -> None:
    folder = write_config(tmp_path / "c", None)
    assert rules_for(folder, load_config(folder).cameras) == (DEFAULT_WATCHLIST_RULE,)
    done = validate(folder)
    assert done.returncode == 0 and "warning" not in done.stderr


@pytest.mark.slow  # the CLI in a subprocess
def test_validate_config_warns_about_a_watchlist_no_rule_covers(tmp_path: Path) -> None:
    done = validate(write_config(tmp_path / "c", "rules: []\n"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rules.yaml: warning: watchlist entries that no rule" in done.stderr
    assert "stolen.csv (2 entries)" in done.stderr
    assert "configuration is valid" in done.stdout
