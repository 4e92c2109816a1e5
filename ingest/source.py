"""The ``FrameSource`` stage: something that yields decoded BGR pictures, and its spec.

A source is single-use: ``frames()`` opens, demuxes and decodes in the calling thread (the
camera worker's decode thread) and ends by returning (a file that reached its end) or by
raising :class:`core.errors.SourceError` (anything else, including a live stream that ended:
for a camera, "the stream ended" *is* a disconnect). ``close()`` may be called from any other
thread; it only raises a flag the decoding thread checks between packets, because an FFmpeg
context must never be freed under the thread that is blocked inside it. A decoding thread
that is blocked in a silent socket therefore leaves only when FFmpeg's own ``timeout`` fires
(about twice ``read_timeout``); the worker does not wait for that, it abandons the source.

:func:`url_to_open` is the one place that computes the URL handed to FFmpeg, so credentials
injection (``effective_url``) can be swapped in without touching anything else. Which
implementation opens a URL is :mod:`ingest.source_registry`'s business: this module sits
below the implementations and imports none of them.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias
from urllib.parse import urlsplit

import av.packet
import av.video.stream
import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.config.models import Camera
from core.config.urls import effective_evidence_url, effective_url

FILE_SCHEME = "file"

if TYPE_CHECKING:
    VideoPacket: TypeAlias = av.packet.Packet[av.video.stream.VideoStream]
else:  # PyAV's Packet is generic only in its stubs
    VideoPacket = av.packet.Packet
"""An encoded packet demuxed from a video stream."""


@dataclass(frozen=True, slots=True)
class Picture:
    """One decoded picture as a source delivers it; the worker wraps it into a ``Frame``.

    ``decode_ms`` is CPU time (not wall time) spent decoding and converting this picture, so
    it stays meaningful on a busy machine and answers "how many cameras fit on a core".
    """

    image: npt.NDArray[np.uint8]
    captured_at: float
    decode_ms: float


class SourceStats:
    """Counters a source updates from its decoding thread; readers only ever see ints grow.

    One field goes the other way: ``keyframes_only``, which the camera's worker sets from
    load shedding (:mod:`ingest.shedding`) and the live source reads once per packet (a plain
    bool: a packet decoded under the old value is harmless).
    """

    def __init__(self) -> None:
        self.packets = 0
        self.frames = 0
        self.decode_errors = 0
        self.warmup_errors = 0
        self.skipped = 0
        """Pictures decoded but not delivered because of ``max_fps``."""
        self.lag = 0.0
        """Seconds a live stream's newest packet was read later than its best (a gauge;
        :class:`ingest.decode.StreamLag`); 0 for files."""
        self.keyframes_only = False
        """Set by the worker: decode keyframes only (live sources; files decode all)."""
        self.keyframe_skips = 0
        """Packets left undecoded because of ``keyframes_only`` (and, after it, until the
        next keyframe: the frames between reference pictures that were never decoded)."""


class PacketSink(Protocol):
    """Receives the encoded packets a source demuxes (the evidence ring)."""

    def attach(self, stream: av.video.stream.VideoStream) -> None:
        """A (new) connection starts; ``stream`` carries the codec parameters."""
        ...

    def add(self, packet: VideoPacket, at: float) -> None:
        """One encoded packet that arrived at event time ``at``."""
        ...


class FrameSource(Protocol):
    """One connection's worth of decoded pictures (docs/architecture.md rule 2: one verb)."""

    stats: SourceStats

    def frames(self) -> Generator[Picture, None, None]:
        """Open and decode; return at a file's end, raise ``SourceError`` otherwise."""
        ...

    def close(self) -> None:
        """Ask the decoding thread to stop; safe from any thread, returns at once."""
        ...


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Everything needed to open one source, taken from a ``Camera`` (or built by tests)."""

    url: str
    transport: str = "tcp"
    open_timeout: float = 5.0
    read_timeout: float = 5.0
    realtime: bool = True
    loop: bool = True
    max_fps: float | None = None

    @classmethod
    def for_camera(cls, camera: Camera, evidence: bool = False) -> SourceSpec:
        opts = camera.ingest
        return cls(url=url_to_open(camera, evidence), transport=camera.transport,
                   open_timeout=opts.open_timeout, read_timeout=opts.read_timeout,
                   realtime=opts.realtime, loop=opts.loop, max_fps=opts.max_fps)


def url_to_open(camera: Camera, evidence: bool = False) -> str:
    """The URL FFmpeg opens for ``camera``, credentials included: never log it unredacted.

    The single place ingest computes it (``username``/``password`` are injected by
    :func:`core.config.urls.effective_url`). ``evidence=True`` asks for the evidence (main)
    stream, falling back to the analytics URL.
    """
    if evidence:
        main = effective_evidence_url(camera)
        if main:
            return main
    return effective_url(camera)


def is_file(url: str) -> bool:
    """A plain path, ``file://`` URL or Windows drive path is a file; any other scheme is live."""
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", FILE_SCHEME) or len(scheme) == 1


def file_path(url: str) -> str:
    """``file:///data/a.mp4`` → ``/data/a.mp4``; plain paths unchanged."""
    parts = urlsplit(url)
    if parts.scheme.lower() == FILE_SCHEME:
        return parts.path
    return url


class SourceBase:
    """What every PyAV-backed source shares: its spec, counters, clock, optional packet
    sink (the evidence ring) and a close flag another thread may set."""

    def __init__(self, spec: SourceSpec, clock: Clock, stats: SourceStats,
                 sink: PacketSink | None = None) -> None:
        self.spec = spec
        self.stats = stats
        self._clock = clock
        self._sink = sink
        self._closed = threading.Event()

    def close(self) -> None:
        self._closed.set()
