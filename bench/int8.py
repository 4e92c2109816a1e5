"""int8 models: how much faster, and how much they lose (issue 13: "int8-quantised models
where accuracy holds — measure both").

    PYTHONPATH=. .venv-train/bin/python bench/int8.py [--model-dir models] [--data ../shared/data]

Runs in the training environment (training/README.md: it has ``onnx`` and the same
onnxruntime as the server); the server never loads what this writes. Each model is
quantised with onnxruntime's own tools into a temporary folder and measured against its
float32 original on one core (one intra-op thread, no spinning, as ``analytics/runtime.py``):

* **plate recogniser** (``plate_rec_v1.onnx``): static int8 (QDQ, per-channel weights,
  uint8 activations) of the convolutions, calibrated on 200 training crops of
  ``plates_train/`` (the held-out side excluded); and dynamic int8 of the LSTM and MatMul
  weights. The graph is opset 10, which has no per-channel quantisation, so it is first
  optimised by onnxruntime (BatchNorm folded) and raised to opset 13 by rewriting its Clip
  and Squeeze nodes (:func:`opset13`). Measured: ms per crop, and greedy-CTC exact reads
  (no format correction) on the dev crops of ``plates/`` and the held-out real crops.
* **YOLOX-nano**: static int8 (QDQ, per-channel), opset 11 → 13 (no op of it changed
  meaning), calibrated on 100 frames of the two Intel clips in ``video/``; measured on 160
  frames of the two highway clips and PETS: ms per frame (with pre- and post-processing)
  and the share of float32 detections found again (same class, IoU ≥ 0.7).

Printed: one line per model and variant, then one JSON line. Nothing here is a default:
a variant that loses reads or detections stays a measurement.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_dynamic,
    quantize_static,
)

from analytics.detector import YoloxDetector, letterbox
from analytics.geometry import iou_matrix
from analytics.plates_read import ctc_greedy, load_alphabet, rec_input
from analytics.runtime import RuntimeOptions, session_options
from core.messages import Detection, Frame
from training.samples import read_image
from training.split import load_crops, split_crops

Feed = dict[str, np.ndarray]
Labelled = list[tuple[np.ndarray, str]]


class Feeds(CalibrationDataReader):  # type: ignore[misc]
    """Calibration inputs for onnxruntime's quantiser, one dict per call."""

    def __init__(self, feeds: Sequence[Feed]) -> None:
        self._it: Iterator[Feed] = iter(feeds)

    def get_next(self) -> Feed | None:
        return next(self._it, None)


def session(path: Path) -> ort.InferenceSession:
    """On the CPU with the server's session options (analytics.runtime: one intra-op
    thread, no spinning)."""
    return ort.InferenceSession(str(path), session_options(RuntimeOptions()),
                                providers=["CPUExecutionProvider"])


def opset13(source: Path, out: Path) -> Path:
    """``source`` optimised by onnxruntime (basic level) and raised to opset 13: Clip's
    min/max and Squeeze's axes move from attributes to inputs (Softmax on the last axis
    means the same in both); the result is checked by ``onnx.checker``."""
    folded = out.with_suffix(".basic.onnx")
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    opts.optimized_model_filepath = str(folded)
    ort.InferenceSession(str(source), opts, providers=["CPUExecutionProvider"])
    model = onnx.load(str(folded))
    graph = model.graph
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Clip" and attrs:
            for tag, value in (("min", attrs.get("min", -3.4e38)),
                               ("max", attrs.get("max", 3.4e38))):
                graph.initializer.append(numpy_helper.from_array(
                    np.array(value, np.float32), f"{node.name}_{tag}"))
                node.input.append(f"{node.name}_{tag}")
            del node.attribute[:]
        elif node.op_type == "Squeeze" and "axes" in attrs:
            graph.initializer.append(numpy_helper.from_array(
                np.array(attrs["axes"], np.int64), f"{node.name}_axes"))
            node.input.append(f"{node.name}_axes")
            keep = [a for a in node.attribute if a.name != "axes"]
            del node.attribute[:]
            node.attribute.extend(keep)
    return _save_as_opset13(model, out)


def _save_as_opset13(model: Any, out: Path) -> Path:
    keep = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    for entry in keep:
        entry.version = 13
    del model.opset_import[:]
    model.opset_import.extend(keep)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return out


def static_int8(source: Path, out: Path, feeds: Sequence[Feed],
                ops: Sequence[str] | None = None) -> Path:
    quantize_static(str(source), str(out), Feeds(feeds), quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, op_types_to_quantize=ops)
    return out


def timed(call: Callable[[int], object], n: int) -> float:
    """Milliseconds per call of ``call(i)`` for i < n, after 10 warm-up calls."""
    for i in range(10):
        call(i % n)
    started = time.perf_counter()
    for i in range(n):
        call(i)
    return (time.perf_counter() - started) * 1000 / n


def recogniser_rows(model_dir: Path, data: Path, work: Path) -> list[dict[str, Any]]:
    source = model_dir / "vigil" / "plate_rec_v1.onnx"
    alphabet = load_alphabet(model_dir / "vigil" / "plate_rec_v1_dict.txt")
    train, held = split_crops(load_crops(data / "plates_train"))
    rng = np.random.default_rng(0)
    calib = [{"x": rec_input([read_image(str(train[i].path))])}
             for i in rng.choice(len(train), 200, replace=False)]
    with (data / "plates" / "labels.csv").open(encoding="utf-8") as handle:
        dev = [(read_image(str(data / "plates" / r["file"])), r["plate"])
               for r in csv.DictReader(handle) if r["kind"] == "crop"]
    held_out = [(read_image(str(c.path)), c.plate) for c in held]
    raised = opset13(source, work / "rec13.onnx")
    variants = {
        "float32": source,
        "static int8 (convolutions)": static_int8(raised, work / "rec_s8.onnx", calib, ["Conv"]),
        "dynamic int8 (LSTM, MatMul)": _dynamic(raised, work / "rec_dyn.onnx"),
    }
    rows = []
    for name, path in variants.items():
        sess = session(path)
        ms = timed(_reader_call(sess, dev), 200)
        rows.append({"model": "plate_rec_v1", "variant": name, "ms": round(ms, 2),
                     "dev_exact": _reads(sess, dev, alphabet), "dev_n": len(dev),
                     "held_out_exact": _reads(sess, held_out, alphabet),
                     "held_out_n": len(held_out), "bytes": path.stat().st_size})
    return rows


def _reader_call(sess: ort.InferenceSession, crops: Labelled) -> Callable[[int], object]:
    return lambda i: sess.run(None, {"x": rec_input([crops[i][0]])})


def _detector_call(detector: YoloxDetector, pictures: list[Frame]) -> Callable[[int], object]:
    return lambda i: detector.detect(pictures[i])


def _dynamic(source: Path, out: Path) -> Path:
    quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8,
                     op_types_to_quantize=["LSTM", "MatMul", "Gemm"])
    return out


def _reads(sess: ort.InferenceSession, crops: Labelled, alphabet: Sequence[str]) -> int:
    return sum(ctc_greedy(sess.run(None, {"x": rec_input([crop])})[0][0], alphabet).text
               == plate for crop, plate in crops)


def frames(video: Path, count: int, step: int) -> list[np.ndarray]:
    """``count`` frames of ``video``, every ``step``-th, at D1 (704x576)."""
    cap = cv2.VideoCapture(str(video))
    out: list[np.ndarray] = []
    index = 0
    while len(out) < count:
        ok, picture = cap.read()
        if not ok:
            break
        if index % step == 0:
            out.append(cv2.resize(picture, (704, 576)))
        index += 1
    cap.release()
    return out


class _Model:
    def __init__(self, path: Path) -> None:
        self._sess = session(path)

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        return list(self._sess.run(None, {"images": tensor}))


def yolox_rows(model_dir: Path, data: Path, work: Path) -> list[dict[str, Any]]:
    source = model_dir / "yolox" / "yolox_nano.onnx"
    video = data / "video"
    calib = (frames(video / "intel_car-detection.mp4", 60, 10)
             + frames(video / "intel_person-bicycle-car-detection.mp4", 40, 10))
    test = (frames(video / "bgslibrary_video02_highway_cctv.avi", 60, 5)
            + frames(video / "bgslibrary_video03_highway_cdnet.avi", 60, 5)
            + frames(video / "pets2009_s2l1_view001.avi", 40, 10))
    model = onnx.load(str(source))
    raised = _save_as_opset13(model, work / "yolox13.onnx")
    feeds = [{"images": letterbox(f, 416)[0]} for f in calib]
    variants = {"float32": source,
                "static int8": static_int8(raised, work / "yolox_s8.onnx", feeds)}
    found: dict[str, list[list[Detection]]] = {}
    rows = []
    for name, path in variants.items():
        detector = YoloxDetector(_Model(path))
        pictures = [Frame("bench", i, 0.0, f) for i, f in enumerate(test)]
        ms = timed(_detector_call(detector, pictures), len(pictures))
        found[name] = [detector.detect(p) for p in pictures]
        rows.append({"model": "yolox_nano", "variant": name, "ms": round(ms, 2),
                     "detections": sum(map(len, found[name])),
                     "float32_found_again": _found_again(found["float32"], found[name]),
                     "bytes": path.stat().st_size})
    return rows


def _found_again(reference: list[list[Detection]], other: list[list[Detection]]) -> float:
    """Share of reference detections with a same-class detection at IoU ≥ 0.7."""
    hit = total = 0
    for ref, got in zip(reference, other, strict=True):
        total += len(ref)
        for label in {d.label for d in ref}:
            a = [list(d.box) for d in ref if d.label == label]
            b = [list(d.box) for d in got if d.label == label]
            if b:
                hit += int((iou_matrix(np.array(a), np.array(b)).max(axis=1) >= 0.7).sum())
    return round(hit / total, 4) if total else 1.0


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model-dir", type=Path, default=root / "models")
    parser.add_argument("--data", type=Path, default=root.parent / "shared" / "data")
    args = parser.parse_args(argv)
    for need in ("plates/labels.csv", "plates_train/real_crops.csv", "video"):
        if not (args.data / need).exists():
            print(f"skipped: {args.data / need} is missing (../shared/data, SOURCES.md)")
            return 0
    with tempfile.TemporaryDirectory(prefix="vigil-int8-") as tmp:
        rows = (recogniser_rows(args.model_dir, args.data, Path(tmp))
                + yolox_rows(args.model_dir, args.data, Path(tmp)))
    for row in rows:
        extra = (f"dev {row['dev_exact']}/{row['dev_n']}  held-out {row['held_out_exact']}/"
                 f"{row['held_out_n']}" if "dev_n" in row else
                 f"{row['detections']} detections, float32 found again "
                 f"{100 * row['float32_found_again']:.1f} %")
        print(f"{row['model']:<13} {row['variant']:<28} {row['ms']:6.2f} ms  {extra}")
    print(json.dumps({"bench": "int8", "rows": rows}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
