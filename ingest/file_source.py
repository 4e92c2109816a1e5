"""File source (a path or ``file://``) for demos and replay: paced by pts, optionally looped.

Event times are media time laid onto the wall clock at open: ``captured_at = opened_at +
seconds of media played so far`` (loops keep counting). With ``realtime`` the source sleeps
until each picture is due, so a file behaves like a camera; without it, it runs as fast as
it decodes and the event times stay exactly what a real-time run would have produced, which
makes ``vigil replay`` deterministic. A paced source that falls more than a second behind
(a slow machine) re-anchors instead of bursting to catch up.

Pacing waits in real time against ``clock.monotonic()``: with a ``FakeClock`` use
``realtime=False``.

Each loop reopens the file: cheaper to reason about than seeking in a possibly damaged file,
and the evidence ring sees each pass as a new segment.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Generator, Iterator
from dataclasses import replace
from fractions import Fraction

import av.error
import av.video.stream

from core.clock import Clock
from core.errors import SourceError
from ingest.decode import PacketDecoder, RateLimit, open_input, to_picture, video_stream
from ingest.errors import SourceRefused, map_av_error
from ingest.source import (
    PacketSink,
    Picture,
    SourceBase,
    SourceSpec,
    SourceStats,
    VideoPacket,
    file_path,
)

log = logging.getLogger(__name__)

MAX_LAG = 1.0
"""Seconds a paced file may fall behind before pacing restarts from now."""


class MediaTimer:
    """Seconds since the stream's start for successive timestamps; fills gaps at frame rate."""

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        rate = stream.average_rate or stream.guessed_rate
        self.step = float(1 / rate) if rate else 0.04
        self._tb: Fraction | None = stream.time_base
        start = stream.start_time
        self._base: float | None = (float(start * self._tb)
                                    if start is not None and self._tb is not None else None)
        self.last = -self.step

    def seconds(self, ts: int | None) -> float:
        if ts is None or self._tb is None:
            value = self.last + self.step
        else:
            t = float(ts * self._tb)
            if self._base is None:
                self._base = t
            value = t - self._base
        self.last = value
        return value


class Pacer:
    """Maps media seconds onto event time and, when real-time, waits until each is due."""

    def __init__(self, clock: Clock, realtime: bool, closed: threading.Event) -> None:
        self._clock = clock
        self._realtime = realtime
        self._closed = closed
        self._wall0 = clock.now()
        self._mono0 = clock.monotonic()

    def wall(self, media_seconds: float) -> float:
        return self._wall0 + media_seconds

    def wait_for(self, media_seconds: float) -> None:
        if not self._realtime:
            return
        delay = self._mono0 + media_seconds - self._clock.monotonic()
        if delay < -MAX_LAG:
            self._mono0 -= delay
            self._wall0 -= delay
        elif delay > 0:
            self._closed.wait(delay)


class FileSource(SourceBase):
    """Decodes a video file, paced and looped according to its ``SourceSpec``."""

    def __init__(self, spec: SourceSpec, clock: Clock, stats: SourceStats,
                 sink: PacketSink | None = None) -> None:
        super().__init__(replace(spec, url=file_path(spec.url)), clock, stats, sink)

    def frames(self) -> Generator[Picture, None, None]:
        path = self.spec.url
        if not os.path.isfile(path):
            raise SourceRefused(f"{path}: no such file")
        pacer = Pacer(self._clock, self.spec.realtime, self._closed)
        offset = 0.0
        while not self._closed.is_set():
            played = yield from self._play_once(pacer, offset)
            if self._closed.is_set():
                return
            if played is None:
                raise SourceError(f"{path}: no decodable picture in the file")
            if not self.spec.loop:
                return
            log.debug("%s: looping after %.2f s of media", path, played)
            offset = played

    def _play_once(self, pacer: Pacer, offset: float) -> Generator[Picture, None, float | None]:
        """One pass over the file; returns the media offset where the next pass starts."""
        container = open_input(self.spec, live=False)
        try:
            stream = video_stream(container, self.spec.url)
            if self._sink is not None:
                self._sink.attach(stream)
            state = _Pass(stream, self.stats, self.spec, offset)
            try:
                for packet in container.demux(stream):
                    if self._closed.is_set():
                        break
                    yield from self._packet(packet, state, pacer)
            except (av.error.FFmpegError, OSError) as exc:
                raise map_av_error(exc, self.spec.url) from exc
            return state.end if state.delivered else None
        finally:
            container.close()

    def _packet(self, packet: VideoPacket, state: _Pass, pacer: Pacer) -> Iterator[Picture]:
        if packet.size:
            self.stats.packets += 1
            if self._sink is not None:
                self._sink.add(packet, pacer.wall(state.offset + state.dts.seconds(packet.dts)))
        for frame, cpu in state.decoder.decode(packet if packet.size else None):
            media = state.offset + state.pts.seconds(frame.pts)
            state.end = media + state.pts.step
            state.decoded += 1
            if not state.limit.allow(media):
                self.stats.skipped += 1
                continue
            pacer.wait_for(media)
            if self._closed.is_set():
                return
            state.delivered += 1
            self.stats.frames += 1
            yield to_picture(frame, cpu, pacer.wall(media))


class _Pass:
    """Per-pass decoding state (decoder, timers, rate limit, counters)."""

    def __init__(self, stream: av.video.stream.VideoStream, stats: SourceStats,
                 spec: SourceSpec, offset: float) -> None:
        self.decoder = PacketDecoder(stream, stats, spec.url)
        self.limit = RateLimit(spec.max_fps)
        self.pts = MediaTimer(stream)
        self.dts = MediaTimer(stream)
        self.offset = offset
        self.end = offset
        self.decoded = 0
        self.delivered = 0
