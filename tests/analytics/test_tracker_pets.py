"""Tracker on PETS 2009 S2L1 ground-truth boxes used as detections: ids stay stable.

The ground truth crosses people, hides them behind a lamp post and walks pairs side by
side, so it exercises association without depending on detector quality. The MOT
metrics come from ``bench/pets.py`` (the same code that prints the published figures).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.pets import MotFrames, load_mot, mot_metrics, track_all
from core.messages import Detection

SHARED = Path(__file__).parents[2] / ".." / "shared"
GT = SHARED / "data" / "video" / "annotations" / "pets2009_s2l1_gt_mot_480x360.txt"
FRAMES = 795

pytestmark = [pytest.mark.slow,  # a whole annotated sequence (not in `make check`)
              pytest.mark.skipif(not GT.is_file(),
                                 reason=f"PETS 2009 ground truth not found at {GT.resolve()}")]


@pytest.fixture(scope="module")
def gt() -> MotFrames:
    return load_mot(GT)


def test_exact_ground_truth_boxes_give_stable_ids(gt: MotFrames) -> None:
    dets = [[Detection("person", 0.9, box) for _, box in gt.get(f + 1, [])]
            for f in range(FRAMES)]
    result = mot_metrics(gt, track_all(dets))
    assert result.idf1 >= 0.98, result
    assert result.mota >= 0.98, result
    assert result.idsw <= 2, result


def test_noisy_ground_truth_missed_and_jittered_boxes(gt: MotFrames) -> None:
    """10 % of boxes dropped, each edge jittered by 5 % of the box size, varied scores."""
    rng = np.random.default_rng(0)
    dets: list[list[Detection]] = []
    for f in range(FRAMES):
        row = []
        for _, (x1, y1, x2, y2) in gt.get(f + 1, []):
            if rng.random() < 0.1:
                continue
            w, h = x2 - x1, y2 - y1
            j = rng.normal(0.0, 0.05, 4) * np.array([w, h, w, h])
            box = (x1 + j[0], y1 + j[1], x2 + j[2], y2 + j[3])
            row.append(Detection("person", float(rng.uniform(0.55, 0.95)), box))
        dets.append(row)
    tracks = track_all(dets)
    result = mot_metrics(gt, tracks)
    track_ids = {i for frame in tracks.values() for i, _ in frame}
    assert result.mota >= 0.85, result
    assert result.idf1 >= 0.80, result
    assert result.idsw <= 15, result
    assert len(track_ids) <= 25  # 19 people: little fragmentation
