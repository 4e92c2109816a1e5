"""Watchlist files: CSV and YAML import/export, directory loading and hot reload.

Files are how a centre bulk-loads lists handed over by another unit, so import is strict and
all-or-nothing: every row is checked, every problem is reported as ``source:row: field: why``
(the shape editors and CI turn into links), and one bad row rejects the whole file — a list
that is half loaded looks loaded and silently misses the rest. Reloads keep the running list
when the new files are bad. The format is documented in docs/watchlists.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

from alerts.csv_cells import unescape_cell
from alerts.matching import Strictness
from alerts.watchlist import (
    CATEGORY_ALIASES,
    NETWORK_WIDE,
    Category,
    DeployRequest,
    Watchlist,
    WatchlistEntry,
    check_request,
    deploy,
    parse_scope,
)
from core.config.problems import Problem
from core.config.yamlpos import YamlProblems, load_yaml
from core.errors import ConfigError, FatalError
from core.plates import normalize

log = logging.getLogger(__name__)

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
"""Times written without an offset are Beijing time (no DST since 1991)."""
REQUIRED = ("plate", "category", "level", "reason")
OPTIONAL = ("applicant", "unit", "valid_from", "valid_until", "scope", "strictness",
            "entry_id")
COLUMNS = ("entry_id", *REQUIRED, *OPTIONAL[:-1])
"""Column order written by :func:`alerts.watchlist_export.export_csv`."""
SUFFIXES = (".csv", ".yaml", ".yml")
_COMPACT_TIME = re.compile(r"^\d{14}$")
LineOf = Callable[[str], int | None]
T = TypeVar("T")


class WatchlistImportError(ConfigError):
    """A watchlist file (or directory) was rejected; ``problems`` lists every
    ``source:row: field: why`` line. Nothing from the rejected input was loaded."""


def parse_time(text: str, tz: dt.tzinfo = CHINA_TZ) -> float:
    """ISO 8601 (``2026-11-01``, ``2026-11-01T08:00+08:00``) or GA/T 1400 ``yyyyMMddHHmmss``
    to POSIX seconds; times without an offset are in ``tz``. ``ValueError`` if neither."""
    value = text.strip()
    try:
        if _COMPACT_TIME.match(value):
            parsed = dt.datetime.strptime(value, "%Y%m%d%H%M%S")
        else:
            parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a time; write ISO 8601 (2026-11-01T08:00+08:00) "
                         "or yyyyMMddHHmmss") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.timestamp()


def format_time(seconds: float, tz: dt.tzinfo = CHINA_TZ) -> str:
    """POSIX seconds as ISO 8601 with ``tz``'s offset (what :func:`parse_time` reads back)."""
    return dt.datetime.fromtimestamp(seconds, tz).isoformat()


def default_entry_id(source_name: str, target: str) -> str:
    """Stable id for a row without ``entry_id``: the same file and plate give the same id on
    every load, so alerts and audit records keep pointing at the entry across reloads."""
    digest = hashlib.sha256(f"{source_name}\n{normalize(target)}".encode()).hexdigest()
    return f"wl-{digest[:16]}"


def _category(text: str) -> Category:
    value = text.strip()
    if value in CATEGORY_ALIASES:
        return CATEGORY_ALIASES[value]
    try:
        return Category(value.lower())
    except ValueError:
        names = ", ".join(c.value for c in Category)
        raise ValueError(f"'{value}' is not a category; use one of {names}") from None


def _level(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not a level; use 1 (most urgent) to 4") from None


def _strictness(text: str) -> Strictness:
    try:
        return Strictness(text.lower() or "strict")
    except ValueError:
        raise ValueError(f"'{text}' is not a strictness; use exact, strict or loose") from None


class _Cells:
    """One row's cells; :meth:`get` parses a cell and records why it could not."""

    def __init__(self, cells: Mapping[str, str]) -> None:
        self.cells = cells
        self.problems: list[tuple[str, str]] = []

    def get(self, name: str, parse: Callable[[str], T], fallback: T) -> T:
        try:
            return parse(self.text(name))
        except ValueError as exc:
            self.problems.append((name, str(exc)))
            return fallback

    def text(self, name: str) -> str:
        return self.cells.get(name, "").strip()


def request_from_cells(cells: Mapping[str, str], source_name: str,
             tz: dt.tzinfo) -> tuple[DeployRequest | None, list[tuple[str, str]]]:
    """The deploy request one row describes, or every ``(field, why)`` wrong with it."""
    row = _Cells(cells)
    target = row.text("plate")
    request = DeployRequest(
        target=target, category=row.get("category", _category, Category.CUSTOM),
        level=row.get("level", _level, 0), reason=row.text("reason"),
        applicant=row.text("applicant") or f"file:{source_name}", unit=row.text("unit"),
        valid_from=row.get("valid_from", lambda t: parse_time(t, tz) if t else None, None),
        valid_until=row.get("valid_until", lambda t: parse_time(t, tz) if t else None, None),
        scope=row.get("scope", parse_scope, NETWORK_WIDE),
        strictness=row.get("strictness", _strictness, Strictness.STRICT),
        entry_id=row.text("entry_id") or default_entry_id(source_name, target),
        source=source_name,
    )
    failed = {name for name, _ in row.problems}
    problems = row.problems + [p for p in check_request(request) if p[0] not in failed]
    return (None if problems else request), problems


def _entries(rows: Iterable[tuple[Mapping[str, str], LineOf]], source_name: str,
             tz: dt.tzinfo) -> list[WatchlistEntry]:
    """Entries for every row, or :class:`WatchlistImportError` listing every problem."""
    problems: list[Problem] = []
    entries: list[WatchlistEntry] = []
    first_line: dict[str, int | None] = {}
    for cells, line_of in rows:
        request, found = request_from_cells(cells, source_name, tz)
        problems += [Problem(source_name, line_of(f), (f,), why) for f, why in found]
        if request is None or found:
            continue
        entry_id = request.entry_id or ""
        if entry_id in first_line:
            field = "entry_id" if cells.get("entry_id", "").strip() else "plate"
            why = (f"{entry_id} is used twice (first at row {first_line[entry_id]})"
                   if field == "entry_id" else f"{request.target} is listed twice (first at "
                   f"row {first_line[entry_id]}); give each row its own entry_id to keep both")
            problems.append(Problem(source_name, line_of(field), (field,), why))
            continue
        first_line[entry_id] = line_of("plate")
        entries.append(deploy(request))
    if problems:
        raise WatchlistImportError([str(p) for p in problems])
    return entries


def _header(header: list[str], source_name: str) -> list[str]:
    names = [name.strip().lower() for name in header]
    problems = [f"{source_name}:1: {name or '(empty)'}: unknown column; columns are "
                f"{', '.join(REQUIRED + OPTIONAL)}"
                for name in names if name not in REQUIRED + OPTIONAL]
    counts = Counter(names)  # (names.count per name was quadratic: 100,000 columns hung)
    problems += [f"{source_name}:1: {name}: column appears twice"
                 for name in sorted(n for n, seen in counts.items() if seen > 1)]
    problems += [f"{source_name}:1: {name}: required column is missing"
                 for name in REQUIRED if name not in names]
    if problems:
        raise WatchlistImportError(problems)
    return names


def _at_line(line: int) -> LineOf:
    """A CSV row is one line: every field of it is reported there."""
    return lambda _field: line


def _records(reader: Iterator[list[str]], source_name: str) -> Iterator[list[str]]:
    """The reader's rows; a malformed file (NUL bytes, a runaway quote) is a file problem."""
    try:
        yield from reader
    except csv.Error as exc:
        line = getattr(reader, "line_num", 0)
        raise WatchlistImportError([f"{source_name}:{line}: cannot read CSV: {exc}"]) from exc


def _csv_rows(text: str, source_name: str) -> list[tuple[Mapping[str, str], LineOf]]:
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    records = _records(reader, source_name)
    header = next(records, None)
    if header is None:
        raise WatchlistImportError([f"{source_name}:1: file is empty; the first line must be "
                                    f"the header {','.join(REQUIRED)}"])
    names = _header(header, source_name)
    rows: list[tuple[Mapping[str, str], LineOf]] = []
    for cells in records:
        line = reader.line_num
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) > len(names):
            raise WatchlistImportError([f"{source_name}:{line}: row has {len(cells)} cells but "
                                        f"the header has {len(names)}; quote cells holding ','"])
        plain = [unescape_cell(c) for c in cells]  # our export quotes formula-like cells
        rows.append((dict(zip(names, plain, strict=False)), _at_line(line)))
    return rows


def import_csv(text: str, source_name: str, tz: dt.tzinfo = CHINA_TZ) -> list[WatchlistEntry]:
    """Entries of a CSV watchlist (header ``plate,category,level,reason`` plus any optional
    columns; empty lines and lines starting with ``#`` are skipped). ``source_name`` names the
    file in messages and seeds default entry ids. Raises :class:`WatchlistImportError`."""
    return _entries(_csv_rows(text, source_name), source_name, tz)


def _cell(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def import_yaml(text: str, source_name: str, tz: dt.tzinfo = CHINA_TZ) -> list[WatchlistEntry]:
    """Entries of a YAML watchlist: ``entries:`` holding a list of mappings whose keys are the
    CSV columns. Problems name the line of the offending key."""
    try:
        doc = load_yaml(text, source_name)
    except YamlProblems as exc:
        raise WatchlistImportError(exc.problems) from exc
    data = doc.data
    items = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(items, list) or (isinstance(data, dict) and set(data) != {"entries"}):
        raise WatchlistImportError([f"{source_name}:{doc.line_of(())}: the file must hold "
                                    "exactly one key, entries: a list of entries"])
    rows: list[tuple[Mapping[str, str], LineOf]] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        def line_of(field: str, i: int = index) -> int | None:
            return doc.line_of(("entries", i, field))
        if not isinstance(item, dict):
            problems.append(f"{source_name}:{line_of('')}: entry must be a mapping")
            continue
        problems += [f"{source_name}:{line_of(k)}: {k}: unknown key; keys are "
                     f"{', '.join(REQUIRED + OPTIONAL)}" for k in item if k not in COLUMNS]
        problems += [f"{source_name}:{line_of('')}: {k}: required key is missing"
                     for k in REQUIRED if k not in item]
        rows.append(({k: _cell(v) for k, v in item.items()}, line_of))
    if problems:
        raise WatchlistImportError(problems)
    return _entries(rows, source_name, tz)


def _read_text(path: Path) -> str:
    """UTF-8 (BOM allowed); else GB18030, which is what Excel on Chinese Windows saves."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        log.info("watchlist %s is not UTF-8; reading it as GB18030", path)
        return raw.decode("gb18030")


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise WatchlistImportError([f"{directory}: watchlist directory does not exist"])
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in SUFFIXES)


def load_watchlist_dir(directory: str | Path) -> list[WatchlistEntry]:
    """Every entry of ``directory/*.csv|*.yaml|*.yml``, all files or none: problems of every
    file (and ids used in two files) are raised together as :class:`WatchlistImportError`."""
    problems: list[str] = []
    entries: list[WatchlistEntry] = []
    owner: dict[str, str] = {}
    for path in _files(Path(directory)):
        reader = import_csv if path.suffix.lower() == ".csv" else import_yaml
        try:
            found = reader(_read_text(path), path.name)
        except WatchlistImportError as exc:
            problems += exc.problems
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: cannot read file: {exc}")
            continue
        for entry in found:
            if entry.entry_id in owner:
                problems.append(f"{path.name}: entry_id: {entry.entry_id} is also in "
                                f"{owner[entry.entry_id]}; ids must be unique across files")
            owner[entry.entry_id] = path.name
        entries += found
    if problems:
        raise WatchlistImportError(problems)
    return entries


Stamp = tuple[tuple[str, int, int], ...]


class WatchlistWatcher:
    """Hot reload of a watchlist directory by polling file names, mtimes and sizes.

    The constructor loads once and raises on bad files (config fails early). Afterwards a bad
    edit is logged with every problem, kept in :attr:`last_error`, and the running list stays;
    the same bad state is not reported again until a file changes. ``on_reload`` is called
    with the new :class:`Watchlist` after each successful reload.
    """

    def __init__(self, directory: str | Path,
                 on_reload: Callable[[Watchlist], None] | None = None) -> None:
        self.directory = Path(directory)
        self.on_reload = on_reload
        self.last_error: str | None = None
        self._stamp = self._current_stamp()
        self.entries = tuple(load_watchlist_dir(self.directory))
        self.watchlist = Watchlist(self.entries)

    def _current_stamp(self) -> Stamp:
        stats = [(p.name, p.stat()) for p in _files(self.directory)]
        return tuple((name, st.st_mtime_ns, st.st_size) for name, st in stats)

    def poll(self) -> bool:
        """Reload if any file changed since the last poll; True when a new list is live."""
        try:
            stamp = self._current_stamp()
        except (OSError, WatchlistImportError) as exc:
            return self._failed(None, str(exc))
        if stamp == self._stamp:
            return False
        try:
            entries = tuple(load_watchlist_dir(self.directory))
            watchlist = Watchlist(entries)
        except (OSError, FatalError) as exc:
            return self._failed(stamp, str(exc))
        self._stamp, self.entries, self.watchlist = stamp, entries, watchlist
        self.last_error = None
        log.info("watchlists reloaded from %s: %d entries", self.directory, len(entries))
        if self.on_reload is not None:
            self.on_reload(watchlist)
        return True

    def _failed(self, stamp: Stamp | None, message: str) -> bool:
        if message != self.last_error:
            log.error("watchlist reload from %s failed; keeping the %d running entries:\n%s",
                      self.directory, len(self.entries), message)
        self.last_error = message
        if stamp is not None:
            self._stamp = stamp
        return False

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        """Poll every ``interval`` seconds until ``stop`` is set (run it in a thread)."""
        while not stop.wait(interval):
            self.poll()
