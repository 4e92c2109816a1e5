"""Plate matching: a confusion-weighted distance and an index that answers in microseconds.

A camera reads ``京A8B123`` where the list says ``京AB8123``? Probably not the same car. It reads
``京A1O345`` where the list says ``京A10345``? Certainly the same car: ``O`` cannot stand in a
serial slot. The distance here encodes that: substituting a look-alike costs little, less still
when one side is impossible in its slot, and anything else costs a full edit.

Costs are integers in hundredths (:data:`CONFUSION` = 30 is 0.30) so that sums are exact and
the distance is exactly symmetric; :class:`Distance` reports them as floats.

The index (:mod:`alerts.matching_index`) never scans. Every plate is filed under its
*canonical* key (each character replaced by its look-alike group's representative,
:meth:`core.plates.Confusions.canonical`): every
plate reachable by look-alike substitutions shares that key, so one dict lookup returns all
candidates and only those are scored. Loose entries are also filed under their one-character
deletions (the SymSpell trick): one plain substitution, insertion or deletion costs a handful
of further lookups. Patterns (:func:`parse_pattern`) are few; they sit in buckets keyed by
their canonical leading literals and a regex sieve skips the implausible ones. A read whose
province is unknown (``?A12345``) is looked up by its other characters (the ``tail`` key).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from core.plates import (
    DEFAULT_CONFUSIONS,
    Confusions,
    Slots,
    normalize,
    slot_rules,
)

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
Token = tuple[str, frozenset[str]]
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


def parse_pattern(text: str) -> tuple[Token, ...]:
    """Tokens of a watchlist pattern.

    Syntax: literal characters (normalised like plates: full-width, case and separators do not
    matter), ``?`` = exactly one character, ``*`` = any run of characters (also none),
    ``[...]`` = one character from a set, with ranges (``[0-9]``, ``[A-HJ-NP-Z]``).
    Examples: ``京A12*`` (every 京A12 plate), ``京A1234?``, ``粤B[0-9]123[DF]``.
    """
    tokens: list[Token] = []
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


def _token_cost(token: Token, char: str, legal: frozenset[str] | None,
                conf: Confusions) -> _Cell:
    kind, chars = token
    if kind == "any" or char in chars:
        return (0, 0, 0)
    return min(_sub(c, char, legal, conf) for c in chars)


def compare_pattern(tokens: tuple[Token, ...], plate: str,
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
