"""core.plates: normal form, GA 36 formats, slot rules, GA/T 1400 codes, correction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.plates import (
    COLOR_CODES,
    CONFUSION_GROUPS,
    DEFAULT_CONFUSIONS,
    FORMAT_SLOTS,
    FORMATS,
    PROVINCE_LOOKALIKES,
    PROVINCES,
    Confusions,
    classify,
    correct,
    is_valid,
    normalize,
    plate_class,
    slot_rules,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("京A12345", "京A12345"),
    ("京a12345", "京A12345"),
    ("京A·12345", "京A12345"),
    ("京A•12345", "京A12345"),
    ("京A-12345", "京A12345"),
    ("京A.12345", "京A12345"),
    (" 京 A 1234 5 ", "京A12345"),
    ("京Ａ１２３４５", "京A12345"),      # full-width letters and digits
    ("京ａ－１２３４５", "京A12345"),    # full-width lower case and dash
    ("京A\u300012345", "京A12345"),     # ideographic space
    ("京AD12345", "京AD12345"),
    ("", ""),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("plate", "kind"), [
    ("京AD12345", "ne_small_8"),
    ("沪A12345F", "ne_large_8"),
    ("冀A1234挂", "suffix_7"),
    ("粤Z1234港", "suffix_7"),
    ("使123456", "embassy"),
    ("京X2345应急", "emergency"),
    ("京A12345", "ordinary_7"),
    ("鲁O12345", "ordinary_7"),       # O allowed as issuing letter (unverified, kept)
    ("京12345应急", "emergency"),
    ("京A·12345", "ordinary_7"),       # classify normalises first
])
def test_accepts(plate: str, kind: str) -> None:
    assert classify(plate) == kind
    assert is_valid(plate)


@pytest.mark.parametrize("plate", [
    "京AI2345",     # I in a serial slot
    "京AO2345",     # O in a serial slot
    "京AD1234A",    # last 4 of a small new-energy plate are digits
    "京I12345",     # I is no issuing letter
    "京812345",     # digit in the issuing slot
    "X A12345",
    "京A1234",      # too short
    "京A123456",    # ordinary plates have 5 serial characters
    "使12345",
    "京A1234应急",
    "",
])
def test_rejects(plate: str) -> None:
    assert classify(plate) is None
    assert not is_valid(plate)


def test_provinces() -> None:
    assert len(PROVINCES) == 31
    assert len(set(PROVINCES)) == 31
    for group in PROVINCE_LOOKALIKES:
        assert set(group) <= set(PROVINCES)


def _from_slots(kind: str) -> st.SearchStrategy[str]:
    slots = [st.sampled_from(sorted(chars)) for chars in FORMAT_SLOTS[kind]]
    return st.tuples(*slots).map("".join)


@given(st.sampled_from(sorted(FORMATS)).flatmap(lambda k: st.tuples(st.just(k), _from_slots(k))))
def test_slot_rules_agree_with_regexes(pair: tuple[str, str]) -> None:
    kind, plate = pair
    assert FORMATS[kind].match(plate)
    assert classify(plate) == kind
    assert slot_rules(plate) == FORMAT_SLOTS[kind]


@given(st.sampled_from(sorted(FORMATS)).flatmap(
    lambda k: st.tuples(st.just(k), _from_slots(k), st.integers(0, 7), st.characters())))
def test_illegal_slot_character_breaks_the_format(pair: tuple[str, str, int, str]) -> None:
    kind, plate, index, char = pair
    index %= len(plate)
    if char in FORMAT_SLOTS[kind][index]:
        return
    broken = plate[:index] + char + plate[index + 1:]
    assert not FORMATS[kind].match(broken)


@pytest.mark.parametrize(("raw", "expected"), [
    ("京AI2345", "京A12345"),     # I in a serial slot → 1
    ("京AO2345", "京A02345"),     # O in a serial slot → 0
    ("京8D12345", "京BD12345"),   # digit in the issuing slot → its look-alike letter
    ("京212345", "京Z12345"),
    ("京012345", "京D12345"),     # 0 → D, the first legal member of 0/D/O/Q
    ("京AD1234A", "京AD12344"),   # last 4 of a small new-energy plate are digits
    ("京AD12S45", "京AD12545"),
    ("使12345O", "使123450"),
    ("京AB8123", "京AB8123"),     # legal characters are never changed
    ("京A·i2345", "京A12345"),    # normalised first
    ("ABC", "ABC"),               # no format of this length: unchanged
    ("京A1234", "京A1234"),
    ("京AI234X", "京A1234X"),
])
def test_correct(raw: str, expected: str) -> None:
    assert correct(raw) == expected


def test_correct_result_is_valid_when_fixable() -> None:
    for raw in ("京AI2345", "京8D12345", "京AD1234A", "使12345O"):
        assert is_valid(correct(raw))


@pytest.mark.parametrize(("plate", "color", "code"), [
    ("京A12345", "blue", "02"),
    ("京A12345", "yellow", "01"),
    ("京A12345", None, "02"),
    ("冀A1234挂", "yellow", "15"),
    ("京A1234学", "yellow", "16"),
    ("京A1234警", "white", "23"),
    ("粤Z1234港", "black", "26"),
    ("粤Z1234澳", "black", "27"),
    ("京A1234领", "black", "04"),
    ("使123456", "black", "03"),
    ("京AD12345", "green", "52"),
    ("沪A12345F", "yellow_green", "51"),
    ("京X2345应急", "white", "99"),
    ("京AI2345", "blue", "99"),
])
def test_plate_class(plate: str, color: str | None, code: str) -> None:
    assert plate_class(plate, color) == code


def test_color_codes() -> None:
    assert COLOR_CODES == {"black": "1", "white": "2", "grey": "3", "blue": "5",
                           "yellow": "6", "green": "9", "other": "99"}


def test_confusion_groups() -> None:
    conf = DEFAULT_CONFUSIONS
    for group in CONFUSION_GROUPS + PROVINCE_LOOKALIKES:
        assert len({conf.canonical(c) for c in group}) == 1
    assert conf.related("0", "O") and conf.related("京", "津") and conf.related("L", "J")
    assert not conf.related("0", "0") and not conf.related("0", "1")
    assert conf.canonical("京AO8B5S") == conf.canonical("津A0B8S5")
    assert conf.group("X") == "X"


def test_custom_confusions_are_configurable() -> None:
    conf = Confusions(("0O", "8B"), ("京津", "川州"))
    assert conf.related("川", "州")
    assert not conf.related("D", "0")


def test_overlapping_groups_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap on '0'"):
        Confusions(("0O", "0D"))
