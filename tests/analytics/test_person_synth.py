"""The drawn person (vigil/synth/person.py): deterministic, the right size, inside the
picture where the demo says, blended without touching pixels outside its box."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vigil.synth.person import DEMO_LOOK, PersonLook, Walker, draw_person, render_person


def test_same_inputs_give_the_same_pixels() -> None:
    first = render_person(DEMO_LOOK, 180, 1.0)
    render_person.cache_clear()
    second = render_person(DEMO_LOOK, 180, 1.0)
    assert first is not second
    assert np.array_equal(first.image, second.image)
    assert np.array_equal(first.alpha, second.alpha)


@pytest.mark.parametrize("height", [120, 180, 220])
def test_sprite_is_as_tall_as_asked_and_stands_on_its_feet(height: int) -> None:
    sprite = render_person(DEMO_LOOK, height, 0.5)
    rows = np.flatnonzero(sprite.alpha.max(axis=1) > 0.5)
    assert abs(len(rows) - height) <= 3
    assert sprite.alpha[-3:].max() > 0.5  # feet at the bottom row, where foot says
    assert 0 <= sprite.foot[0] < sprite.alpha.shape[1]


def test_walk_cycle_moves_the_limbs() -> None:
    poses = [render_person(DEMO_LOOK, 180, p).alpha for p in (0.0, math.pi / 2, math.pi)]
    widths = {a.shape[1] for a in poses}
    assert len(widths) > 1 or not np.array_equal(poses[0], poses[1])


def test_looks_differ_in_colour() -> None:
    red = render_person(PersonLook(shirt=(20, 20, 200)), 150, 0.0).image
    blue = render_person(PersonLook(shirt=(200, 20, 20)), 150, 0.0).image
    assert not np.array_equal(red, blue)


def test_draw_changes_only_the_returned_box_and_its_shadow() -> None:
    frame = np.full((300, 400, 3), 120, dtype=np.uint8)
    walker = Walker((200, 280), -6.0, 160)
    x1, y1, x2, y2 = walker.draw(frame, 0)
    assert (x2 - x1, y2 - y1) > (20, 150)
    changed = np.argwhere((frame != 120).any(axis=2))
    assert changed[:, 0].min() >= y1 and changed[:, 1].min() >= x1 - 80
    assert changed[:, 1].max() < x2 + 80 and changed[:, 0].max() < 300


def test_walker_facing_follows_its_speed() -> None:
    sprite = render_person(DEMO_LOOK, 160, 0.0)
    left = np.zeros((200, 200, 3), dtype=np.uint8)
    right = np.zeros((200, 200, 3), dtype=np.uint8)
    draw_person(left, sprite, (100, 190), -1)
    draw_person(right, sprite, (100, 190), 1)
    assert not np.array_equal(left, right)


def test_out_of_frame_draws_nothing() -> None:
    frame = np.full((100, 100, 3), 50, dtype=np.uint8)
    box = draw_person(frame, render_person(DEMO_LOOK, 80, 0.0), (-200, 90))
    assert box == (0, 0, 0, 0)
    assert (frame == 50).all()


def test_phase_is_quantised_and_periodic() -> None:
    walker = Walker((0, 100), 6.0, 180, cycle=0.8)
    per_cycle = round(0.8 * 180 / 6.0)  # frames per walk cycle
    assert walker.phase(0) == walker.phase(per_cycle) == 0.0
    assert len({walker.phase(i) for i in range(per_cycle)}) > 8
