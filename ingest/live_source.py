"""PyAV source for live URLs: rtsp(s)://, rtmp(s)://, http(s):// (including HLS).

Capture time is the wall clock when the picture is decoded: cameras' RTCP clocks are too
often wrong to trust, and every later stage compares times across cameras.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator

import av.error

from core.errors import SourceError
from core.redact import redact_url
from ingest.decode import (
    PacketDecoder,
    RateLimit,
    StreamLag,
    media_time,
    open_input,
    to_picture,
    video_stream,
)
from ingest.errors import map_av_error
from ingest.source import Picture, SourceBase, VideoPacket

log = logging.getLogger(__name__)


class LiveSource(SourceBase):
    """One connection to a live stream. Ending without an error is a disconnect.

    Decoding runs in the session's own thread and never waits for analysis (the slot is
    newest-wins), so a slow analysis cannot leave video unread in the socket; the CPU it
    takes from this thread can, and ``stats.lag`` (:class:`ingest.decode.StreamLag`) shows
    how many seconds of stream are waiting to be read.
    """

    _lag: StreamLag
    _resume = False
    """True from a keyframes-only packet until the next keyframe (see :meth:`_undecoded`)."""

    def frames(self) -> Generator[Picture, None, None]:
        url = self.spec.url
        container = open_input(self.spec, live=True)
        try:
            stream = video_stream(container, url)
            log.info("%s: opened %s %dx%d", redact_url(url), stream.codec_context.name,
                     stream.codec_context.width, stream.codec_context.height)
            if self._sink is not None:
                self._sink.attach(stream)
            decoder = PacketDecoder(stream, self.stats, url)
            limit = RateLimit(self.spec.max_fps)
            self._lag = StreamLag()
            self._resume = False
            try:
                for packet in container.demux(stream):
                    if self._closed.is_set():
                        return
                    yield from self._packet(packet, decoder, limit)
            except (av.error.FFmpegError, OSError) as exc:
                raise map_av_error(exc, url) from exc
            if not self._closed.is_set():
                raise SourceError(f"{redact_url(url)}: stream ended (disconnected)")
        finally:
            container.close()

    def _packet(self, packet: VideoPacket, decoder: PacketDecoder,
                limit: RateLimit) -> Iterator[Picture]:
        if packet.size == 0:
            return
        self.stats.packets += 1
        at = self._clock.now()
        self.stats.lag = self._lag.packet(media_time(packet), at)
        if self._sink is not None:
            self._sink.add(packet, at)
        if self._undecoded(packet):
            self.stats.keyframe_skips += 1
            return
        for frame, cpu in decoder.decode(packet):
            if limit.allow(at):
                self.stats.frames += 1
                yield to_picture(frame, cpu, at)
            else:
                self.stats.skipped += 1

    def _undecoded(self, packet: VideoPacket) -> bool:
        """Whether load shedding leaves ``packet`` undecoded: while ``keyframes_only``, every
        packet but keyframes; after it, the packets up to the next keyframe (they reference
        pictures that were never decoded and would come out as concealed, corrupt frames).
        Demuxing, the lag gauge and the evidence ring still see every packet."""
        if packet.is_keyframe:
            self._resume = False
            return False
        if self.stats.keyframes_only:
            self._resume = True
        return self._resume
