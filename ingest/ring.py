"""The evidence packet ring: the last ``ring_seconds`` of a camera's ENCODED packets.

Packets are only demuxed, never decoded (demuxing is nearly free: hundreds of stream-seconds
per CPU-second), and kept as whole GOPs so the oldest packet is always a keyframe and any cut
can start cleanly. When an alert fires, :meth:`PacketRing.write_clip` remuxes the packets
between two event times into an MP4 without re-encoding: the clip is bit-identical to what
the camera sent, which is what evidence has to be.

Where the packets come from (decided in :mod:`ingest.worker`): without an ``evidence_url``
the decoding connection feeds the ring as it demuxes (one connection, one demux, both uses);
with one, a separate demux-only connection (:mod:`ingest.recorder`) reads the main stream.

Bounds: time (``seconds``) and memory (``max_bytes``, default 64 MiB); if one GOP alone
exceeds the memory bound (a camera that never sends another keyframe) the ring empties and
waits for the next keyframe. Packets before the first keyframe of a connection are dropped
and counted in ``skipped``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque

import av.video.stream

from ingest.clip import CodecTemplate, RingPacket, write_clip
from ingest.source import VideoPacket

log = logging.getLogger(__name__)


class PacketRing:
    """Thread-safe: one thread adds, any thread may cut clips."""

    def __init__(self, seconds: float, max_bytes: int = 64 << 20) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._gops: deque[list[RingPacket]] = deque()
        self._template: CodecTemplate | None = None
        self._segment = 0
        self._need_key = True
        self._bytes = 0
        self.added = 0
        self.skipped = 0

    def attach(self, stream: av.video.stream.VideoStream) -> None:
        """A connection starts: new segment; different codec parameters empty the ring."""
        template = CodecTemplate(stream)
        with self._lock:
            if self._template is None or self._template.key != template.key:
                if self._gops:
                    log.info("evidence ring: codec parameters changed, dropping %d GOPs",
                             len(self._gops))
                self._gops.clear()
                self._bytes = 0
                self._template = template
            self._segment += 1
            self._need_key = True

    def add(self, packet: VideoPacket, at: float) -> None:
        """Keep ``packet`` (arrived at event time ``at``) and trim what fell out of the window."""
        if not packet.size:
            return
        keyframe = bool(packet.is_keyframe)
        with self._lock:
            if self._template is None or (self._need_key and not keyframe):
                self.skipped += 1
                return
            item = RingPacket(bytes(packet), packet.pts, packet.dts, keyframe, at, self._segment)
            if keyframe:
                self._gops.append([item])
                self._need_key = False
            else:
                self._gops[-1].append(item)
            self._bytes += len(item.data)
            self.added += 1
            self._trim(at)

    def _trim(self, newest: float) -> None:
        while len(self._gops) > 1 and self._gops[1][0].at <= newest - self.seconds:
            self._drop_oldest()
        while self._bytes > self.max_bytes and self._gops:
            self._drop_oldest()
            if not self._gops:
                self._need_key = True

    def _drop_oldest(self) -> None:
        gop = self._gops.popleft()
        self._bytes -= sum(len(p.data) for p in gop)

    def span(self) -> tuple[float, float] | None:
        """Event times of the oldest and newest packet kept, or None when empty."""
        with self._lock:
            if not self._gops:
                return None
            return self._gops[0][0].at, self._gops[-1][-1].at

    @property
    def nbytes(self) -> int:
        return self._bytes

    def cut(self, start: float, end: float) -> tuple[CodecTemplate, list[RingPacket]]:
        """Packets from the last keyframe at or before ``start`` up to ``end`` (inclusive)."""
        with self._lock:
            template = self._template
            packets = [p for gop in self._gops for p in gop]
        begin = 0
        for i, packet in enumerate(packets):
            if packet.at > start:
                break
            if packet.keyframe:
                begin = i
        chosen = [p for p in packets[begin:] if p.at <= end]
        if template is None or not chosen or end < start:
            raise LookupError(f"evidence ring holds nothing between {start:.3f} and {end:.3f}")
        return template, chosen

    def write_clip(self, path: str | os.PathLike[str], start: float, end: float) -> int:
        """Remux the packets between event times ``start`` and ``end`` into ``path``.

        Returns the number of packets written; raises ``LookupError`` when the ring holds
        nothing in that range. Runs in the caller's thread (file I/O, no decoding).
        """
        template, packets = self.cut(start, end)
        written = write_clip(path, template, packets)
        log.info("evidence clip %s: %d packets, %.1f s", os.fspath(path), written,
                 packets[-1].at - packets[0].at)
        return written
