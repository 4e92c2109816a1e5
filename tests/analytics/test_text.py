"""Text on pictures through FreeType: Chinese is drawn as Chinese, never as "?"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from analytics import text
from analytics.evidence import PLATE_COLOUR, draw_sighting
from analytics.text import Pen, check_font, draw_text, text_mask
from core.errors import FontError

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
"""A font without Chinese (Debian fonts-dejavu-core, installed by `make test`)."""


@pytest.fixture(autouse=True)
def _fresh_fonts() -> None:
    text._font.cache_clear()


def test_jing_is_drawn_as_itself_not_as_a_question_mark() -> None:
    jing, question, missing = (text_mask(c, 48) for c in ("京", "?", "\ue000"))
    assert jing.any()
    assert jing.shape != question.shape or not np.allclose(jing, question)
    assert jing.shape != missing.shape or not np.allclose(jing, missing)
    # 京 has many strokes: far more ink than "?" at the same size
    assert jing.sum() > 1.5 * question.sum()
    assert check_font() == text.font_path()


def test_two_characters_differ() -> None:
    a, b = text_mask("京", 48), text_mask("皖", 48)
    assert a.shape != b.shape or not np.allclose(a, b)


def test_draw_text_writes_only_inside_its_rectangle() -> None:
    image = np.zeros((120, 300, 3), np.uint8)
    draw_text(image, "京A12345", (10, 20), Pen(40, (0, 0, 255), outline=(255, 255, 255)))
    ys, xs = np.nonzero(image.any(axis=2))
    assert ys.min() >= 20 and xs.min() >= 10 and ys.max() < 80
    assert (image[:, :, 2] > 200).sum() > 200  # red ink
    draw_text(image, "京", (1000, 1000), Pen(40, (0, 0, 255)))  # off the picture: no-op


def test_evidence_label_is_drawn_in_the_plate_colour() -> None:
    frame = np.full((720, 1280, 3), 128, np.uint8)
    def label(plate: str) -> npt.NDArray[np.bool_]:
        out = draw_sighting(frame, (640.0, 432.0, 770.0, 468.0), None, plate)
        return np.asarray(np.all(out[380:430, 640:900] == PLATE_COLOUR, axis=2), dtype=bool)

    jing, question = label("京A12345"), label("?A12345")
    assert jing.sum() > 300
    assert (jing != question).sum() > 50  # the province is drawn, not a "?"


def test_font_variable_pointing_nowhere_names_the_fix(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv(text.FONT_ENV, str(tmp_path / "none.ttc"))
    with pytest.raises(FontError, match="fonts-wqy-microhei"):
        text.font_path()


def test_a_font_without_chinese_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DEJAVU.is_file(), "fonts-dejavu-core is installed by `make test`"
    monkeypatch.setenv(text.FONT_ENV, str(DEJAVU))
    with pytest.raises(FontError, match="no glyph for 京"):
        check_font()


def test_no_font_at_all_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.delenv(text.FONT_ENV, raising=False)
    monkeypatch.setattr(text, "FONT_CANDIDATES", (tmp_path / "a.ttc",))
    with pytest.raises(FontError, match="no CJK font found"):
        text.font(20)
