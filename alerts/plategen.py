"""Random valid plates, OCR-style misreads and the accuracy measurement built on them.

The accuracy tests and ``bench/alerts.py`` share this module.

Both must draw from the same distribution, or the benchmark would quote a figure the tests
never checked. Plates are drawn slot by slot from :data:`core.plates.FORMAT_SLOTS`, so every
plate is valid by construction (a test checks it against the regexes too). The format mix is
a rough guess at a city street (mostly blue ordinary plates, a growing share of green ones);
it changes how hard the task is only slightly, since every format is exercised. Serial slots
hold a digit 70 % of the time, as on real plates, rather than 10 times in 34.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerts.matching import Strictness
from alerts.matching_index import WatchlistIndex
from core.plates import (
    DEFAULT_CONFUSIONS,
    DIGITS,
    FORMAT_SLOTS,
    LETTERS,
    PROVINCES,
    SERIALS,
    UNKNOWN,
    Confusions,
)

FORMAT_WEIGHTS: Mapping[str, int] = {
    "ordinary_7": 70, "ne_small_8": 14, "suffix_7": 6, "embassy": 5, "ne_large_8": 3,
    "emergency": 2, "civil_aviation": 1,
}
SERIAL_DIGIT_SHARE = 0.7
_SERIAL = tuple(sorted(SERIALS))
_CHOICES = {name: tuple(_SERIAL if slot == frozenset(SERIALS) else tuple(sorted(slot))
                        for slot in slots)
            for name, slots in FORMAT_SLOTS.items()}


def _draw(rng: random.Random, chars: tuple[str, ...]) -> str:
    if chars is _SERIAL:
        return rng.choice(DIGITS if rng.random() < SERIAL_DIGIT_SHARE else LETTERS)
    return rng.choice(chars)


def random_plate(rng: random.Random, kind: str | None = None) -> str:
    """One valid plate of format ``kind`` (default: drawn by :data:`FORMAT_WEIGHTS`)."""
    if kind is None:
        kind = rng.choices(tuple(FORMAT_WEIGHTS), weights=tuple(FORMAT_WEIGHTS.values()))[0]
    return "".join(_draw(rng, chars) for chars in _CHOICES[kind])


def random_plates(rng: random.Random, count: int, exclude: Iterable[str] = (),
                  kind: str | None = None) -> list[str]:
    """``count`` distinct valid plates, none of them in ``exclude``."""
    seen = set(exclude)
    plates: list[str] = []
    while len(plates) < count:
        plate = random_plate(rng, kind)
        if plate not in seen:
            seen.add(plate)
            plates.append(plate)
    return plates


def confusion_variants(plate: str, confusions: Confusions = DEFAULT_CONFUSIONS) -> list[str]:
    """Every string one look-alike substitution away from ``plate`` — including impossible
    ones such as ``O`` in a serial slot, because OCR produces those too."""
    variants: list[str] = []
    for index, char in enumerate(plate):
        for other in confusions.group(char):
            if other != char:
                variants.append(plate[:index] + other + plate[index + 1:])
    return variants


def misread(rng: random.Random, plate: str,
            confusions: Confusions = DEFAULT_CONFUSIONS) -> str | None:
    """A single look-alike misread of ``plate`` drawn uniformly from
    :func:`confusion_variants`; ``None`` when no character of the plate has a look-alike."""
    variants = confusion_variants(plate, confusions)
    return rng.choice(variants) if variants else None


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Outcome of :func:`measure_accuracy`: random plates that hit (false matches) and
    single look-alike misreads of listed plates that hit their entry (caught)."""

    listed: int
    probes: int
    false_matches: int
    misreads: int
    caught: int

    @property
    def caught_share(self) -> float:
        return self.caught / self.misreads if self.misreads else 1.0


@dataclass(frozen=True, slots=True)
class _Listed:
    entry_id: str
    plate: str | None
    pattern: str | None
    strictness: Strictness


def measure_accuracy(seed: int, listed: int = 1000, probes: int = 10_000,
                     strictness: Strictness = Strictness.STRICT) -> Accuracy:
    """The accuracy figures the tests assert and the benchmark prints, on seeded data:
    ``listed`` random plates on a list, ``probes`` other random valid plates (every hit is a
    false match) and *every* single look-alike misread of every listed plate."""
    rng = random.Random(seed)
    plates = random_plates(rng, listed)
    index = WatchlistIndex(_Listed(f"e{i}", p, None, strictness) for i, p in enumerate(plates))
    others = random_plates(rng, probes, exclude=plates)
    false_matches = sum(1 for plate in others if index.match(plate))
    misreads = caught = 0
    for i, plate in enumerate(plates):
        for variant in confusion_variants(plate):
            misreads += 1
            caught += any(m.entry_id == f"e{i}" for m in index.match(variant))
    return Accuracy(listed, probes, false_matches, misreads, caught)


def measure_unknown_province(seed: int, listed: int = 1000, probes: int = 10_000
                             ) -> Accuracy:
    """The same figures for reads whose province was not seen (``?A12345``): ``probes``
    random plates whose other characters no listed plate shares, read with ``?`` in front
    (every hit is a false match), and every listed plate read so (``misreads``/``caught``:
    how many of them hit their own entry)."""
    rng = random.Random(seed)
    plates = [p for p in random_plates(rng, listed * 2) if p[0] in PROVINCES][:listed]
    index = WatchlistIndex(_Listed(f"e{i}", p, None, Strictness.STRICT)
                           for i, p in enumerate(plates))
    tails = {p[1:] for p in plates}
    others = [p for p in random_plates(rng, probes * 2, exclude=plates)
              if p[0] in PROVINCES and p[1:] not in tails][:probes]
    false_matches = sum(1 for plate in others if index.match(UNKNOWN + plate[1:]))
    caught = sum(any(m.entry_id == f"e{i}" and m.unknown_province
                     for m in index.match(UNKNOWN + plate[1:]))
                 for i, plate in enumerate(plates))
    return Accuracy(len(plates), len(others), false_matches, len(plates), caught)
