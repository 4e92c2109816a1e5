"""Accuracy on PETS 2009 S2L1 view 1: person counts, MOTA and IDF1 of detector + tracker.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.pets`` (reads ``../shared`` beside the repo,
or ``--data``/``--model-dir``). The clip is 795 frames of 480×360 at 10 fps; the ground
truth (A. Milan's annotations) lists every person in view, including people partially
hidden by the lamp post or cut by the frame edge, so a detector that misses them is
charged for it: the figures are honest, not flattering.

The MOT metrics are implemented here (small and dependency-free):

* CLEAR MOT — per frame, ground-truth objects keep last frame's tracker id while IoU ≥ 0.5,
  the rest are matched by optimal assignment on ``1 − IoU``; FN, FP, ID switches;
  ``MOTA = 1 − (FN + FP + IDSW) / GT``.
* IDF1 — one global bipartite matching of ground-truth ids to tracker ids maximising the
  frames where both are present with IoU ≥ 0.5; ``IDF1 = 2·IDTP / (GT + predictions)``.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analytics.appearance import FloatArray, describe
from analytics.geometry import iou_matrix
from analytics.tracker import Tracker, TrackerOptions, min_cost_assignment
from core.messages import Box, Detection, Frame

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
VIDEO = Path("data/video/pets2009_s2l1_view001.avi")
GT_MOT = Path("data/video/annotations/pets2009_s2l1_gt_mot_480x360.txt")
COUNTS = Path("data/video/annotations/pets2009_s2l1_person_counts.csv")
FPS = 10.0

Labelled = list[tuple[int, Box]]
"""One frame's objects: ``(id, box)``."""
MotFrames = dict[int, Labelled]
"""Frame number (1-based, as in MOT files) → objects."""


def load_mot(path: Path) -> MotFrames:
    """MOTChallenge rows ``frame,id,x,y,w,h,...`` → frame → [(id, x1 y1 x2 y2)]."""
    frames: MotFrames = defaultdict(list)
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        f, i, x, y, w, h = (float(v) for v in line.split(",")[:6])
        frames[int(f)].append((int(i), (x, y, x + w, y + h)))
    return dict(frames)


def load_counts(path: Path) -> dict[int, int]:
    """``frame,persons`` CSV → frame (1-based) → count."""
    with path.open(newline="") as handle:
        return {int(r["frame"]): int(r["persons"]) for r in csv.DictReader(handle)}


@dataclass(frozen=True, slots=True)
class MotResult:
    gt: int
    predictions: int
    fn: int
    fp: int
    idsw: int
    idtp: int

    @property
    def mota(self) -> float:
        return 1.0 - (self.fn + self.fp + self.idsw) / max(1, self.gt)

    @property
    def idf1(self) -> float:
        return 2.0 * self.idtp / max(1, self.gt + self.predictions)

    @property
    def recall(self) -> float:
        return 1.0 - self.fn / max(1, self.gt)

    @property
    def precision(self) -> float:
        return 1.0 - self.fp / max(1, self.predictions)


def _frame_matches(gt: Labelled, hyp: Labelled, previous: Mapping[int, int],
                   min_iou: float) -> dict[int, int]:
    """GT id → tracker id for one frame, keeping last frame's pairs that still overlap."""
    iou = iou_matrix([b for _, b in gt], [b for _, b in hyp])
    gt_index = {g: i for i, (g, _) in enumerate(gt)}
    hyp_index = {h: j for j, (h, _) in enumerate(hyp)}
    pairs: dict[int, int] = {}
    for g, h in previous.items():
        if g in gt_index and h in hyp_index and iou[gt_index[g], hyp_index[h]] >= min_iou:
            pairs[g] = h
    free_g = [i for i, (g, _) in enumerate(gt) if g not in pairs]
    taken = set(pairs.values())
    free_h = [j for j, (h, _) in enumerate(hyp) if h not in taken]
    sub = iou[np.ix_(free_g, free_h)]
    cost = np.where(sub >= min_iou, 1.0 - sub, 1e6)
    for r, c in min_cost_assignment(cost):
        if sub[r, c] >= min_iou:
            pairs[gt[free_g[r]][0]] = hyp[free_h[c]][0]
    return pairs


def mot_metrics(gt: Mapping[int, Labelled], hyp: Mapping[int, Labelled],
                min_iou: float = 0.5) -> MotResult:
    """CLEAR MOT counts and IDF1's IDTP for tracker output ``hyp`` against ``gt``."""
    last: dict[int, int] = {}
    previous: dict[int, int] = {}
    fn = fp = idsw = n_gt = n_hyp = 0
    overlap: dict[tuple[int, int], int] = defaultdict(int)
    for frame in sorted(set(gt) | set(hyp)):
        g, h = gt.get(frame, []), hyp.get(frame, [])
        n_gt, n_hyp = n_gt + len(g), n_hyp + len(h)
        pairs = _frame_matches(g, h, previous, min_iou)
        idsw += sum(1 for gi, hi in pairs.items() if gi in last and last[gi] != hi)
        last.update(pairs)
        previous = pairs
        fn += len(g) - len(pairs)
        fp += len(h) - len(pairs)
        _count_overlaps(g, h, min_iou, overlap)
    return MotResult(n_gt, n_hyp, fn, fp, idsw, _idtp(overlap))


def _count_overlaps(gt: Labelled, hyp: Labelled, min_iou: float,
                    overlap: dict[tuple[int, int], int]) -> None:
    iou = iou_matrix([b for _, b in gt], [b for _, b in hyp])
    for i, j in zip(*np.nonzero(iou >= min_iou), strict=True):
        overlap[(gt[i][0], hyp[j][0])] += 1


def _idtp(overlap: Mapping[tuple[int, int], int]) -> int:
    """Frames agreeing under the best one-to-one GT id ↔ tracker id assignment."""
    if not overlap:
        return 0
    g_ids = sorted({g for g, _ in overlap})
    h_ids = sorted({h for _, h in overlap})
    gain = np.zeros((len(g_ids), len(h_ids)))
    for (g, h), n in overlap.items():
        gain[g_ids.index(g), h_ids.index(h)] = n
    return int(sum(gain[r, c] for r, c in min_cost_assignment(-gain)))


def frames(video: Path) -> Iterator[Frame]:
    """Decoded BGR frames of ``video`` with ``captured_at = index / FPS``."""
    import av

    with av.open(str(video)) as container:
        for seq, decoded in enumerate(container.decode(video=0)):
            image = np.asarray(decoded.to_ndarray(format="bgr24"), dtype=np.uint8)
            yield Frame("pets", seq, seq / FPS, image)


def detect_all(video: Path, model_dir: Path,
               score: float) -> tuple[list[list[Detection]], list[FloatArray], float]:
    """Person detections for every frame, their colour descriptors (what the pipeline
    hands the tracker) and the mean detector time per frame (ms)."""
    from analytics.detector import DetectorOptions, load_yolox

    detector = load_yolox(model_dir, DetectorOptions(score_threshold=score,
                                                      classes=frozenset({"person"})))
    out: list[list[Detection]] = []
    looks: list[FloatArray] = []
    spent = 0.0
    for frame in frames(video):
        started = time.perf_counter()
        out.append(detector.detect(frame))
        spent += time.perf_counter() - started
        looks.append(describe(frame.image, [d.box for d in out[-1]]))
    return out, looks, 1000.0 * spent / max(1, len(out))


def track_all(detections: Sequence[Sequence[Detection]],
              options: TrackerOptions | None = None,
              appearance: Sequence[FloatArray] | None = None) -> dict[int, Labelled]:
    """Tracker output per frame (1-based frame numbers, like the ground truth), with the
    per-frame colour descriptors when given."""
    tracker = Tracker("pets", options)
    out: dict[int, Labelled] = {}
    for index, dets in enumerate(detections):
        looks = appearance[index] if appearance is not None else None
        tracks = tracker.update(list(dets), index / FPS, looks)
        out[index + 1] = [(t.track_id, t.box) for t in tracks]
    return out


def count_error(counts: Mapping[int, int], found: Mapping[int, int]) -> tuple[float, float]:
    """Mean absolute and mean signed (found − truth) per-frame count error."""
    diffs = [found.get(f, 0) - n for f, n in counts.items()]
    return float(np.mean(np.abs(diffs))), float(np.mean(diffs))


def report(shared: Path, model_dir: Path, score: float) -> None:
    """Print count error, MOTA and IDF1 for detector + tracker on the clip."""
    for needed in (VIDEO, GT_MOT, COUNTS):
        if not (shared / needed).is_file():
            raise SystemExit(f"missing {shared / needed}: PETS 2009 data is not installed")
    gt, counts = load_mot(shared / GT_MOT), load_counts(shared / COUNTS)
    detections, appearance, det_ms = detect_all(shared / VIDEO, model_dir, score)
    cut = sum(1 for boxes in gt.values() for _, (x1, y1, x2, y2) in boxes
              if x1 < 2 or y1 < 2 or x2 > 478 or y2 > 358)
    print(f"PETS 2009 S2L1 view 1: {len(detections)} frames 480x360, "
          f"{sum(counts.values())} GT person boxes ({cut} cut by the frame edge); "
          f"YOLOX-nano 416, detector score ≥ {score}")
    print(f"detector: {det_ms:.1f} ms/frame incl. pre/post-processing")
    for threshold in (0.3, 0.4, 0.5, 0.6):
        per_frame = {i + 1: sum(d.score >= threshold for d in dets)
                     for i, dets in enumerate(detections)}
        mae, bias = count_error(counts, per_frame)
        print(f"count from detections score ≥ {threshold:.1f}: MAE {mae:.3f}  bias {bias:+.3f}")
    for name, looks in (("boxes only", None), ("boxes + colour", appearance)):
        started = time.perf_counter()
        tracks = track_all(detections, None, looks)
        track_ms = 1000.0 * (time.perf_counter() - started) / len(detections)
        mae, bias = count_error(counts, {f: len(v) for f, v in tracks.items()})
        result = mot_metrics(gt, tracks)
        print(f"tracker, {name} ({track_ms:.2f} ms/frame): count from confirmed tracks "
              f"MAE {mae:.3f}  bias {bias:+.3f}\n"
              f"  MOTA {result.mota:.3f}  IDF1 {result.idf1:.3f}  "
              f"recall {result.recall:.3f}  precision {result.precision:.3f}  "
              f"FN {result.fn}  FP {result.fp}  IDSW {result.idsw}  "
              f"GT ids {len({i for v in gt.values() for i, _ in v})}  "
              f"track ids {len({i for v in tracks.values() for i, _ in v})}")
    oracle = mot_metrics(gt, track_all(_gt_as_detections(gt, len(detections))))
    print(f"tracker fed ground-truth boxes:   MOTA {oracle.mota:.3f}  IDF1 {oracle.idf1:.3f}  "
          f"IDSW {oracle.idsw}")


def _gt_as_detections(gt: Mapping[int, Labelled], count: int) -> list[list[Detection]]:
    return [[Detection("person", 0.9, box) for _, box in gt.get(i + 1, [])]
            for i in range(count)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=SHARED, help="the shared folder")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="model pack folder (default: <data>/models)")
    parser.add_argument("--score", type=float, default=0.1,
                        help="detector threshold (ByteTrack uses the low scores too)")
    args = parser.parse_args(argv)
    report(args.data, args.model_dir or args.data / "models", args.score)


if __name__ == "__main__":
    main()
