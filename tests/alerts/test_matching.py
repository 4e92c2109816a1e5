"""alerts.matching: distance, strictness, patterns and the index (table-driven)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from alerts.matching import (
    CONFUSION,
    IMPOSSIBLE,
    PLAIN,
    Distance,
    PatternError,
    Strictness,
    compare,
    compare_pattern,
    distance,
    is_pattern,
    parse_pattern,
)
from alerts.matching_index import WatchlistIndex


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    plate: str | None = None
    pattern: str | None = None
    strictness: Strictness = Strictness.STRICT


@pytest.mark.parametrize(("a", "b", "cost", "confusions", "edits"), [
    ("京A12345", "京A12345", 0, 0, 0),
    ("京AB8123", "京A88123", CONFUSION, 1, 0),          # B/8 both legal in a serial slot
    ("京A10345", "京A1O345", IMPOSSIBLE, 1, 0),         # O cannot be a serial character
    ("京AI2345", "京A12345", IMPOSSIBLE, 1, 0),
    ("京B12345", "京812345", IMPOSSIBLE, 1, 0),         # 8 cannot be an issuing letter
    ("京A12345", "津A12345", CONFUSION, 1, 0),          # look-alike provinces in slot 0
    ("京A12345", "京A12346", PLAIN, 0, 1),
    ("京A12345", "京C12345", PLAIN, 0, 1),
    ("京AB8123", "京A8B123", 2 * CONFUSION, 2, 0),
    ("京AD12345", "京D12345", PLAIN, 0, 1),             # 7-char read of an 8-char plate
    ("京AD12345", "京AD123456", PLAIN, 0, 1),
    ("京AD12345", "京A12345", PLAIN, 0, 1),
    ("京A12345", "", 7 * PLAIN, 0, 7),
    ("ABCDEFG", "BCDEFGH", 2 * PLAIN, 0, 2),            # shift: alignment beats slots
])
def test_compare(a: str, b: str, cost: int, confusions: int, edits: int) -> None:
    assert compare(a, b) == Distance(cost, confusions, edits)
    assert compare(b, a) == Distance(cost, confusions, edits)


def test_distance_is_a_float() -> None:
    assert distance("京AB8123", "京A88123") == pytest.approx(0.3)
    assert distance("京A12345", "京A12346") == pytest.approx(1.0)


@pytest.mark.parametrize(("found", "exact", "strict", "loose"), [
    (Distance(0, 0, 0), True, True, True),
    (Distance(CONFUSION, 1, 0), False, True, True),
    (Distance(IMPOSSIBLE, 1, 0), False, True, True),
    (Distance(2 * IMPOSSIBLE, 2, 0), False, False, True),   # two look-alikes: not strict
    (Distance(2 * CONFUSION, 2, 0), False, False, True),
    (Distance(3 * CONFUSION, 3, 0), False, False, True),
    (Distance(4 * CONFUSION, 4, 0), False, False, False),
    (Distance(PLAIN, 0, 1), False, False, True),
    (Distance(PLAIN + IMPOSSIBLE, 1, 1), False, False, False),
])
def test_strictness(found: Distance, exact: bool, strict: bool, loose: bool) -> None:
    assert found.accepted(Strictness.EXACT) is exact
    assert found.accepted(Strictness.STRICT) is strict
    assert found.accepted(Strictness.LOOSE) is loose


@pytest.mark.parametrize(("text", "expected"), [
    ("京A12*", True), ("京A1234?", True), ("粤B[0-9]1234", True), ("京A12345", False),
])
def test_is_pattern(text: str, expected: bool) -> None:
    assert is_pattern(text) is expected


@pytest.mark.parametrize(("text", "message"), [
    ("京A[12", "without a closing"),
    ("京A12]", "without an opening"),
    ("京A[]1", "empty"),
    ("京A[9-0]", "backwards"),
    ("*", "at least one"),
    ("**", "at least one"),
])
def test_bad_patterns(text: str, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        parse_pattern(text)


@pytest.mark.parametrize(("pattern", "plate", "cost"), [
    ("京A12*", "京A12345", 0),
    ("京A12*", "京A12", 0),                 # * may match nothing
    ("京A12*", "京AD12345", 2 * PLAIN),      # literals stay in place
    ("京A12*", "京AI2345", IMPOSSIBLE),      # look-alikes are tolerated in literals
    ("京A1234?", "京A12345", 0),
    ("京A1234?", "京A1234", None),           # ? needs exactly one character
    ("京A1234?", "京A123456", None),
    ("粤B[0-9]1234", "粤B51234", 0),
    ("粤B[0-9]1234", "粤BS1234", CONFUSION),  # S is a legal serial character
    ("粤B[0-9]1234", "粤BO1234", IMPOSSIBLE),  # O is not
    ("粤B[0-9]1234", "粤BX1234", PLAIN),
    ("*12345", "京A12345", 0),
    ("京*5", "京AD12345", 0),
    ("京ａ·12*", "京A12345", 0),             # literals are normalised like plates
    ("京A[a-c]*", "京AB1234", 0),
])
def test_compare_pattern(pattern: str, plate: str, cost: int | None) -> None:
    found = compare_pattern(parse_pattern(pattern), plate)
    if cost is None:
        assert found.cost > 10 * PLAIN
    else:
        assert found.cost == cost


def _index(*entries: Entry) -> WatchlistIndex:
    return WatchlistIndex(entries)


def _ids(index: WatchlistIndex, plate: str) -> list[str]:
    return [m.entry_id for m in index.match(plate)]


def test_index_by_strictness() -> None:
    index = _index(Entry("exact", "京A12345", strictness=Strictness.EXACT),
                   Entry("strict", "京A12345"),
                   Entry("loose", "京A12345", strictness=Strictness.LOOSE))
    assert _ids(index, "京A12345") == ["exact", "loose", "strict"]
    assert _ids(index, "京AI2345") == ["loose", "strict"]
    assert _ids(index, "京A12346") == ["loose"]       # one plain substitution
    assert _ids(index, "京A1234") == ["loose"]        # one character missing
    assert _ids(index, "京A123456") == ["loose"]      # one character extra
    assert _ids(index, "京AIZ345") == ["loose"]       # two look-alikes
    assert _ids(index, "京A12366") == []


def test_match_fields_and_order() -> None:
    index = _index(Entry("a", "京A12345"), Entry("b", "京AI2345", strictness=Strictness.EXACT),
                   Entry("c", pattern="京A1234?"))
    matches = index.match("京A·I2345")          # the query is normalised too
    assert [m.entry_id for m in matches] == ["b", "a", "c"]
    assert matches[0].exact and matches[0].distance == 0.0
    assert not matches[1].exact and matches[1].distance == pytest.approx(0.15)
    assert matches[1].confusions == 1 and matches[1].edits == 0 and not matches[1].pattern
    pattern_hit = index.match("京A12349")
    assert [(m.entry_id, m.pattern, m.exact) for m in pattern_hit] == [("c", True, True)]


def test_patterns_by_prefix_and_strictness() -> None:
    index = _index(Entry("p1", pattern="京A12*"), Entry("p2", pattern="*2345"),
                   Entry("p3", pattern="津?12*"),
                   Entry("p4", pattern="沪A12*", strictness=Strictness.LOOSE),
                   Entry("p5", pattern="京A12*", strictness=Strictness.EXACT))
    assert _ids(index, "京A12345") == ["p1", "p2", "p5", "p3", "p4"]
    assert _ids(index, "京AI2345") == ["p2", "p1"]   # * then 2345 exact; I/1 for p1
    assert _ids(index, "沪B12345") == ["p2", "p4"]   # loose: one plain substitution


def test_add_replace_and_discard() -> None:
    index = _index(Entry("a", "京A12345"))
    assert len(index) == 1
    index.add(Entry("a", "沪A12345"))               # same id: replaces
    assert _ids(index, "京A12345") == [] and _ids(index, "沪A12345") == ["a"]
    index.discard("a")
    index.discard("a")                               # twice is harmless
    assert len(index) == 0 and _ids(index, "沪A12345") == []


def test_entry_needs_exactly_one_target() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        _index(Entry("x"))
    with pytest.raises(ValueError, match="exactly one"):
        _index(Entry("x", "京A12345", "京A*"))
    with pytest.raises(PatternError):
        _index(Entry("x", pattern="京A["))
    with pytest.raises(ValueError, match="list it as a pattern"):
        _index(Entry("x", "京A1234?"))
