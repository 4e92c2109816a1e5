"""Small plates in large pictures: detection recall and full-string reads at detector
input 320, 640 and ``auto`` (the default), on real plates.

    PYTHONPATH=. .venv/bin/python bench/plates_small.py [--widths 60,80,110]

The field check found secondary plates 60–110 px wide in 1280–1632 px scenes read 56.5 %
at the 320 detector. No labelled photograph of that kind is available here, so this bench
makes them from the real CCPD scenes of the evaluation set (`../shared/data/plates`): each
scene is scaled so that its plate is W px wide and pasted into a 1920x1080 picture of
blurred road texture, at a place drawn from a fixed seed. The plates, their blur and their
lighting are real; the surroundings are not. It also prints the mean detect + read time
per picture for each setting (one core, one intra-op thread).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from analytics import modelpack
from analytics.plates import PlateReader, ReaderOptions
from analytics.plates_geometry import UInt8Image, iou
from analytics.runtime import RuntimeOptions
from vigil.plates_cli import load_image
from vigil.plates_metrics import LabelRow, load_labels

DATA = Path(os.environ.get("VIGIL_DATA", modelpack.REPO_ROOT.parent / "shared" / "data"))
CANVAS = (1920, 1080)
Box = tuple[float, float, float, float]


def place(scene: UInt8Image, bbox: Box, width: int, rng: np.random.Generator
          ) -> tuple[UInt8Image, Box]:
    """``scene`` scaled so the plate is ``width`` px wide, pasted into a 1920x1080 road
    picture; the picture and the plate's new box."""
    scale = width / (bbox[2] - bbox[0])
    small = cv2.resize(scene, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    noise = rng.integers(70, 150, size=(CANVAS[1], CANVAS[0], 3), dtype=np.uint8)
    canvas = np.asarray(cv2.GaussianBlur(noise, (0, 0), 3), dtype=np.uint8)
    # a scene taller or wider than the canvas keeps the part around its plate
    h, w = min(small.shape[0], CANVAS[1] // 2), min(small.shape[1], CANVAS[0] // 2)
    top = int(np.clip((bbox[1] + bbox[3]) / 2 * scale - h / 2, 0, small.shape[0] - h))
    left = int(np.clip((bbox[0] + bbox[2]) / 2 * scale - w / 2, 0, small.shape[1] - w))
    x = int(rng.integers(0, CANVAS[0] - w))
    y = int(rng.integers(0, CANVAS[1] - h))
    canvas[y: y + h, x: x + w] = small[top: top + h, left: left + w]
    dx, dy = x - left, y - top
    return canvas, (bbox[0] * scale + dx, bbox[1] * scale + dy,
                    bbox[2] * scale + dx, bbox[3] * scale + dy)


def score(reader: PlateReader, pictures: list[tuple[UInt8Image, Box, str]]
          ) -> tuple[int, int, float]:
    """Plates found (IoU ≥ 0.5), plates read exactly, mean ms per picture."""
    found = exact = 0
    start = time.perf_counter()
    for image, box, plate in pictures:
        results = [r for r in reader.read_frame(image) if iou(r.box, box) >= 0.5]
        found += bool(results)
        exact += any(r.plate.text == plate for r in results)
    return found, exact, (time.perf_counter() - start) * 1000 / max(len(pictures), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widths", default="60,80,110")
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    parser.add_argument("--seed", type=int, default=36)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    labels = DATA / "plates" / "labels.csv"
    if not labels.is_file():
        raise SystemExit(f"evaluation data absent: {labels} (see ../shared/data/SOURCES.md)")
    rows: list[LabelRow] = [r for r in load_labels(labels) if r.kind == "scene" and r.bbox]
    runtime = RuntimeOptions(intra_op_threads=1)
    readers = {name: PlateReader.load(args.model_dir, ReaderOptions(detector_size=size,
                                                                    runtime=runtime))
               for name, size in (("320", 320), ("640", 640), ("auto", "auto"))}
    print(f"{len(rows)} real CCPD plates per width, pasted into {CANVAS[0]}x{CANVAS[1]}")
    print(f"{'plate px':>8} | " + " | ".join(f"{n:>22}" for n in readers))
    for width in (int(w) for w in args.widths.split(",")):
        rng = np.random.default_rng(args.seed + width)
        pictures = []
        for row in rows:
            scene = load_image(DATA / "plates" / row.file)
            if scene is not None and row.bbox is not None:
                image, box = place(scene, row.bbox, width, rng)
                pictures.append((image, box, row.plate))
        cells = []
        for reader in readers.values():
            found, exact, ms = score(reader, pictures)
            cells.append(f"{found:>2}/{len(pictures)} det {exact:>2} read {ms:5.1f} ms")
        print(f"{width:>8} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
