"""A hook for work that needs the pixels: it runs *inside* the worker process.

Pixels never cross a process, so whatever analyses frames (the analytics pipeline) must
live where the frames are decoded. Ingest cannot import analytics (stages never import
each other), so the node is given a :class:`ConsumerSpec` — an importable factory path and
plain options — and each worker process builds its consumer from it. The consumer is told
when a camera starts (it receives the :class:`~ingest.worker.CameraWorker`, whose ``slot``
holds the newest frame and whose ``ring`` holds the evidence packets) and when it stops.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from core.errors import FatalError

if TYPE_CHECKING:
    from ingest.worker import CameraWorker

Option = str | int | float | bool | None


class FrameConsumer(Protocol):
    def camera_started(self, worker: CameraWorker) -> None:
        """A camera (re)started; take frames from ``worker.slot`` until told it stopped."""
        ...

    def camera_stopped(self, camera_id: str) -> None:
        """The camera is about to stop (removed, or restarting with a new config)."""
        ...

    def close(self) -> None:
        """The worker process is shutting down."""
        ...


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """``factory`` is ``"package.module:function"``; it is called with ``options``."""

    factory: str
    options: Mapping[str, Option] = field(default_factory=dict)


def load_consumer(spec: ConsumerSpec) -> FrameConsumer:
    module_name, _, attr = spec.factory.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise FatalError(f"frame consumer {spec.factory!r} cannot be imported: {exc}") from exc
    consumer: FrameConsumer = factory(dict(spec.options))
    return consumer
