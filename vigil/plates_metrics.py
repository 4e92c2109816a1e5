"""Accuracy bookkeeping for plate reading: labels, alignment, per-kind statistics, report.

Pure (no model, no files except the labels CSV) so that the numbers the README quotes come
from code that is itself tested. Definitions:

* full-string accuracy — the read text equals the label exactly (after normalisation);
* per-character accuracy — Σ max(0, len(label) − edit distance) / Σ len(label): a missing or
  extra character costs one, like a wrong one, so a read that drops the province is not
  "6 of 7 right" shifted out of place;
* detection recall (scenes) — a detected plate's box has IoU ≥ 0.5 with the labelled box;
  an undetected plate counts as wrong for the other two figures;
* colour / type / class accuracy — the reader's colour, GA 36 format (``core.plates.FORMATS``
  name) and GA 24.7 class code equal the label's, over the rows that carry that label (the
  special-plate bench, bench/plates_special.py, labels all three; the real data only colour);
* confusions — character substitutions from the edit-distance alignment, most common first
  (``"_"`` stands for a missing or extra character).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from core.messages import Box

GAP = "_"
KNOWN_COLORS = frozenset({"blue", "green", "yellow", "white", "black", "yellow_green"})
"""Label colours that are scored; anything else in the column (empty, "green(8-char)") is not."""


@dataclass(frozen=True, slots=True)
class LabelRow:
    """One labelled plate: a crop, or a scene with the plate's box. ``plate_type`` is the
    plate's colour (the CSV column's historical name); ``plate_format`` and ``plate_class``
    the GA 36 format and GA 24.7 code when known (``""``: not scored)."""

    file: str
    plate: str
    kind: str
    bbox: Box | None
    plate_type: str
    plate_format: str = ""
    plate_class: str = ""


def load_labels(path: Path) -> list[LabelRow]:
    """Rows of a ``labels.csv`` (columns: file, plate, kind, bbox, plate_type, …)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = []
        for raw in csv.DictReader(handle):
            box = None
            if raw.get("bbox"):
                x1, y1, x2, y2 = (float(v) for v in raw["bbox"].split(","))
                box = (x1, y1, x2, y2)
            rows.append(LabelRow(raw["file"], raw["plate"], raw["kind"], box,
                                 raw.get("plate_type") or ""))
    return rows


def align(truth: str, read: str) -> tuple[int, list[tuple[str, str]]]:
    """Edit distance and the (truth, read) pairs that differ along one cheapest alignment;
    a missing or extra character pairs with :data:`GAP`."""
    rows, cols = len(truth) + 1, len(read) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            change = cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1])
            cost[i][j] = min(change, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    return cost[-1][-1], _backtrace(cost, truth, read)


def _backtrace(cost: list[list[int]], truth: str, read: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    i, j = len(truth), len(read)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and cost[i][j] == cost[i - 1][j - 1] + (truth[i - 1] != read[j - 1]):
            if truth[i - 1] != read[j - 1]:
                pairs.append((truth[i - 1], read[j - 1]))
            i, j = i - 1, j - 1
        elif i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            pairs.append((truth[i - 1], GAP))
            i -= 1
        else:
            pairs.append((GAP, read[j - 1]))
            j -= 1
    return pairs[::-1]


@dataclass(slots=True)
class KindStats:
    """Running totals for one kind of sample (crops or scenes)."""

    kind: str
    samples: int = 0
    exact: int = 0
    chars_right: int = 0
    chars_total: int = 0
    detected: int = 0
    extra_detections: int = 0
    colors_known: int = 0
    colors_right: int = 0
    types_known: int = 0
    types_right: int = 0
    classes_known: int = 0
    classes_right: int = 0
    seconds: float = 0.0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, row: LabelRow, read: str | None, color: str | None = None,
            why: str = "<no plate found>") -> None:
        """Count one sample; ``read`` is ``None`` when no plate was found for it (``why``
        says so in the list of failures)."""
        self.samples += 1
        self.chars_total += len(row.plate)
        if read is not None:
            self.detected += 1
        text = read or ""
        distance, pairs = align(row.plate, text)
        self.chars_right += max(0, len(row.plate) - distance)
        self.confusions.update(pairs)
        if text == row.plate:
            self.exact += 1
        else:
            shown = why if read is None else text or "<empty>"
            self.failures.append((row.file, row.plate, shown))
        if row.plate_type in KNOWN_COLORS:
            self.colors_known += 1
            self.colors_right += color == row.plate_type

    def add_type(self, row: LabelRow, plate_format: str | None, plate_class: str | None
                 ) -> None:
        """Score the reader's GA 36 format and GA 24.7 class for a row counted by :meth:`add`
        (``None``: no plate found, wrong when the row has a label); unlabelled rows are
        skipped."""
        if row.plate_format:
            self.types_known += 1
            self.types_right += plate_format == row.plate_format
        if row.plate_class:
            self.classes_known += 1
            self.classes_right += plate_class == row.plate_class

    def lines(self, top: int = 10) -> list[str]:
        """The human-readable summary of this kind."""
        if not self.samples:
            return [f"{self.kind}: no samples"]
        out = [
            f"{self.kind}: {self.samples} samples, {self.seconds * 1000 / self.samples:.1f} ms "
            f"per image",
            f"  full-string accuracy  {_pct(self.exact, self.samples)}",
            f"  per-char accuracy     {_pct(self.chars_right, self.chars_total)}",
        ]
        if self.kind == "scenes":
            out.append(f"  detection recall      {_pct(self.detected, self.samples)} "
                       f"(IoU >= 0.5; {self.extra_detections} other detections)")
        if self.colors_known:
            out.append(f"  colour accuracy       {_pct(self.colors_right, self.colors_known)}"
                       " (rows with a known colour)")
        if self.types_known:
            out.append(f"  type accuracy         {_pct(self.types_right, self.types_known)}")
        if self.classes_known:
            out.append(f"  class accuracy        "
                       f"{_pct(self.classes_right, self.classes_known)}")
        common = ", ".join(f"{t}->{r} x{n}" for (t, r), n in self.confusions.most_common(top))
        out.append(f"  confusions (label->read): {common or 'none'}")
        out.extend(f"  wrong: {file}: {truth} read {read}"
                   for file, truth, read in self.failures[:top])
        if len(self.failures) > top:
            out.append(f"  ... {len(self.failures) - top} more wrong")
        return out


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.2f} % ({part}/{whole})" if whole else "n/a"


@dataclass(slots=True)
class EvalReport:
    """The evaluation result, per kind."""

    crops: KindStats = field(default_factory=lambda: KindStats("crops"))
    scenes: KindStats = field(default_factory=lambda: KindStats("scenes"))

    def lines(self) -> list[str]:
        """The whole report as text lines."""
        return [*self.crops.lines(), *self.scenes.lines()]


class Progress:
    """``label 123/1004`` rewritten in place on a terminal stream; plain text, so it needs
    no dependency, and throttled to whole percents so a log file gets ~100 lines at most."""

    def __init__(self, total: int, stream: TextIO, label: str = "plates") -> None:
        self.total, self.stream, self.label = total, stream, label
        self._shown = -1

    def update(self, done: int) -> None:
        """Show ``done`` of ``total`` when the percentage changed."""
        percent = 100 * done // self.total if self.total else 100
        if percent != self._shown:
            self._shown = percent
            self.stream.write(f"\r{self.label} {done}/{self.total} {percent:3d} %")
            self.stream.flush()

    def close(self) -> None:
        """End the progress line."""
        self.stream.write("\n")
        self.stream.flush()
