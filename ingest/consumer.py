"""A hook for work that needs the pixels: it runs *inside* the worker process.

Pixels never cross a process, so whatever analyses frames (the analytics pipeline) must
live where the frames are decoded. Ingest cannot import analytics (stages never import
each other), so the node is given a :class:`ConsumerSpec` — the factory itself, a
module-level function passed in by the command layer, and plain options — and each worker
process builds its consumer from it. The consumer is told when a camera starts (it receives
the :class:`~ingest.worker.CameraWorker`, whose ``slot`` holds the newest frame and whose
``ring`` holds the evidence packets) and when it stops.

Worker processes are started with ``spawn``, so the spec travels to them pickled, and
pickle sends a function as its module and name, imported again in the child. That is why
the factory must be a module-level function (not a lambda, a closure or a bound method):
:func:`check_picklable` says so in the parent, before any process starts, instead of a
traceback from a child that cannot rebuild it.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Mapping
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


ConsumerFactory = Callable[[dict[str, Option]], FrameConsumer]
"""Builds a worker process's consumer from the spec's options (a copy, its own to keep)."""


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """``factory`` is called with ``options`` in each worker process (or in this one when
    the node runs its cameras in-process)."""

    factory: ConsumerFactory
    options: Mapping[str, Option] = field(default_factory=dict)


def check_picklable(spec: ConsumerSpec) -> None:
    """Refuse, with the reason, a spec that cannot reach a spawned worker process."""
    try:
        pickle.dumps(spec)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        name = getattr(spec.factory, "__qualname__", repr(spec.factory))
        raise FatalError(f"frame consumer factory {name!r} cannot be sent to a worker "
                         f"process: pass a module-level function ({exc})") from exc


def load_consumer(spec: ConsumerSpec) -> FrameConsumer:
    """The consumer of this process, built from ``spec`` (in the worker process)."""
    return spec.factory(dict(spec.options))
