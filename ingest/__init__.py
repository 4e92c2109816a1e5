"""Ingest: cameras → ``Frame`` (pixels, in-process only) and ``CameraStatus`` (anywhere).

Map of the package (one concern per file):

* :mod:`ingest.source`    ``FrameSource`` interface, ``SourceSpec``, ``url_to_open`` (the one
  place the URL to open is computed).
* :mod:`ingest.source_registry` ``open_source``: the implementation for each URL scheme.
* :mod:`ingest.live_source` / :mod:`ingest.file_source` / :mod:`ingest.decode`
  PyAV implementations: open options, per-packet decoding with error counting, pacing.
* :mod:`ingest.errors`    how FFmpeg failures map onto ``core.errors`` (all retried).
* :mod:`ingest.slot`      latest-frame slot (newest wins, drops counted).
* :mod:`ingest.health`    frozen / black / blank / degraded, fps, decode time.
* :mod:`ingest.shedding`  analysis counters per camera and load shedding (lower rate, counted).
* :mod:`ingest.lifecycle` the camera state machine and its one ``transition()``.
* :mod:`ingest.worker`    ``CameraWorker``: control/watchdog thread + decode sessions.
* :mod:`ingest.ring` / :mod:`ingest.clip` / :mod:`ingest.recorder`
  evidence packet ring and clip remuxing.
* :mod:`ingest.workerset` / :mod:`ingest.shard` / :mod:`ingest.node`
  ``IngestNode``: cameras over worker processes, hot-reload diff.
"""

from ingest.node import IngestNode, shard_of
from ingest.ring import PacketRing
from ingest.slot import FrameSlot
from ingest.source import FrameSource, Picture, SourceSpec, url_to_open
from ingest.source_registry import open_source
from ingest.worker import CameraWorker, StatusSink
from ingest.workerset import Plan, WorkerSet

__all__ = [
    "CameraWorker",
    "FrameSlot",
    "FrameSource",
    "IngestNode",
    "PacketRing",
    "Picture",
    "Plan",
    "SourceSpec",
    "StatusSink",
    "WorkerSet",
    "open_source",
    "shard_of",
    "url_to_open",
]
