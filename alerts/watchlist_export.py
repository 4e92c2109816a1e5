"""Watchlist export (CSV and YAML), the inverse of :mod:`alerts.watchlist_io`'s import.

Exports are opened in spreadsheets, so every CSV cell that starts like a formula is
prefixed with ``'`` (:mod:`alerts.csv_cells`); the import takes the quote off again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

import yaml

from alerts.csv_cells import escape_cell
from alerts.watchlist import WatchlistEntry
from alerts.watchlist_io import CHINA_TZ, COLUMNS, format_time


def _row(entry: WatchlistEntry, tz: dt.tzinfo) -> dict[str, str]:
    def when(seconds: float | None) -> str:
        return "" if seconds is None else format_time(seconds, tz)
    return {
        "entry_id": entry.entry_id, "plate": entry.target, "category": entry.category.value,
        "level": str(entry.level), "reason": entry.reason, "applicant": entry.applicant,
        "unit": entry.unit, "valid_from": when(entry.valid_from),
        "valid_until": when(entry.valid_until), "scope": str(entry.scope),
        "strictness": entry.strictness.value,
    }


def export_csv(entries: Iterable[WatchlistEntry], tz: dt.tzinfo = CHINA_TZ) -> str:
    """The deploy fields of ``entries`` as CSV that ``import_csv`` reads back, with
    formula-like cells escaped. Status and approval history are not part of the file
    format: export the entries you want live."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")  # RFC 4180
    writer.writeheader()
    writer.writerows({k: escape_cell(v) for k, v in _row(entry, tz).items()}
                     for entry in entries)
    return out.getvalue()


def export_yaml(entries: Iterable[WatchlistEntry], tz: dt.tzinfo = CHINA_TZ) -> str:
    """Like :func:`export_csv`, as YAML for ``import_yaml``; empty fields are left out
    (YAML is not opened as a spreadsheet: no escaping)."""
    items = [{**{k: v for k, v in _row(e, tz).items() if v}, "level": e.level} for e in entries]
    return yaml.safe_dump({"entries": items}, allow_unicode=True, sort_keys=False)
