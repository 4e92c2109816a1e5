"""The held-out split is a pure function of the plate string: deterministic, about 20 %, and a
plate never lands on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.split import Crop, held_out, load_crops, split_crops, write_lists

REAL = Path("/work/shared/data/plates_train")


def test_rule_is_deterministic_and_about_a_fifth() -> None:
    plates = [f"京A{n:05d}" for n in range(5000)]
    first = [held_out(p) for p in plates]
    assert first == [held_out(p) for p in plates]
    assert 0.17 < sum(first) / len(first) < 0.23


def test_one_plate_never_on_both_sides(tmp_path: Path) -> None:
    crops = [Crop(Path(f"{i}_{p}.jpg"), p) for i in range(3) for p in ("浙A12345", "沪B54321",
                                                                          "皖AD12345", "京N0000")]
    train, holdout = split_crops(crops)
    assert {c.plate for c in train}.isdisjoint({c.plate for c in holdout})
    assert len(train) + len(holdout) == len(crops)
    write_lists(train, holdout, tmp_path)
    lines = (tmp_path / "holdout_crops.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(holdout)


@pytest.mark.skipif(not (REAL / "real_crops.csv").is_file(), reason="plates_train data absent")
def test_real_crops_split() -> None:
    train, holdout = split_crops(load_crops(REAL))
    assert len(train) + len(holdout) == 1594
    assert 0.15 < len(holdout) / 1594 < 0.25
    assert {c.plate for c in train}.isdisjoint({c.plate for c in holdout})
