"""Length repair and the second opinion's rules (analytics/plates_correct.py), on hand-made
CTC evidence; the reader with both real recognisers is in test_plates_reader.py."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.plates_correct import (
    better_read,
    one_deleted,
    plate_score,
    postprocess,
    slot_classes,
    unsure,
)
from analytics.plates_read import CtcText
from core.plates import LETTERS, PROVINCES

ALPHABET = ("", *"0123456789", *LETTERS, *PROVINCES, *"使学挂港澳警领")
SLOTS = slot_classes(ALPHABET)


def _ctc(text: str, confs: list[float]) -> CtcText:
    """A decoded line reading ``text`` with these per-character confidences (no runner-up
    classes: the same-length correction can only pick what was read)."""
    probs = np.zeros((len(text), len(ALPHABET)), dtype=np.float32)
    for i, char in enumerate(text):
        probs[i, ALPHABET.index(char)] = confs[i]
    return CtcText(text, tuple(confs), probs)


@pytest.mark.parametrize(("raw", "confs", "expected"), [
    # a border read as a trailing 1 (seen on 94x24 CCPD crops: 皖A34V881)
    ("皖A34V881", [0.97, 1, 1, 1, 1, 0.97, 1, 0.63], "皖A34V88"),
    ("皖AL509LA", [1, 1, 0.98, 1, 1, 1, 1, 0.73], "皖AL509L"),
    ("皖皖AQ8512", [0.95, 1, 1, 1, 1, 1, 1, 1], "皖AQ8512"),   # the province twice
])
def test_one_character_too_many_is_deleted(raw: str, confs: list[float],
                                           expected: str) -> None:
    text, kept = postprocess(_ctc(raw, confs), ALPHABET, SLOTS)
    assert text == expected
    assert len(kept) == len(expected)


def test_a_valid_eight_character_plate_is_never_shortened() -> None:
    assert postprocess(_ctc("皖AD12345", [1, 1, 1, 1, 1, 1, 1, 0.51]), ALPHABET, SLOTS)[0] \
        == "皖AD12345"


def test_deletion_prefers_the_least_supported_character() -> None:
    score, text, kept = one_deleted("京A123456", (1, 1, 1, 0.4, 1, 1, 1, 0.99)) or (0, "", ())
    assert text == "京A13456"  # deleting the 2 (0.4) beats deleting the sure final 6
    assert kept == (1, 1, 1, 1, 1, 1, 0.99)
    assert score == pytest.approx(np.log(0.99) + np.log(0.6))
    assert one_deleted("ABC", (0.5, 0.5, 0.5)) is None


def test_unsure_and_score_ignore_an_unknown_province() -> None:
    assert not unsure("?A12345", (0.0, *[0.99] * 6))
    assert unsure("京A12345", (0.99, 0.99, 0.9, 0.99, 0.99, 0.99, 0.99))
    assert unsure("A1234", (1.0,) * 5)  # not a plate
    assert plate_score("?A12345", (0.0, *[1.0] * 6)) == pytest.approx(0.0)
    assert plate_score("A1234", (1.0,) * 5) == -np.inf


def test_the_surer_read_wins_but_never_brings_its_province() -> None:
    mine = ("京A1B345", (0.9, 0.99, 0.99, 0.4, 0.99, 0.99, 0.99))
    other = ("皖A18345", (0.99, 0.99, 0.99, 0.95, 0.99, 0.99, 0.99))
    text, confs = better_read(mine, other)
    assert text == "京A18345"  # its serial, my province
    assert confs[0] == 0.9
    unknown = ("?A1B345", (0.0, 0.99, 0.99, 0.4, 0.99, 0.99, 0.99))
    assert better_read(unknown, other)[0] == "?A18345"  # unknown stays unknown, not 皖


def test_the_second_read_changes_the_length_only_of_a_non_plate() -> None:
    eight = ("粤AD12345", (0.9, 0.99, 0.6, 0.99, 0.99, 0.99, 0.99, 0.99))
    seven = ("粤A12345", (0.99,) * 7)
    assert better_read(eight, seven) == eight
    broken = ("粤AD123", (0.9,) * 6)  # no plate
    assert better_read(broken, ("粤AD12345", (0.9,) * 8))[0] == "粤AD12345"
    assert better_read(seven, ("粤A12346", (0.5,) * 7)) == seven  # the surer stays
