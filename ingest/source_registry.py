"""Which ``FrameSource`` opens which URL: an explicit registry keyed by URL scheme.

``ingest/source.py`` says what a source is (the protocol, ``SourceSpec``, ``SourceBase``);
the implementations (``file_source.py``, ``live_source.py``) build on it, and this module,
above all of them, maps each scheme to one. ``open_source`` once lived in ``source.py`` and
imported the implementations inside the function: an import circle (``source`` →
``file_source`` → ``source``) that only worked because the import was deferred. A new
source type is now a module beside ``live_source.py`` and a line in :data:`SOURCES`.

The keys are exactly the schemes the config accepts (``core.config.urls.SOURCE_SCHEMES``,
where a plain path or a Windows drive counts as ``file``); a test keeps the two equal. A
URL with another scheme can only come from a direct caller (the config refuses it): it
goes to FFmpeg as a live stream, as it always has, so FFmpeg may still open what it knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from core.clock import Clock
from core.config.urls import url_scheme
from ingest.file_source import FileSource
from ingest.live_source import LiveSource
from ingest.source import FrameSource, PacketSink, SourceSpec, SourceStats

SourceFactory = Callable[[SourceSpec, Clock, SourceStats, PacketSink | None], FrameSource]
"""Builds an unopened source; ``frames()`` opens it (in the decoding thread)."""

SOURCES: Mapping[str, SourceFactory] = MappingProxyType({
    "file": FileSource,  # paced by pts, optionally looped
    "rtsp": LiveSource,
    "rtsps": LiveSource,
    "rtmp": LiveSource,
    "http": LiveSource,  # including HLS
    "https": LiveSource,
})
OTHER_SCHEMES: SourceFactory = LiveSource
"""For a scheme not in :data:`SOURCES` (only direct callers build one): try it live."""


def source_factory(url: str) -> SourceFactory:
    """The implementation that opens ``url``, by its scheme (``file`` for a plain path)."""
    return SOURCES.get(url_scheme(url), OTHER_SCHEMES)


def open_source(spec: SourceSpec, clock: Clock, stats: SourceStats,
                sink: PacketSink | None = None) -> FrameSource:
    """A source for ``spec.url`` (file with pacing, or live PyAV), not opened yet."""
    return source_factory(spec.url)(spec, clock, stats, sink)
