"""Model-output decoding for plates (y5fu rows, RetinaFace priors, CTC) and text
post-processing, on hand-made arrays."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from analytics.plates_correct import constrained_read, postprocess, slot_classes, unsure_province
from analytics.plates_detect import decode_retina, decode_y5fu, retina_priors
from analytics.plates_geometry import Letterbox
from analytics.plates_read import RECOGNISERS, CtcText, ctc_greedy
from core.config.models import ModelOptions
from core.plates import LETTERS, PROVINCES

ALPHABET = ("", *"0123456789", *LETTERS, *PROVINCES, *"使学挂港澳警领")
"""The recogniser's classes: blank, then the 72 characters of clp_dict.txt (any order
works for these tests)."""
IDX = {c: i for i, c in enumerate(ALPHABET)}


def _probs(frames: list[tuple[str, float]], alphabet: tuple[str, ...] = ALPHABET) -> np.ndarray:
    """A (T, C) matrix whose frame t puts ``p`` on class ``c`` ('' = blank) and spreads the
    rest evenly."""
    out = np.zeros((len(frames), len(alphabet)), dtype=np.float32)
    for t, (char, p) in enumerate(frames):
        out[t] = (1 - p) / (len(alphabet) - 1)
        out[t, alphabet.index(char)] = p
    return out


SMALL = ("", "A", "B", "1")


@pytest.mark.parametrize(("frames", "text", "confidences"), [
    ([("", 0.9)] * 4, "", ()),
    ([("A", 0.9), ("A", 0.6)], "A", (0.9,)),                    # a run is one character
    ([("A", 0.9), ("", 0.8), ("A", 0.7)], "AA", (0.9, 0.7)),   # a blank splits a repeat
    ([("A", 0.6), ("A", 0.9), ("", 0.9), ("A", 0.7), ("B", 0.8), ("B", 0.95), ("", 0.9),
      ("", 0.9), ("1", 0.5)], "AAB1", (0.9, 0.7, 0.95, 0.5)),
    ([("B", 0.5), ("1", 0.55)], "B1", (0.5, 0.55)),            # adjacent different classes
])
def test_ctc_greedy(frames: list[tuple[str, float]], text: str,
                    confidences: tuple[float, ...]) -> None:
    decoded = ctc_greedy(_probs(frames, SMALL), SMALL)
    assert decoded.text == text
    assert decoded.char_confidences == pytest.approx(confidences)
    assert decoded.char_probs.shape == (len(text), len(SMALL))


def test_ctc_evidence_is_the_max_over_the_characters_frames() -> None:
    probs = np.array([[0.1, 0.6, 0.3, 0.0],
                      [0.1, 0.5, 0.4, 0.0],
                      [0.9, 0.0, 0.1, 0.0]], dtype=np.float32)
    decoded = ctc_greedy(probs, SMALL)
    assert decoded.text == "A"
    np.testing.assert_allclose(decoded.char_probs[0], [0.1, 0.6, 0.4, 0.0])


def _ctc(text: str, conf: float = 0.9, second: dict[int, tuple[str, float]] | None = None
         ) -> CtcText:
    """A decoded line reading ``text`` at ``conf``; ``second[i] = (char, p)`` gives
    character ``i`` a runner-up class."""
    probs = np.zeros((len(text), len(ALPHABET)), dtype=np.float32)
    for i, char in enumerate(text):
        probs[i, IDX[char]] = conf
        if second and i in second:
            probs[i, IDX[second[i][0]]] = second[i][1]
    return CtcText(text, tuple(conf for _ in text), probs)


SLOTS = slot_classes(ALPHABET)


@pytest.mark.parametrize(("ctc", "text", "changed"), [
    (_ctc("京A12345"), "京A12345", {}),                                     # valid: kept
    (_ctc("京812345", second={1: ("B", 0.3)}), "京B12345", {1: 0.3}),      # digit as issuer
    (_ctc("沪AD1234G", second={7: ("6", 0.2)}), "沪AD12346", {7: 0.2}),    # letter in NE digits
    (_ctc("京A1234", second={}), "京A1234", {}),                           # no 6-char format
    # the province slot's best legal class is 沪 at 0.1: too unsure to name, so unknown
    (_ctc("A京12345", second={0: ("沪", 0.1), 1: ("D", 0.2)}), "?D12345", {0: 0.1, 1: 0.2}),
    (_ctc("A12345"), "?A12345", {0: 0.0}),  # province missing (cut off): unknown
])
def test_postprocess_fixes_only_impossible_characters(ctc: CtcText, text: str,
                                                      changed: dict[int, float]) -> None:
    fixed, confs = postprocess(ctc, ALPHABET, SLOTS)
    assert fixed == text
    expected = [changed.get(i, 0.9) for i in range(len(text))]
    assert confs == pytest.approx(expected)


def test_unsure_province_is_unknown_not_guessed() -> None:
    assert unsure_province("皖A12345", (0.93, *[0.9] * 6)) == ("皖A12345", (0.93, *[0.9] * 6))
    assert unsure_province("皖A12345", (0.3, *[0.9] * 6)) == ("?A12345", (0.3, *[0.9] * 6))
    assert unsure_province("A12345", (0.9,) * 6) == ("?A12345", (0.0, *[0.9] * 6))
    assert unsure_province("使123456", (0.2,) * 7) == ("使123456", (0.2,) * 7)  # no province
    assert unsure_province("A1234", (0.9,) * 5) == ("A1234", (0.9,) * 5)  # not a plate
    assert unsure_province("皖A12345", (0.3, *[0.9] * 6), minimum=0.2)[0] == "皖A12345"


def test_constrained_read_prefers_the_most_probable_format() -> None:
    # 8 characters fit ne_small_8 (slot 2 a new-energy letter, last 4 digits) or ne_large_8
    # (slots 2-6 digits, last a letter); "S" in slot 6 is illegal in both. The runner-up
    # "5" makes ne_large_8 cheap; ne_small_8 would need a letter where "1" was read.
    ctc = _ctc("粤B1234SD", second={6: ("5", 0.4)})
    text, confs = constrained_read(ctc, ALPHABET, SLOTS)
    assert text == "粤B12345D"
    assert confs == pytest.approx((0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.4, 0.9))
    assert constrained_read(_ctc("ABCD"), ALPHABET, SLOTS) == ("", ())


def test_emergency_plates_are_not_spellable_by_this_recogniser() -> None:
    assert SLOTS["emergency"] is None
    assert SLOTS["ordinary_7"] is not None


def _y5fu_row(box: tuple[float, float, float, float], obj: float,
              double: bool = False) -> list[float]:
    cx, cy, w, h = box
    corners = [cx - w / 2, cy - h / 2, cx + w / 2, cy - h / 2, cx + w / 2, cy + h / 2,
               cx - w / 2, cy + h / 2]
    return [cx, cy, w, h, obj, *corners, 0.1 if double else 0.95, 0.95 if double else 0.1]


def test_decode_y5fu_thresholds_suppresses_and_undoes_the_letterbox() -> None:
    frame = Letterbox(scale=0.25, pad_x=0, pad_y=70)
    raw = np.array([
        _y5fu_row((100, 150, 40, 12), 0.9),
        _y5fu_row((101, 150, 40, 12), 0.8),       # duplicate of the first: suppressed
        _y5fu_row((200, 200, 30, 20), 0.9, True),  # a double-row plate
        _y5fu_row((50, 100, 40, 12), 0.2),        # under the threshold
    ], dtype=np.float32)[None]
    plates = decode_y5fu(raw, frame, score_threshold=0.3, iou_threshold=0.5)
    assert len(plates) == 2
    first, second = plates
    # input (80, 144)-(120, 156) → source: minus the padding, divided by the scale
    assert first.box == pytest.approx((320, 296, 480, 344))
    assert first.corners[0] == pytest.approx((320, 296))
    assert first.corners[2] == pytest.approx((480, 344))
    assert first.score == pytest.approx(0.9 * 0.95) and not first.double_row
    assert second.double_row
    assert decode_y5fu(np.zeros((1, 5, 15), np.float32), frame, 0.3, 0.5) == []


def test_retina_priors_layout() -> None:
    priors = retina_priors(64, 64)
    assert priors.shape == ((8 * 8 + 4 * 4 + 2 * 2) * 2, 4)
    np.testing.assert_allclose(priors[0], [4 / 64, 4 / 64, 24 / 64, 24 / 64])
    np.testing.assert_allclose(priors[1], [4 / 64, 4 / 64, 48 / 64, 48 / 64])
    np.testing.assert_allclose(priors[2], [12 / 64, 4 / 64, 24 / 64, 24 / 64])
    np.testing.assert_allclose(priors[128], [8 / 64, 8 / 64, 96 / 64, 96 / 64])


def test_decode_retina_maps_priors_to_source_pixels() -> None:
    priors = retina_priors(64, 64)
    count = priors.shape[0]
    loc = np.zeros((1, count, 4), np.float32)
    conf = np.tile(np.array([0.99, 0.01], np.float32), (1, count, 1))
    conf[0, 0] = (0.1, 0.9)
    landms = np.zeros((1, count, 8), np.float32)
    loc[0, 0] = (1.0, 0.0, 0.0, 0.0)    # centre moves by 0.1 prior widths
    plates = decode_retina([loc, conf, landms], priors, (128.0, 128.0), 0.7, 0.4)
    assert len(plates) == 1
    cx = (4 / 64 + 0.1 * 24 / 64) * 128
    assert plates[0].box == pytest.approx((cx - 24, 8 - 24, cx + 24, 8 + 24), abs=1e-3)
    assert plates[0].corners[0] == pytest.approx((8, 8), abs=1e-3)
    assert plates[0].score == pytest.approx(0.9)


def test_the_config_offers_exactly_the_recognisers_the_reader_knows() -> None:
    """``service.yaml`` (and the CLI, which takes its choices from it) lists recognisers by
    hand in a ``Literal``; a name added to one side only would fail at start-up."""
    fields = ModelOptions.model_fields
    assert set(get_args(fields["plate_recogniser"].annotation)) == set(RECOGNISERS)
    assert set(get_args(fields["plate_second_opinion"].annotation)) - {"none"} <= set(RECOGNISERS)
