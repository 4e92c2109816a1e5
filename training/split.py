"""The held-out split of the real training crops.

Rule: a crop is held out when the first byte of sha256(plate string, UTF-8) is below 51
(51/256 ≈ 20 %). Splitting by the plate *string*, not the file, keeps every photo of one
plate on one side, so the held-out figure never rewards memorising a plate. The rule needs
no seed and no state: anyone can recompute it from the CSV.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

HOLDOUT_BYTE = 51


def held_out(plate: str) -> bool:
    """True when ``plate`` belongs to the held-out side (never trained on)."""
    return hashlib.sha256(plate.encode("utf-8")).digest()[0] < HOLDOUT_BYTE


@dataclass(frozen=True, slots=True)
class Crop:
    """A labelled real crop: image path and plate text."""

    path: Path
    plate: str


def load_crops(root: Path) -> list[Crop]:
    """Rows of ``root/real_crops.csv`` (columns ``file``, ``plate``; file relative to root)."""
    with (root / "real_crops.csv").open(encoding="utf-8", newline="") as handle:
        return [Crop(root / row["file"], row["plate"]) for row in csv.DictReader(handle)]


def split_crops(crops: list[Crop]) -> tuple[list[Crop], list[Crop]]:
    """(train, held-out), each in input order."""
    train = [c for c in crops if not held_out(c.plate)]
    return train, [c for c in crops if held_out(c.plate)]


def write_lists(train: list[Crop], holdout: list[Crop], out: Path) -> None:
    """The two file lists, so a reader of metrics.json can see exactly what was held out."""
    for name, crops in (("train_crops.txt", train), ("holdout_crops.txt", holdout)):
        (out / name).write_text("".join(f"{c.path.name}\t{c.plate}\n" for c in crops),
                                encoding="utf-8")
