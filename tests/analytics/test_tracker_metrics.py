"""The MOT metrics used for the published tracker figures, on hand-made sequences."""

from __future__ import annotations

import pytest

from bench.pets import MotFrames, count_error, mot_metrics

A = (0.0, 0.0, 10.0, 20.0)
B = (100.0, 0.0, 110.0, 20.0)
FAR = (300.0, 300.0, 310.0, 320.0)


@pytest.mark.parametrize(("hyp", "fn", "fp", "idsw", "idtp"), [
    ({1: [(7, A)], 2: [(7, A)], 3: [(7, A)]}, 0, 0, 0, 3),          # perfect
    ({1: [(7, A)], 2: [], 3: [(7, A)]}, 1, 0, 0, 2),                 # one miss
    ({1: [(7, A)], 2: [(8, A)], 3: [(8, A)]}, 0, 0, 1, 2),           # id switch
    ({1: [(7, A), (9, FAR)], 2: [(7, A)], 3: [(7, A)]}, 0, 1, 0, 3),  # false positive
    ({1: [(7, A)], 2: [(8, A)], 3: [(7, A)]}, 0, 0, 2, 2),           # switch and back
])
def test_clear_mot_counts_single_object(hyp: MotFrames, fn: int, fp: int, idsw: int,
                                        idtp: int) -> None:
    gt: MotFrames = {1: [(1, A)], 2: [(1, A)], 3: [(1, A)]}
    result = mot_metrics(gt, hyp)
    assert (result.fn, result.fp, result.idsw, result.idtp) == (fn, fp, idsw, idtp)


def test_swapped_identities_between_two_people() -> None:
    gt: MotFrames = {f: [(1, A), (2, B)] for f in range(1, 5)}
    hyp: MotFrames = {1: [(5, A), (6, B)], 2: [(5, A), (6, B)],
                      3: [(6, A), (5, B)], 4: [(6, A), (5, B)]}
    result = mot_metrics(gt, hyp)
    assert result.idsw == 2 and result.fn == result.fp == 0
    assert result.mota == pytest.approx(1 - 2 / 8)
    assert result.idf1 == pytest.approx(2 * 4 / 16)


def test_count_error_is_mean_absolute_and_signed() -> None:
    mae, bias = count_error({1: 3, 2: 5}, {1: 4, 2: 3})
    assert mae == pytest.approx(1.5) and bias == pytest.approx(-0.5)
