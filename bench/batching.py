"""Batched inference across cameras: what a batch saves per picture on this CPU (issue 13:
"batched inference across cameras in a worker" — measured before building it).

    PYTHONPATH=. .venv-train/bin/python bench/batching.py [--model-dir models] [--seconds 3]

Runs in the training environment (it has ``onnx``; the server never loads what this makes).
The two detectors a camera runs on whole frames, YOLOX-nano (416) and the plate detector
y5fu (320), are exported with a batch of exactly 1: their Reshape nodes spell the batch out.
Each is copied in memory with a free batch dimension (every constant Reshape shape whose
first entry is 1 gets 0, "as the input", and the graph's inputs and outputs a symbolic
first dimension); the copy's output for each picture of a batch must equal the original's
for that picture alone. Then, on one core (one intra-op thread, no spinning, as
``analytics/runtime.py``), milliseconds per picture at batch 1, 2, 4 and 8: the median
of several rounds of ``--seconds`` each. The recogniser already takes a batch (a worker
reads every plate of a frame in one call). Printed: one line per model and batch, then
one JSON line. A batch is worth building only if it saves a good share per picture
without adding the wait for other cameras' frames to every read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

from analytics.runtime import RuntimeOptions, session_options

MODELS = (("yolox", "yolox/yolox_nano.onnx", 416), ("y5fu", "hyperlpr3/y5fu_320x_sim.onnx", 320))
BATCHES = (1, 2, 4, 8)
ROUNDS = 3


def free_batch(model: onnx.ModelProto) -> int:
    """Give ``model`` a free batch dimension in place; returns the Reshape shapes changed."""
    graph = model.graph
    constants = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants[node.output[0]] = node.attribute[0].t
    changed = 0
    for node in graph.node:
        tensor = constants.get(node.input[1]) if node.op_type == "Reshape" else None
        if tensor is None:
            continue
        shape = numpy_helper.to_array(tensor).copy()
        if shape.size and shape[0] == 1:
            shape[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(shape, tensor.name))
            changed += 1
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del graph.value_info[:]
    return changed


def session(data: bytes) -> ort.InferenceSession:
    """On the CPU with the server's session options (analytics.runtime)."""
    return ort.InferenceSession(data, session_options(RuntimeOptions()),
                                providers=["CPUExecutionProvider"])


def per_picture_ms(run: ort.InferenceSession, name: str, batch: np.ndarray,
                   seconds: float) -> float:
    """Median over :data:`ROUNDS` rounds of milliseconds per picture at this batch."""
    for _ in range(3):
        run.run(None, {name: batch})
    rounds = []
    for _ in range(ROUNDS):
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            run.run(None, {name: batch})
            calls += 1
        rounds.append((time.perf_counter() - start) / calls / len(batch) * 1000)
    return statistics.median(rounds)


def measure(path: Path, size: int, seconds: float) -> dict[str, object]:
    original = onnx.load(str(path))
    copy = onnx.ModelProto()
    copy.CopyFrom(original)
    changed = free_batch(copy)
    single, batched = session(original.SerializeToString()), session(copy.SerializeToString())
    name = single.get_inputs()[0].name
    rng = np.random.default_rng(36)
    pictures = rng.random((max(BATCHES), 3, size, size), dtype=np.float32)
    alone = [single.run(None, {name: pictures[k:k + 1]})[0] for k in range(len(pictures))]
    together = batched.run(None, {name: pictures})[0]
    same = all(np.allclose(together[k], alone[k][0], atol=1e-4) for k in range(len(pictures)))
    ms = {b: per_picture_ms(batched, name, pictures[:b], seconds) for b in BATCHES}
    return {"reshapes_changed": changed, "same_output": same,
            "ms_per_picture": {str(b): round(v, 3) for b, v in ms.items()},
            "saving_at_4": round(1 - ms[4] / ms[1], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per round")
    args = parser.parse_args()
    results = {}
    for key, relative, size in MODELS:
        result = results[key] = measure(args.model_dir / relative, size, args.seconds)
        ms = result["ms_per_picture"]
        assert isinstance(ms, dict)
        for batch, value in ms.items():
            print(f"{key:6s} batch {batch}: {value:6.2f} ms per picture")
        print(f"{key:6s} outputs equal to batch 1: {result['same_output']}; "
              f"saving per picture at batch 4: {100 * float(str(result['saving_at_4'])):.1f} %")
    print(json.dumps({"bench": "batching", **results}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
