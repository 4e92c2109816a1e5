"""Accuracy bookkeeping of the plate evaluation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vigil.plates_metrics import GAP, KindStats, LabelRow, Progress, align, load_labels


@pytest.mark.parametrize(("truth", "read", "distance", "pairs"), [
    ("京A12345", "京A12345", 0, []),
    ("京A12345", "京A12346", 1, [("5", "6")]),
    ("皖A49P06", "皖49P06", 1, [("A", GAP)]),
    ("川JK0707", "川JJK0707", 1, [(GAP, "J")]),
    ("皖AD14488", "皖AD188", 2, [("4", GAP), ("4", GAP)]),
    ("", "AB", 2, [(GAP, "A"), (GAP, "B")]),
    ("AB", "", 2, [("A", GAP), ("B", GAP)]),
])
def test_align(truth: str, read: str, distance: int, pairs: list[tuple[str, str]]) -> None:
    got_distance, got_pairs = align(truth, read)
    assert got_distance == distance
    if truth == "皖AD14488":   # either pair of 4s may be the one dropped
        assert sorted(got_pairs) == pairs
    else:
        assert got_pairs == pairs


def _row(plate: str, kind: str = "crop", color: str = "") -> LabelRow:
    return LabelRow(f"{plate}.jpg", plate, kind, None, color)


def test_kind_stats_counts_and_reports() -> None:
    stats = KindStats("scenes")
    stats.add(_row("京A12345", "scene", "blue"), "京A12345", "blue")
    stats.add(_row("京A12345", "scene", "blue"), "京A12346", "yellow")
    stats.add(_row("皖AD14488", "scene", "green"), None)
    stats.extra_detections = 1
    stats.seconds = 0.3
    assert (stats.samples, stats.exact, stats.detected) == (3, 1, 2)
    assert (stats.chars_right, stats.chars_total) == (7 + 6 + 0, 7 + 7 + 8)
    assert (stats.colors_right, stats.colors_known) == (1, 3)
    text = "\n".join(stats.lines())
    assert "scenes: 3 samples, 100.0 ms per image" in text
    assert "full-string accuracy   33.33 % (1/3)" in text
    assert "per-char accuracy      59.09 % (13/22)" in text
    assert "detection recall       66.67 % (2/3) (IoU >= 0.5; 1 other detections)" in text
    assert "5->6 x1" in text
    assert "wrong: 皖AD14488.jpg: 皖AD14488 read <no plate found>" in text
    assert KindStats("crops").lines() == ["crops: no samples"]


def test_type_and_class_are_scored_only_when_labelled() -> None:
    stats = KindStats("crops")
    police = LabelRow("p", "苏E5678警", "crop", None, "white", "suffix_7", "23")
    stats.add(police, "苏E5678警", "white")
    stats.add_type(police, "suffix_7", "23")
    stats.add(police, "苏E56789", "white")
    stats.add_type(police, "ordinary_7", "02")
    stats.add(police, None)
    stats.add_type(police, None, None)
    large_ne = LabelRow("n", "沪A12345D", "crop", None, "yellow_green", "ne_large_8", "51")
    stats.add(large_ne, "沪A12345D", "yellow_green")
    stats.add_type(large_ne, "ne_large_8", "51")
    unlabelled = _row("京A12345")
    stats.add(unlabelled, "京A12345")
    stats.add_type(unlabelled, "ordinary_7", "02")
    assert (stats.types_right, stats.types_known) == (2, 4)
    assert (stats.classes_right, stats.classes_known) == (2, 4)
    assert (stats.colors_right, stats.colors_known) == (3, 4)
    text = "\n".join(stats.lines())
    assert "type accuracy          50.00 % (2/4)" in text
    assert "class accuracy         50.00 % (2/4)" in text


def test_load_labels(tmp_path: Path) -> None:
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(
        "file,plate,source,kind,bbox,quad,plate_type\n"
        "a/京A12345.jpg,京A12345,x,crop,,,\n"
        'b/s.jpg,皖AD14488,y,scene,"1,2,30,40","30,40;1,40;1,2;30,2",green\n',
        encoding="utf-8")
    crop, scene = load_labels(csv_path)
    assert crop == LabelRow("a/京A12345.jpg", "京A12345", "crop", None, "")
    assert scene.bbox == (1, 2, 30, 40) and scene.plate_type == "green"


def test_progress_writes_whole_percents_only() -> None:
    stream = io.StringIO()
    bar = Progress(1000, stream, "eval")
    for done in range(1, 1001):
        bar.update(done)
    bar.close()
    out = stream.getvalue()
    assert out.count("\r") == 101  # 0 % to 100 %
    assert out.endswith("\reval 1000/1000 100 %\n")
