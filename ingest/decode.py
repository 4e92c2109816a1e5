"""PyAV plumbing shared by the live and file sources: open options and per-packet decoding.

Why these open options (measured, docs/platform-notes.md):

* ``timeout`` (µs) on RTSP/HTTP sockets: without it a silent server (SIGSTOP, a camera whose
  encoder hung) blocks the read forever; with it FFmpeg raises after about twice the value.
  PyAV's own interrupt-callback timeout is set as well, as a second fence for protocols that
  ignore ``timeout``.
* ``analyzeduration=100000`` / ``probesize=32768``: opening an RTSP stream drops from ~1.2 s
  to ~0.25 s; H.264/H.265 carry their parameters in the SDP or the first keyframe, so the
  short probe finds width/height reliably (the test streams open at 320x240 with it).
* one decode thread per stream (``thread_count=1``, slice threading): frame threading makes a
  single stream faster but costs 20-35 % more CPU per frame, and a node runs many streams.

Corrupt input never escapes as an exception from a packet: a packet that fails to decode and
a frame FFmpeg flags as corrupt (concealed) both count as a decode error; only a long run of
consecutive errors becomes a :class:`SourceError`, so the worker reconnects.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

import av
import av.container
import av.error
import av.video.frame
import av.video.stream
import numpy as np

from core.errors import SourceError
from core.redact import redact_url
from ingest.errors import SourceRefused, describe, map_av_error
from ingest.source import Picture, SourceSpec, SourceStats, VideoPacket

log = logging.getLogger(__name__)

Decoded = tuple[av.video.frame.VideoFrame, float]
"""A decoded frame and the CPU seconds its decoding cost."""

MAX_CONSECUTIVE_ERRORS = 50
"""A run this long (two seconds at 25 fps) of undecodable packets means reconnect."""

PROBE_OPTIONS = {"analyzeduration": "100000", "probesize": "32768"}


def live_options(spec: SourceSpec) -> dict[str, str]:
    """FFmpeg options for a live URL, by scheme (see the module docstring for why)."""
    scheme = urlsplit(spec.url).scheme.lower()
    micros = str(int(spec.read_timeout * 1_000_000))
    options = dict(PROBE_OPTIONS)
    if scheme in ("rtsp", "rtsps"):
        options.update(rtsp_transport=spec.transport, timeout=micros)
    elif scheme in ("http", "https"):
        options.update(timeout=micros)
    else:
        options.update(rw_timeout=micros)
    return options


def open_input(spec: SourceSpec, live: bool) -> av.container.InputContainer:
    """Open ``spec.url``; every failure comes back as a (redacted) ``SourceError``."""
    try:
        if live:
            return av.open(spec.url, "r", options=live_options(spec),
                           timeout=(spec.open_timeout, spec.read_timeout))
        return av.open(spec.url, "r")
    except (av.error.FFmpegError, OSError) as exc:
        raise map_av_error(exc, spec.url) from exc


def video_stream(container: av.container.InputContainer, url: str) -> av.video.stream.VideoStream:
    """The first video stream, set up for one decode thread."""
    if not container.streams.video:
        raise SourceRefused(f"{redact_url(url)}: no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "SLICE"
    stream.thread_count = 1
    return stream


class PacketDecoder:
    """Decodes one stream packet by packet, counting (not raising) decode errors.

    Errors before the first clean frame of a connection (a camera that starts sending in
    the middle of a GOP) are counted as ``warmup_errors`` and do not degrade the camera;
    they still count towards the consecutive-error limit.
    """

    def __init__(self, stream: av.video.stream.VideoStream, stats: SourceStats, url: str) -> None:
        self._stream = stream
        self._stats = stats
        self._url = url
        self._clean = False
        self.consecutive_errors = 0

    def decode(self, packet: VideoPacket | None) -> list[Decoded]:
        """Frames in ``packet`` (None flushes) with the CPU seconds spent on each."""
        started = time.thread_time()
        try:
            frames = self._stream.decode(packet)
        except av.error.FFmpegError as exc:
            self._error(f"packet failed to decode ({describe(exc)})")
            return []
        if not frames:
            return []
        share = (time.thread_time() - started) / len(frames)
        out = []
        for frame in frames:
            if frame.is_corrupt:
                self._error("frame flagged corrupt")
            else:
                self._clean = True
                self.consecutive_errors = 0
            out.append((frame, share))
        return out

    def _error(self, reason: str) -> None:
        self.consecutive_errors += 1
        if not self._clean:
            self._stats.warmup_errors += 1
        else:
            self._stats.decode_errors += 1
        if self._stats.decode_errors % 100 == 1:
            log.warning("%s: %s (%d decode errors so far)",
                        redact_url(self._url), reason, self._stats.decode_errors)
        if self.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
            raise SourceError(f"{redact_url(self._url)}: stream corrupt "
                              f"({self.consecutive_errors} consecutive decode errors)")


def to_picture(frame: av.video.frame.VideoFrame, cpu_seconds: float,
               captured_at: float) -> Picture:
    """Convert to a read-only BGR array; conversion CPU time joins the decode time."""
    started = time.thread_time()
    image = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
    image.flags.writeable = False
    spent = cpu_seconds + time.thread_time() - started
    return Picture(image=image, captured_at=captured_at, decode_ms=spent * 1000.0)


class RateLimit:
    """``max_fps``: deliver at most ``max_fps`` pictures a second, on average exactly that
    many when the source is faster; the rest are skipped and counted (``skipped``).

    Pacing is by schedule, not by distance to the last picture: each delivered picture moves
    the due time on by one period, and a picture up to a quarter period early still counts.
    Measuring from the last picture lost a whole source frame to every bit of arrival jitter
    (``max_fps: 5`` gave 4.75 fps, 25 gave about 19). After a stall the schedule restarts
    rather than bursting to catch up. Decoding still happens (P-frames reference each
    other); only conversion and delivery are saved. Times are the pictures' own event times,
    so a fast replay limits the same way.
    """

    def __init__(self, max_fps: float | None) -> None:
        self._period = 0.0 if not max_fps else 1.0 / max_fps
        self._due: float | None = None
        self.skipped = 0

    def allow(self, at: float) -> bool:
        """True when the picture at ``at`` (seconds) should be delivered."""
        if self._period <= 0.0:
            return True
        if self._due is not None and at < self._due - self._period / 4:
            self.skipped += 1
            return False
        late = self._due is None or at > self._due + self._period
        self._due = (at if late or self._due is None else self._due) + self._period
        return True


class StreamLag:
    """How far the demuxer runs behind a live stream: seconds of video that arrived in the
    socket but have not been read yet (what piled up when a node was overloaded).

    Each packet's media time (``dts``, else ``pts``, in seconds) is compared with the wall
    time it was read at: ``offset = read_at - media``. The smallest offset of the connection
    is the stream read without delay; ``lag`` is how much later than that the current
    packet came. A stream whose media time goes backwards (a server looping a file) starts
    a new baseline. Sender jitter shows as a few tens of milliseconds.
    """

    def __init__(self) -> None:
        self._base: float | None = None
        self._media = 0.0
        self.lag = 0.0

    def packet(self, media: float | None, read_at: float) -> float:
        """One packet; returns the current lag (unchanged for a packet without a time)."""
        if media is None:
            return self.lag
        offset = read_at - media
        if self._base is None or media < self._media or offset < self._base:
            self._base = offset
        self._media = media
        self.lag = offset - self._base
        return self.lag


def media_time(packet: VideoPacket) -> float | None:
    """A packet's decode (else presentation) time in seconds; None when it has neither."""
    stamp = packet.dts if packet.dts is not None else packet.pts
    if stamp is None or packet.time_base is None:
        return None
    return float(stamp * packet.time_base)
