"""The shipped recognisers' hard-swish runs inside their convolutions (training/fuse.py).

Paddle wrote each hard-swish as four elementwise ops (x + 3, clip, times x, / 6), which
onnxruntime ran as four passes with a layout reorder on each side: 27 of each, plus 59
reorders, about a quarter of the recogniser's time on this CPU (README, "Plates"). Written
as x * HardSigmoid(x), onnxruntime folds it into the convolution before it. A model file
rewritten or retrained without the fusion would silently give that back. onnxruntime's
own profile of one run names the kernels it executed, so no ONNX library is needed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from analytics.runtime import RuntimeOptions, session_options

SHIPPED = Path(__file__).resolve().parents[2] / "analytics" / "models" / "vigil"


def executed_ops(model: Path, width: int, tmp_path: Path) -> Counter[str]:
    options = session_options(RuntimeOptions())
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / model.stem)
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    x = np.zeros((1, 3, 32, width), dtype=np.float32)
    session.run(None, {session.get_inputs()[0].name: x})
    events = json.loads(Path(session.end_profiling()).read_text())
    return Counter(e["args"]["op_name"] for e in events
                   if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"))


@pytest.mark.parametrize(("name", "width"), [("plate_rec_v2.onnx", 160),
                                             ("plate_rec_v1.onnx", 320)])
def test_shipped_recogniser_has_fused_hardswish(name: str, width: int, tmp_path: Path) -> None:
    ops = executed_ops(SHIPPED / name, width, tmp_path)
    assert ops["Conv"] == 31 and ops["LSTM"] == 2, ops  # the profile does list the graph
    assert ops["Clip"] == 0 and ops["Div"] == 0, ops  # unfused: 27 each
    assert ops["Mul"] <= 2 and ops["ReorderInput"] + ops["ReorderOutput"] <= 8, ops  # 29, 59
