"""Plate matching: a confusion-weighted distance and an index that answers in microseconds.

A camera reads ``京A8B123`` where the list says ``京AB8123``? Probably not the same car. It reads
``京A1O345`` where the list says ``京A10345``? Certainly the same car: ``O`` cannot stand in a
serial slot. The distance here encodes that: substituting a look-alike costs little, less still
when one side is impossible in its slot, and anything else costs a full edit.

Costs are integers in hundredths (:data:`CONFUSION` = 30 is 0.30) so that sums are exact and
the distance is exactly symmetric; :class:`Distance` reports them as floats.

The index never scans. Every plate is filed under its *canonical* key (each character replaced
by its look-alike group's representative, :meth:`core.plates.Confusions.canonical`): every
plate reachable by look-alike substitutions shares that key, so one dict lookup returns all
candidates and only those are scored. Loose entries are also filed under their one-character
deletions (the SymSpell trick): one plain substitution, insertion or deletion costs a handful
of further lookups. Patterns (:func:`parse_pattern`) are few; they sit in buckets keyed by
their canonical leading literals and a regex sieve skips the implausible ones.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import takewhile
from typing import Protocol

from core.plates import DEFAULT_CONFUSIONS, Confusions, Slots, normalize, slot_rules

CONFUSION = 30
"""Look-alike substitution where both characters are legal in the slot (8↔B in a serial)."""
IMPOSSIBLE = 15
"""Look-alike substitution where one side cannot stand in the slot (O for 0 in a serial)."""
PLAIN = 100
"""Any other substitution, insertion or deletion."""
STRICT_MAX = 35
LOOSE_MAX = 100


class Strictness(enum.StrEnum):
    """How far a read may be from a listed plate and still hit. ``exact``: identical only.
    ``strict`` (default): distance ≤ 0.35 with at most one look-alike substitution and no plain
    edit. ``loose``: distance ≤ 1.0 (one plain edit, or up to three look-alikes)."""

    EXACT = "exact"
    STRICT = "strict"
    LOOSE = "loose"


@dataclass(frozen=True, slots=True)
class Distance:
    """Best alignment of two plates: ``cost`` in hundredths, look-alike substitutions
    (``confusions``) and plain edits (substitutions, insertions, deletions)."""

    cost: int
    confusions: int
    edits: int

    @property
    def value(self) -> float:
        return self.cost / 100

    def accepted(self, strictness: Strictness) -> bool:
        """Whether a list of this strictness counts this distance as a hit."""
        if strictness is Strictness.EXACT:
            return self.cost == 0
        if strictness is Strictness.STRICT:
            return self.cost <= STRICT_MAX and self.confusions <= 1 and self.edits == 0
        return self.cost <= LOOSE_MAX


_Cell = tuple[int, int, int]
_FAR: _Cell = (1 << 30, 0, 0)


def _legal(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    if a is None:
        return b
    return a if b is None else a | b


def _sub(a: str, b: str, legal: frozenset[str] | None, conf: Confusions) -> _Cell:
    """Cost of reading ``b`` where ``a`` stands (symmetric in ``a`` and ``b``)."""
    if a == b:
        return (0, 0, 0)
    if conf.related(a, b):
        if legal is None or (a in legal and b in legal):
            return (CONFUSION, 1, 0)
        if a in legal or b in legal:
            return (IMPOSSIBLE, 1, 0)
    return (PLAIN, 0, 1)


def _add(cell: _Cell, step: _Cell) -> _Cell:
    return (cell[0] + step[0], cell[1] + step[1], cell[2] + step[2])


def _positional(a: str, b: str, conf: Confusions) -> _Cell:
    rules_a, rules_b = slot_rules(a), slot_rules(b)
    total: _Cell = (0, 0, 0)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            legal = _legal(rules_a[i] if rules_a else None, rules_b[i] if rules_b else None)
            total = _add(total, _sub(x, y, legal, conf))
    return total


def _aligned(a: str, b: str, conf: Confusions) -> _Cell:
    """Weighted Levenshtein; ties go to fewer look-alikes, then fewer edits."""
    rules_a, rules_b = slot_rules(a), slot_rules(b)
    indel: _Cell = (PLAIN, 0, 1)
    row = [(PLAIN * j, 0, j) for j in range(len(b) + 1)]
    for i, x in enumerate(a):
        new = [(PLAIN * (i + 1), 0, i + 1)]
        for j, y in enumerate(b):
            legal = _legal(rules_a[i] if rules_a else None, rules_b[j] if rules_b else None)
            new.append(min(_add(row[j], _sub(x, y, legal, conf)),
                           _add(row[j + 1], indel), _add(new[j], indel)))
        row = new
    return row[-1]


def compare(a: str, b: str, confusions: Confusions = DEFAULT_CONFUSIONS) -> Distance:
    """Distance between two normalised plates (or any two strings).

    Equal lengths are compared slot by slot: an alignment with insertions needs at least one
    insertion and one deletion (cost ≥ 2.0), so the slot-by-slot result is the true minimum
    whenever it is below 2.0 — which covers every case a list accepts — and the full alignment
    runs only beyond that or when lengths differ (a 7-character read of an 8-character plate).
    """
    if a == b:
        return Distance(0, 0, 0)
    if len(a) == len(b):
        cost, conf_count, edits = _positional(a, b, confusions)
        if cost < 2 * PLAIN:
            return Distance(cost, conf_count, edits)
    return Distance(*_aligned(a, b, confusions))


def distance(a: str, b: str, confusions: Confusions = DEFAULT_CONFUSIONS) -> float:
    """:func:`compare` as a float (0.3 for one look-alike, 1.0 for one plain edit)."""
    return compare(a, b, confusions).value


# ---------------------------------------------------------------------------- patterns
WILDCARDS = frozenset("*?[")
_Token = tuple[str, frozenset[str]]
"""``("lit", {c})``, ``("set", chars)``, ``("any", {})`` or ``("star", {})``."""


class PatternError(ValueError):
    """A watchlist pattern that cannot be parsed; the message says where and why."""


def is_pattern(text: str) -> bool:
    """True when ``text`` uses pattern syntax (``*``, ``?`` or ``[...]``)."""
    return any(c in WILDCARDS for c in text)


def _char_set(body: str, source: str) -> frozenset[str]:
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = body[i], body[i + 2]
            if ord(lo) > ord(hi):
                raise PatternError(f"{source}: range {lo}-{hi} runs backwards")
            chars.update(chr(c) for c in range(ord(lo), ord(hi) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    if not chars:
        raise PatternError(f"{source}: empty [] matches nothing")
    return frozenset(chars)


def parse_pattern(text: str) -> tuple[_Token, ...]:
    """Tokens of a watchlist pattern.

    Syntax: literal characters (normalised like plates: full-width, case and separators do not
    matter), ``?`` = exactly one character, ``*`` = any run of characters (also none),
    ``[...]`` = one character from a set, with ranges (``[0-9]``, ``[A-HJ-NP-Z]``).
    Examples: ``京A12*`` (every 京A12 plate), ``京A1234?``, ``粤B[0-9]123[DF]``.
    """
    tokens: list[_Token] = []
    rest = text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})
    while rest:
        char, rest = rest[0], rest[1:]
        if char == "[":
            body, sep, rest = rest.partition("]")
            if not sep:
                raise PatternError(f"{text}: '[' without a closing ']'")
            tokens.append(("set", _char_set(body.upper(), text)))
        elif char in "*?":
            if char == "*" and tokens and tokens[-1][0] == "star":
                continue
            tokens.append(("star" if char == "*" else "any", frozenset()))
        elif char == "]":
            raise PatternError(f"{text}: ']' without an opening '['")
        else:
            tokens.extend(("lit", frozenset(c)) for c in normalize(char))
    if not any(kind != "star" for kind, _ in tokens):
        raise PatternError(f"{text}: a pattern must fix at least one character")
    return tuple(tokens)


def _token_cost(token: _Token, char: str, legal: frozenset[str] | None,
                conf: Confusions) -> _Cell:
    kind, chars = token
    if kind == "any" or char in chars:
        return (0, 0, 0)
    return min(_sub(c, char, legal, conf) for c in chars)


def compare_pattern(tokens: tuple[_Token, ...], plate: str,
                    confusions: Confusions = DEFAULT_CONFUSIONS) -> Distance:
    """Best way for ``plate`` to fit the pattern. Literals and sets tolerate look-alikes and
    plain substitutions at the usual costs; characters are never inserted or deleted (write
    ``*`` where length may vary). A plate the pattern cannot cover gets a huge cost."""
    rules: Slots | None = slot_rules(plate)
    n = len(plate)
    row: list[_Cell] = [(0, 0, 0)] + [_FAR] * n
    for token in tokens:
        if token[0] == "star":
            for j in range(1, n + 1):
                row[j] = min(row[j], row[j - 1])
            continue
        new: list[_Cell] = [_FAR]
        for j in range(n):
            legal = rules[j] if rules else None
            new.append(_add(row[j], _token_cost(token, plate[j], legal, confusions)))
        row = new
    return Distance(*row[n])


# ---------------------------------------------------------------------------- index
class Target(Protocol):
    """What the index needs from a watchlist entry: exactly one of ``plate``/``pattern``."""

    @property
    def entry_id(self) -> str: ...
    @property
    def plate(self) -> str | None: ...
    @property
    def pattern(self) -> str | None: ...
    @property
    def strictness(self) -> Strictness: ...


@dataclass(frozen=True, slots=True)
class Match:
    """One entry a plate hits. ``exact``: identical to the listed plate (or a pattern fitted
    with no tolerance). ``distance`` 0.0–1.0; see :class:`Distance` for the rest."""

    entry_id: str
    distance: float
    exact: bool
    confusions: int
    edits: int
    pattern: bool = False


@dataclass(frozen=True, slots=True)
class _Item:
    entry_id: str
    text: str
    strictness: Strictness
    keys: tuple[tuple[str, str], ...]
    tokens: tuple[_Token, ...] | None = None
    sieve: re.Pattern[str] | None = None
    """For patterns: a regex every acceptable plate's canonical form matches, so the costly
    alignment runs only for plausible plates."""


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1:] for i in range(len(key))}


def _sieve(tokens: tuple[_Token, ...], strictness: Strictness,
           conf: Confusions) -> re.Pattern[str]:
    """Loose: the lengths the pattern can cover. Otherwise every literal and set, widened to
    its look-alikes (strict hits differ only by look-alikes, so their canonical forms fit)."""
    if strictness is Strictness.LOOSE:
        fixed = sum(kind != "star" for kind, _ in tokens)
        star = any(kind == "star" for kind, _ in tokens)
        return re.compile(f".{{{fixed},}}" if star else f".{{{fixed}}}", re.DOTALL)
    parts = []
    for kind, chars in tokens:
        if kind in ("star", "any"):
            parts.append(".*" if kind == "star" else ".")
        else:
            parts.append("[" + "".join(sorted({re.escape(conf.canonical(c)) for c in chars}))
                         + "]")
    return re.compile("".join(parts), re.DOTALL)


class WatchlistIndex:
    """All listed plates and patterns, filed for constant-time lookup (see module doc).
    One writer and no concurrent reader: :meth:`add`/:meth:`discard` run on the thread that
    matches (the rule engine's), or on a fresh index that is then swapped in."""

    def __init__(self, targets: Iterable[Target] = (),
                 confusions: Confusions = DEFAULT_CONFUSIONS) -> None:
        self._conf = confusions
        self._items: dict[str, _Item] = {}
        self._tables: dict[str, dict[str, dict[str, _Item]]] = {
            "exact": {}, "canon": {}, "loose": {}, "delete": {}, "pattern": {},
        }
        for target in targets:
            self.add(target)

    def __len__(self) -> int:
        return len(self._items)

    def add(self, target: Target) -> None:
        """File ``target`` (replacing any entry with its id). Raises :class:`PatternError`
        for a bad pattern and ``ValueError`` unless exactly one of plate/pattern is set, or
        for a plate holding pattern characters."""
        if (target.plate is None) == (target.pattern is None):
            raise ValueError(f"{target.entry_id}: give exactly one of plate and pattern")
        if target.plate is not None and is_pattern(target.plate):
            raise ValueError(f"{target.entry_id}: plate {target.plate} holds pattern "
                             "characters (*?[); list it as a pattern")
        self.discard(target.entry_id)
        item = self._item(target)
        self._items[item.entry_id] = item
        for table, key in item.keys:
            self._tables[table].setdefault(key, {})[item.entry_id] = item

    def discard(self, entry_id: str) -> None:
        """Forget ``entry_id``; unknown ids are fine (withdrawing twice is harmless here)."""
        item = self._items.pop(entry_id, None)
        if item is None:
            return
        for table, key in item.keys:
            bucket = self._tables[table][key]
            del bucket[entry_id]
            if not bucket:
                del self._tables[table][key]

    def _item(self, target: Target) -> _Item:
        strictness = Strictness(target.strictness)
        if target.pattern is not None:
            tokens = parse_pattern(target.pattern)
            literals = takewhile(lambda token: token[0] == "lit", tokens)
            lead = "".join(next(iter(chars)) for _, chars in literals)[:2]
            key = "" if strictness is Strictness.LOOSE else self._conf.canonical(lead)
            return _Item(target.entry_id, target.pattern, strictness, (("pattern", key),),
                         tokens, _sieve(tokens, strictness, self._conf))
        plate = normalize(target.plate or "")
        if strictness is Strictness.EXACT:
            return _Item(target.entry_id, plate, strictness, (("exact", plate),))
        canon = self._conf.canonical(plate)
        keys = [("canon", canon)]
        if strictness is Strictness.LOOSE:
            keys += [("loose", canon)] + [("delete", k) for k in sorted(_deletions(canon))]
        return _Item(target.entry_id, plate, strictness, tuple(keys))

    def match(self, plate: str) -> list[Match]:
        """Every entry ``plate`` hits under the entry's strictness, best first (distance,
        then exact before tolerant, then entry id)."""
        plate = normalize(plate)
        canon = self._conf.canonical(plate)
        found: dict[str, Match] = {}
        for item in self._candidates(plate, canon):
            if item.entry_id in found:
                continue
            if item.sieve is not None and not item.sieve.fullmatch(canon):
                continue
            hit = self._score(item, plate)
            if hit is not None:
                found[item.entry_id] = hit
        return sorted(found.values(), key=lambda m: (m.distance, not m.exact, m.entry_id))

    def _candidates(self, plate: str, canon: str) -> Iterable[_Item]:
        tables = self._tables
        yield from tables["exact"].get(plate, {}).values()
        yield from tables["canon"].get(canon, {}).values()
        if tables["delete"]:
            yield from tables["delete"].get(canon, {}).values()    # the read lost a character
            for key in _deletions(canon):
                yield from tables["delete"].get(key, {}).values()  # one plain substitution
                yield from tables["loose"].get(key, {}).values()   # the read has one extra
        for key in {canon[:2], canon[:1], ""}:
            yield from tables["pattern"].get(key, {}).values()

    def _score(self, item: _Item, plate: str) -> Match | None:
        if item.tokens is not None:
            found = compare_pattern(item.tokens, plate, self._conf)
        else:
            found = compare(item.text, plate, self._conf)
        if not found.accepted(item.strictness):
            return None
        return Match(item.entry_id, found.value, found.cost == 0, found.confusions,
                     found.edits, item.tokens is not None)
