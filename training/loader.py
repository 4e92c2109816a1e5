"""The DataLoader side: whole batches built in worker processes (synthesis, damage,
``rec_input``, and with a frozen CNN its features from onnxruntime), so the training process
only runs the trainable layers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import torch
from torch.utils.data import IterableDataset, get_worker_info

from analytics.plates_read import REC_WIDTH
from training.samples import SampleSource, make_sample, to_input
from training.vocab import encode

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""(inputs or CNN features, concatenated targets, target lengths)."""


@dataclass
class BatchStream(IterableDataset[Batch]):
    """Endless batches; worker ``w`` of a run seeded ``seed`` draws from
    ``default_rng((seed, w))``, so a run is reproducible for a given worker count."""

    source: SampleSource
    vocab: tuple[str, ...]
    batch: int
    seed: int
    frozen_cnn: Path | None = None
    width: int = REC_WIDTH

    def __iter__(self) -> Iterator[Batch]:
        cv2.setNumThreads(1)  # one core per worker: workers are the parallelism
        info = get_worker_info()
        worker = 0 if info is None else info.id
        rng = np.random.default_rng((self.seed, worker))
        session = None
        if self.frozen_cnn is not None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            session = ort.InferenceSession(str(self.frozen_cnn), options,
                                           providers=["CPUExecutionProvider"])
        while True:
            samples = [make_sample(self.source, rng) for _ in range(self.batch)]
            inputs = np.stack([to_input(image, self.width) for image, _, _ in samples])
            if session is not None:
                inputs = session.run(None, {session.get_inputs()[0].name: inputs})[0]
            labels = [encode(label, self.vocab) for _, label, _ in samples]
            yield (torch.from_numpy(inputs),
                   torch.tensor([c for label in labels for c in label], dtype=torch.long),
                   torch.tensor([len(label) for label in labels], dtype=torch.long))
