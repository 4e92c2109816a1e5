"""ONNX Runtime sessions built one way for every model.

Why one factory: on the 2-core machines Vigil runs on, onnxruntime's defaults are wrong for
us. With several intra-op threads and the default spinning, an idle session burns a whole
core between calls (docs/platform-notes.md, "onnxruntime on 2 cores"): so one intra-op thread,
one inter-op thread and no spinning, and one session per worker process. Accelerators
(TensorRT, CUDA) are used only when the installed onnxruntime offers them *and* the options
allow it, with the CPU provider always last as the fallback. Each session runs one call on
a zero input at load ("warm-up") so that lazy allocation and kernel selection happen at
start-up, not on the first frame of a camera, and so that a model whose input does not fit
the code fails at start-up with its file name.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from core.errors import ModelError

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
CPU = "CPUExecutionProvider"
ACCELERATORS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")
"""Preferred first when present and allowed, in this order."""
_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """How sessions are built. Defaults are right for one worker per core.

    ``accelerators`` allows TensorRT/CUDA when the installed onnxruntime has them;
    ``optimization`` is one of disable, basic, extended, all; ``log_severity`` 3 hides
    onnxruntime's warnings about initializers listed as graph inputs, which some of the
    third-party models trigger by the hundred and which change nothing for inference.
    """

    accelerators: bool = True
    intra_op_threads: int = 1
    inter_op_threads: int = 1
    allow_spinning: bool = False
    optimization: str = "all"
    log_severity: int = 3

    def __post_init__(self) -> None:
        if self.optimization not in _LEVELS:
            raise ValueError(f"optimization must be one of {', '.join(_LEVELS)}, "
                             f"got {self.optimization!r}")
        if self.intra_op_threads < 0 or self.inter_op_threads < 0:
            raise ValueError("thread counts must be >= 0 (0 = onnxruntime's default)")


def choose_providers(options: RuntimeOptions, available: Sequence[str]) -> list[str]:
    """Execution providers to request, best first; CPU is always last."""
    chosen = [p for p in ACCELERATORS if options.accelerators and p in available]
    return [*chosen, CPU]


def session_options(options: RuntimeOptions) -> ort.SessionOptions:
    """onnxruntime ``SessionOptions`` for ``options`` (threads, spinning, optimisation)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = options.intra_op_threads
    opts.inter_op_num_threads = options.inter_op_threads
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = _LEVELS[options.optimization]
    opts.log_severity_level = options.log_severity
    spin = "1" if options.allow_spinning else "0"
    opts.add_session_config_entry("session.intra_op.allow_spinning", spin)
    opts.add_session_config_entry("session.inter_op.allow_spinning", spin)
    return opts


class OnnxModel:
    """A loaded session with a single input: ``run(tensor)`` returns every output.

    All our models take one float32 tensor; hiding the input name here keeps the model
    adapters free of onnxruntime details.
    """

    __slots__ = ("input_name", "input_shape", "path", "providers", "session")

    def __init__(self, path: Path, session: ort.InferenceSession) -> None:
        self.path = path
        self.session = session
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ModelError(f"model file {path.name} has {len(inputs)} inputs, expected 1: "
                             "it is not the model the manifest describes")
        self.input_name: str = inputs[0].name
        self.input_shape: tuple[int | str | None, ...] = tuple(inputs[0].shape)
        self.providers: list[str] = list(session.get_providers())

    def run(self, tensor: FloatArray) -> list[FloatArray]:
        """Run the model on one input tensor."""
        outputs = self.session.run(None, {self.input_name: tensor})
        return [np.asarray(o, dtype=np.float32) for o in outputs]


def warmup_shape(model: OnnxModel, shape: Sequence[int] | None) -> tuple[int, ...]:
    """``shape`` if given, else the model's own input shape; symbolic dimensions without
    an explicit shape are a caller error since no size is right for every model."""
    if shape is not None:
        return tuple(shape)
    dims = model.input_shape
    if not all(isinstance(d, int) for d in dims):
        raise ValueError(f"{model.path.name} has dynamic input {dims}: pass a warm-up shape")
    return tuple(int(d) for d in dims if isinstance(d, int))


def load_model(path: Path, options: RuntimeOptions | None = None,
               shape: Sequence[int] | None = None) -> OnnxModel:
    """Build a session for ``path`` and warm it up with zeros of ``shape``.

    Any failure (unreadable protobuf, an input the code does not expect) becomes a
    :class:`ModelError` naming the file, so it surfaces at start-up as a fatal error.
    """
    options = options or RuntimeOptions()
    providers = choose_providers(options, ort.get_available_providers())
    started = time.perf_counter()
    try:
        session = ort.InferenceSession(str(path), session_options(options),
                                       providers=providers)
    except Exception as exc:  # onnxruntime raises its own Exception subclasses
        raise ModelError(f"model file {path.name} at {path} cannot be loaded ({exc}); "
                         "reinstall it with `vigil models install --from /path/to/pack`"
                         ) from exc
    model = OnnxModel(path, session)
    dims = warmup_shape(model, shape)
    try:
        model.run(np.zeros(dims, dtype=np.float32))
    except Exception as exc:
        raise ModelError(f"model file {path.name} rejects a {dims} input ({exc}): "
                         "not the model this code was written for") from exc
    log.info("model %s loaded on %s in %.0f ms", path.name, ",".join(model.providers),
             (time.perf_counter() - started) * 1000)
    return model
