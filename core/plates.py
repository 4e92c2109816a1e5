"""Chinese licence plates: the vocabulary analytics and alerts share (docs/integration.md §1, §2).

Plate reading (``analytics/``) and watchlist matching (``alerts/``) must agree on what a plate
*is* — its normal form, its GA 36 format, which characters each slot may hold and which
characters an OCR engine confuses — or a plate read one way would be listed another way and
never match. So the facts live here, in ``core``, as constants and pure functions.

Slots are counted from 0 in code (slot 0 is the province, slot 1 the issuing letter); the
docs count from 1. Facts marked *unverified* in docs/integration.md (O as an issuing letter, the
extra province look-alikes) are plain data that callers can replace, never buried in logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""The 31 province abbreviations allowed in slot 0."""
DIGITS = "0123456789"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
"""Serial letters: A–Z without I and O (they would read as 1 and 0)."""
ISSUERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"
"""Issuing-authority letters (slot 1): A–Z without I; O allowed (鲁O, *unverified*)."""
SERIALS = LETTERS + DIGITS
NE_LETTERS = "DABCEFGHJK"
"""Letters marking a new-energy plate (slot 2 of small, last slot of large)."""
SUFFIXES = "挂学警港澳领"
"""Last character of a 7-character special-use plate."""

_PROV, _ISS, _SER, _NE = PROVINCES, "A-HJ-NP-ZO", "A-HJ-NP-Z0-9", NE_LETTERS
FORMATS: Mapping[str, re.Pattern[str]] = {
    "ordinary_7": re.compile(rf"^[{_PROV}][{_ISS}][{_SER}]{{5}}$"),
    "suffix_7": re.compile(rf"^[{_PROV}][{_ISS}][{_SER}]{{4}}[{SUFFIXES}]$"),
    "ne_small_8": re.compile(rf"^[{_PROV}][{_ISS}][{_NE}][{_SER}][0-9]{{4}}$"),
    "ne_large_8": re.compile(rf"^[{_PROV}][{_ISS}][0-9]{{5}}[{_NE}]$"),
    "embassy": re.compile(r"^使[0-9]{6}$"),
    "emergency": re.compile(rf"^[{_PROV}](?:[XS][0-9]{{4}}|[0-9]{{5}})应急$"),
    "civil_aviation": re.compile(rf"^民航[{_SER}]{{5}}$"),
}
"""GA 36-2018 formats (plus emergency and civil-aviation airside plates) by type name;
normalised text only. ``civil_aviation`` (民航 + 5 serial characters) is *unverified*: no
standard text or labelled photograph was available, only the issue's list of plates to
read."""

Slots = tuple[frozenset[str], ...]
"""The characters each slot of a format may hold."""


def _slots(*parts: str) -> Slots:
    return tuple(frozenset(part) for part in parts)


FORMAT_SLOTS: Mapping[str, Slots] = {
    "ordinary_7": _slots(PROVINCES, ISSUERS, *[SERIALS] * 5),
    "suffix_7": _slots(PROVINCES, ISSUERS, *[SERIALS] * 4, SUFFIXES),
    "ne_small_8": _slots(PROVINCES, ISSUERS, NE_LETTERS, SERIALS, *[DIGITS] * 4),
    "ne_large_8": _slots(PROVINCES, ISSUERS, *[DIGITS] * 5, NE_LETTERS),
    "embassy": _slots("使", *[DIGITS] * 6),
    "emergency": _slots(PROVINCES, "XS" + DIGITS, *[DIGITS] * 4, "应", "急"),
    "civil_aviation": _slots("民", "航", *[SERIALS] * 5),
}
"""Slot rules per format, equivalent to :data:`FORMATS` (a test checks the two agree)."""

PLATE_CLASS_CODES: Mapping[str, str] = {
    "large": "01", "small": "02", "embassy": "03", "consulate": "04", "trailer": "15",
    "coach": "16", "police": "23", "hong_kong": "26", "macau": "27", "ne_large": "51",
    "ne_small": "52", "other": "99",
}
"""GA 24.7 ``PlateClass`` codes used by GA/T 1400 (docs/integration.md §2)."""
SUFFIX_CLASSES: Mapping[str, str] = {
    "挂": "trailer", "学": "coach", "警": "police", "港": "hong_kong", "澳": "macau",
    "领": "consulate",
}
TYPE_CLASSES: Mapping[str, str] = {
    "ne_small_8": "ne_small", "ne_large_8": "ne_large", "embassy": "embassy",
    "emergency": "other", "civil_aviation": "other",
}
"""Plate class by format where the format alone decides it (see :func:`plate_class`)."""
COLOR_CODES: Mapping[str, str] = {
    "black": "1", "white": "2", "grey": "3", "blue": "5", "yellow": "6", "green": "9",
    "other": "99",
}
"""GA/T 1400 ``PlateColor`` codes. Yellow-green (large new-energy) has no code of its own in
the list we have, so it maps to "other" until someone checks the standard."""

CONFUSION_GROUPS: tuple[str, ...] = ("0DOQ", "1LJI", "2Z", "5S", "8B", "6G", "4A", "7T")
"""Characters an OCR engine mixes up. Order matters for :func:`correct`: the first member
that is legal in a slot is the one an impossible character is corrected to."""
PROVINCE_LOOKALIKES: tuple[str, ...] = ("京津", "鲁粤", "苏鄂", "沪渝", "湘浙", "贵青")
"""Province characters read as one another. 京/津, 鲁/粤, 苏/鄂 come from docs/integration.md;
沪/渝, 湘/浙 (same water radical, similar width at 20 px) and 贵/青 are *unverified* guesses:
pass your own groups to :class:`Confusions` once field data says otherwise."""

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DROP = dict.fromkeys(map(ord, "·•・‧∙⋅-‐‑‒–—―−.。"))


class Confusions:
    """A partition of characters into look-alike groups, with fast lookups.

    Matching maps every character to its group's first member (:meth:`canonical`) so that all
    plates one confusion away from each other share one dictionary key. That only works if
    the groups do not overlap, so overlapping groups are refused here rather than silently
    merged.
    """

    __slots__ = ("_group", "_table", "groups", "province_groups")

    def __init__(self, groups: Iterable[str], province_groups: Iterable[str] = ()) -> None:
        self.groups = tuple(groups)
        self.province_groups = tuple(province_groups)
        self._group: dict[str, str] = {}
        for group in (*self.groups, *self.province_groups):
            for char in group:
                if char in self._group:
                    raise ValueError(f"confusion groups overlap on {char!r}: "
                                     f"{self._group[char]!r} and {group!r}; merge them")
                self._group[char] = group
        self._table = str.maketrans({c: g[0] for c, g in self._group.items() if c != g[0]})

    def canonical(self, text: str) -> str:
        """``text`` with every character replaced by its group's representative."""
        return text.translate(self._table)

    def group(self, char: str) -> str:
        """The group holding ``char`` (its look-alikes and itself), or ``char`` alone."""
        return self._group.get(char, char)

    def related(self, a: str, b: str) -> bool:
        """True when ``a`` and ``b`` are different members of one group."""
        return a != b and self._group.get(a, a) == self._group.get(b, b)


DEFAULT_CONFUSIONS = Confusions(CONFUSION_GROUPS, PROVINCE_LOOKALIKES)


def normalize(text: str) -> str:
    """The stored and matched form: half-width, upper-case, no separators.

    Plates arrive typed by people (full-width digits from a Chinese IME, ``京A·12345``,
    ``京A-12345``) and read by OCR; both must land on one spelling before any comparison.
    """
    half = text.translate(_FULLWIDTH)
    return "".join(c for c in half if not c.isspace()).translate(_DROP).upper()


UNKNOWN = "?"
"""Stands for a province the reader could not see (cut off at the picture's edge, covered,
too blurred): ``?A12345``. Honest beats a guess — the old recogniser, trained on 88 % 皖,
filled such a slot with 皖 at 0.93. Matching treats it as a wildcard (alerts/matching.py).
Only slot 0 (the province) is ever unknown; it is the character a reader is least sure of
and the one an edge cuts first."""


def unknown_province(text: str) -> bool:
    """True when ``text`` holds a plate whose province was not read (``?A12345``)."""
    return text[:1] == UNKNOWN


@lru_cache(maxsize=65536)
def _classify_normal(plate: str) -> str | None:
    if unknown_province(plate):  # any province: classify with one standing in
        found = _classify_normal(PROVINCES[0] + plate[1:])
        province_slot = found is not None and FORMAT_SLOTS[found][0] == frozenset(PROVINCES)
        return found if province_slot else None
    for name, pattern in FORMATS.items():
        if pattern.match(plate):
            return name
    return None


def classify(text: str) -> str | None:
    """The GA 36 format name of ``text`` (normalised first), or ``None`` if it has none."""
    return _classify_normal(normalize(text))


def is_valid(text: str) -> bool:
    """True if ``text`` (normalised first) is a plate of one of :data:`FORMATS`."""
    return classify(text) is not None


def plate_class(text: str, color: str | None = None) -> str:
    """GA 24.7 ``PlateClass`` code. A 7-character ordinary plate is large (01) when yellow and
    small (02) otherwise: the format alone cannot tell them apart."""
    plate = normalize(text)
    kind = _classify_normal(plate)
    if kind == "ordinary_7":
        name = "large" if color == "yellow" else "small"
    elif kind == "suffix_7":
        name = SUFFIX_CLASSES[plate[-1]]
    else:
        name = TYPE_CLASSES.get(kind or "", "other")
    return PLATE_CLASS_CODES[name]


def _union(templates: Iterable[Slots]) -> Slots:
    merged: list[frozenset[str]] = []
    for template in templates:
        for index, chars in enumerate(template):
            if index == len(merged):
                merged.append(chars)
            else:
                merged[index] = merged[index] | chars
    return tuple(merged)


def _misfit(plate: str, template: Slots) -> int:
    """How badly ``plate`` fits ``template``: illegal characters, slot 0 counting as many
    (the first character — province, or 使 — says most about which format was meant)."""
    bad = [char not in legal for char, legal in zip(plate, template, strict=True)]
    return sum(bad) + len(plate) * bad[0]


@lru_cache(maxsize=65536)
def slot_rules(plate: str) -> Slots | None:
    """Legal characters per slot of a normalised plate: those of its own format when it has
    one; for a misread, those of the format(s) of its length it fits best (ties are merged),
    so ``京812345`` still has an issuing-letter slot; ``None`` for a length no format has
    (nothing is known about its slots)."""
    kind = _classify_normal(plate)
    if kind is not None:
        return FORMAT_SLOTS[kind]
    scored = [(_misfit(plate, t), t) for t in FORMAT_SLOTS.values() if len(t) == len(plate)]
    if not scored:
        return None
    best = min(score for score, _ in scored)
    return _union(t for score, t in scored if score == best)


def _fix(plate: str, template: Slots, confusions: Confusions) -> str | None:
    """``plate`` with each illegal character replaced by its first legal look-alike, or
    ``None`` when some illegal character has none."""
    out: list[str] = []
    for char, legal in zip(plate, template, strict=True):
        if char in legal:
            out.append(char)
            continue
        choices = [c for c in confusions.group(char) if c in legal]
        if not choices:
            return None
        out.append(choices[0])
    return "".join(out)


def correct(text: str, confusions: Confusions = DEFAULT_CONFUSIONS) -> str:
    """Fix characters that cannot stand where they stand (an ``I``/``O`` in a serial slot, a
    digit in the issuing-letter slot) using the look-alike groups.

    OCR knows glyphs, not plate grammar; a few of its errors are provably errors because the
    slot forbids the character. Tries every format of the text's length and keeps the one
    needing the fewest changes (ties: :data:`FORMATS` order). Characters that are legal are
    never changed: which of two legal look-alikes was meant is for matching to weigh, not for
    correction to guess. When no format fits, the normalised text is returned unchanged and
    :func:`is_valid` stays false on it — the caller decides what an unreadable plate means.
    """
    plate = normalize(text)
    best: tuple[int, str] | None = None
    for template in FORMAT_SLOTS.values():
        if len(template) != len(plate):
            continue
        fixed = _fix(plate, template, confusions)
        if fixed is None:
            continue
        changes = sum(a != b for a, b in zip(plate, fixed, strict=True))
        if best is None or changes < best[0]:
            best = (changes, fixed)
    return plate if best is None else best[1]
