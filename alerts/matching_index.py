"""The watchlist index: listed plates and patterns filed so that a read finds its entries in
microseconds (the keys are explained in :mod:`alerts.matching`'s module docstring).

Split from :mod:`alerts.matching`, which holds the distance and the pattern language this
index scores with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import takewhile
from typing import Protocol

from alerts.matching import (
    Strictness,
    Token,
    compare,
    compare_pattern,
    is_pattern,
    parse_pattern,
)
from core.plates import DEFAULT_CONFUSIONS, Confusions, normalize, unknown_province


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
    unknown_province: bool = False
    """The read's province was not seen (``?A12345``, :data:`core.plates.UNKNOWN`): the
    rest of the plate matched, the province was taken on trust."""


@dataclass(frozen=True, slots=True)
class _Item:
    entry_id: str
    text: str
    strictness: Strictness
    keys: tuple[tuple[str, str], ...]
    tokens: tuple[Token, ...] | None = None
    sieve: re.Pattern[str] | None = None
    """For patterns: a regex every acceptable plate's canonical form matches, so the costly
    alignment runs only for plausible plates."""


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1:] for i in range(len(key))}


def _sieve(tokens: tuple[Token, ...], strictness: Strictness,
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
            "exact": {}, "canon": {}, "loose": {}, "delete": {}, "pattern": {}, "tail": {},
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
        keys = [("canon", canon), ("tail", plate[1:])]
        if strictness is Strictness.LOOSE:
            keys += [("loose", canon)] + [("delete", k) for k in sorted(_deletions(canon))]
        return _Item(target.entry_id, plate, strictness, tuple(keys))

    def match(self, plate: str) -> list[Match]:
        """Every entry ``plate`` hits under the entry's strictness, best first (distance,
        then exact before tolerant, then entry id)."""
        plate = normalize(plate)
        if unknown_province(plate):
            return self._match_tail(plate)
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

    def _match_tail(self, plate: str) -> list[Match]:
        """A read whose province is unknown (``?A12345``) hits listed plates (not patterns,
        not ``exact`` entries) whose other characters are *identical* to its own, whatever
        the entry's tolerance: with one slot taken on trust, allowing a look-alike as well
        gave 1 false match in 30,000 random plates against 1,000 entries (A4 wants 0)."""
        found = [Match(item.entry_id, 0.0, False, 0, 0, unknown_province=True)
                 for item in self._tables["tail"].get(plate[1:], {}).values()]
        return sorted(found, key=lambda m: m.entry_id)

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
