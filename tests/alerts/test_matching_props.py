"""alerts.matching: properties of the distance and of the index (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.matching import (
    PLAIN,
    Strictness,
    _aligned,
    compare,
    compare_pattern,
    parse_pattern,
)
from alerts.matching_index import WatchlistIndex
from alerts.plategen import confusion_variants
from core.plates import DEFAULT_CONFUSIONS, FORMAT_SLOTS, SERIALS


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    plate: str | None = None
    pattern: str | None = None
    strictness: Strictness = Strictness.STRICT


def _plate_of(kind: str) -> st.SearchStrategy[str]:
    return st.tuples(*[st.sampled_from(sorted(c)) for c in FORMAT_SLOTS[kind]]).map("".join)


plates = st.sampled_from(sorted(FORMAT_SLOTS)).flatmap(_plate_of)
"""Valid plates of every format."""
ALPHABET = sorted(set(SERIALS) | set("IO京津沪鲁粤苏鄂使挂应急"))
texts = st.text(alphabet=ALPHABET, max_size=9)
"""Anything plate-like, valid or not: misreads, truncations, garbage."""


@given(texts, texts)
def test_symmetric(a: str, b: str) -> None:
    assert compare(a, b) == compare(b, a)


@given(texts, texts)
def test_zero_iff_equal(a: str, b: str) -> None:
    assert (compare(a, b).cost == 0) == (a == b)


@given(texts, texts)
def test_bounded_by_plain_edits(a: str, b: str) -> None:
    found = compare(a, b)
    assert 0 <= found.cost <= PLAIN * max(len(a), len(b))
    assert found.cost >= PLAIN * abs(len(a) - len(b))


@given(plates, texts)
def test_slot_by_slot_shortcut_equals_full_alignment(a: str, b: str) -> None:
    b = (b + a)[: len(a)]
    full = _aligned(a, b, DEFAULT_CONFUSIONS)[0]
    assert compare(a, b).cost >= full
    if compare(a, b).cost < 2 * PLAIN:
        assert compare(a, b).cost == full


@given(plates)
def test_every_single_confusion_variant_is_found_strictly(plate: str) -> None:
    index = WatchlistIndex([Entry("x", plate)])
    for variant in confusion_variants(plate):
        assert DEFAULT_CONFUSIONS.canonical(variant) == DEFAULT_CONFUSIONS.canonical(plate)
        (match,) = index.match(variant)
        assert match.entry_id == "x" and match.confusions == 1 and match.distance <= 0.35


def _mutate(plate: str, data: st.DataObject) -> str:
    """A read of ``plate`` with up to two random slips of any kind."""
    for _ in range(data.draw(st.integers(0, 2))):
        op = data.draw(st.sampled_from(["confuse", "replace", "delete", "insert"]))
        i = data.draw(st.integers(0, max(len(plate) - 1, 0)))
        char = data.draw(st.sampled_from(ALPHABET))
        variants = confusion_variants(plate[i:i + 1])
        if op == "confuse" and variants:
            char = data.draw(st.sampled_from(variants))
        if op in ("confuse", "replace"):
            plate = plate[:i] + char + plate[i + 1:]
        elif op == "delete":
            plate = plate[:i] + plate[i + 1:]
        else:
            plate = plate[:i] + char + plate[i:]
    return plate


@pytest.mark.slow  # 300 hypothesis examples
@settings(max_examples=300)
@given(st.lists(st.tuples(plates, st.sampled_from(list(Strictness))), min_size=1, max_size=8),
       st.data())
def test_index_equals_brute_force(listed: list[tuple[str, Strictness]],
                                  data: st.DataObject) -> None:
    """The index finds exactly what scoring every entry would find (no scan, same answer)."""
    entries = [Entry(f"e{i}", plate, strictness=s) for i, (plate, s) in enumerate(listed)]
    index = WatchlistIndex(entries)
    query = _mutate(data.draw(st.sampled_from([p for p, _ in listed])), data)
    expected = {e.entry_id for e in entries
                if e.plate is not None and compare(e.plate, query).accepted(e.strictness)}
    assert {m.entry_id for m in index.match(query)} == expected


@pytest.mark.slow  # hypothesis search
@given(st.lists(plates, min_size=2, max_size=6, unique=True), st.data())
def test_discard_then_add_is_like_fresh(listed: list[str], data: st.DataObject) -> None:
    entries = [Entry(f"e{i}", p, strictness=Strictness.LOOSE) for i, p in enumerate(listed)]
    index = WatchlistIndex(entries)
    index.discard("e0")
    index.add(entries[0])
    fresh = WatchlistIndex(entries)
    query = _mutate(data.draw(st.sampled_from(listed)), data)
    assert index.match(query) == fresh.match(query)


def _pattern_of(plate: str, data: st.DataObject) -> str:
    """A pattern covering ``plate``: some slots turned into ?, [..] or a trailing *."""
    chars = list(plate)
    for i in data.draw(st.lists(st.integers(1, len(plate) - 1), max_size=3, unique=True)):
        chars[i] = data.draw(st.sampled_from(["?", f"[{chars[i]}XY]", chars[i]]))
    cut = data.draw(st.integers(2, len(chars)))
    return "".join(chars[:cut]) + ("*" if cut < len(chars) or data.draw(st.booleans()) else "")


@pytest.mark.slow  # 300 hypothesis examples
@settings(max_examples=300)
@given(st.lists(st.tuples(plates, st.sampled_from(list(Strictness))), min_size=1, max_size=6),
       st.data())
def test_pattern_index_equals_brute_force(listed: list[tuple[str, Strictness]],
                                          data: st.DataObject) -> None:
    """Buckets and the regex sieve never drop a pattern that scoring would accept."""
    patterns = [(f"p{i}", _pattern_of(p, data), s) for i, (p, s) in enumerate(listed)]
    index = WatchlistIndex(Entry(i, pattern=p, strictness=s) for i, p, s in patterns)
    query = _mutate(data.draw(st.sampled_from([p for p, _ in listed])), data)
    expected = {i for i, p, s in patterns
                if compare_pattern(parse_pattern(p), query).accepted(s)}
    assert {m.entry_id for m in index.match(query)} == expected
