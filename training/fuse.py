"""Fuse the hard-swish activations of a recogniser ONNX file and prove nothing changed.

    .venv-train/bin/python -m training.fuse IN.onnx OUT.onnx [--width 160]

:func:`training.onnx_write.fuse_hardswish` on ``IN``; then both files run through
onnxruntime on 64 seeded random inputs of ``1x3x32xWIDTH``; OUT is written only when every
time step's best class is the same and no probability moved by more than 1e-4. Prints the
count, the largest difference and OUT's sha256. Used on the shipped plate_rec_v1/v2, which
were trained before ``write_weights`` fused by itself (training/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from training.onnx_write import fuse_hardswish

TOLERANCE = 1e-4


def _session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def largest_difference(before: Path, after: Path, width: int, count: int = 64) -> float:
    """Largest absolute output difference; raises when a best class differs."""
    old, new = _session(before), _session(after)
    name = old.get_inputs()[0].name
    rng = np.random.default_rng(36)
    worst = 0.0
    for _ in range(count):
        x = rng.random((1, 3, 32, width), dtype=np.float32)
        a, b = old.run(None, {name: x})[0], new.run(None, {name: x})[0]
        if not (a.argmax(-1) == b.argmax(-1)).all():
            raise ValueError("fused graph changes a best class")
        worst = max(worst, float(np.abs(a - b).max()))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=160, help="input width to test with")
    args = parser.parse_args(argv)
    model = onnx.load(str(args.source))
    fused = fuse_hardswish(model)
    onnx.checker.check_model(model)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "fused.onnx"
        onnx.save(model, str(staged))
        worst = largest_difference(args.source, staged, args.width)
        if worst > TOLERANCE:
            raise SystemExit(f"fused graph differs by {worst:.2e} > {TOLERANCE}: not written")
        args.out.write_bytes(staged.read_bytes())
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{fused} hard-swish fused, largest output difference {worst:.2e}; "
          f"{args.out} {args.out.stat().st_size} bytes sha256 {digest}")


if __name__ == "__main__":
    main()
