"""Writing ring packets to a clip file by remuxing (no re-encode), with timestamp repair.

Packets in a ring can come from several connections (segments): each reconnect restarts the
stream's timestamps, and RTSP leaves the very first packet without any (FFmpeg reports
``pts=None`` until it has a reference). A clip needs one strictly increasing ``dts`` line,
so each segment is made relative to its first known timestamp, missing values are filled at
the frame rate, and segments are laid end to end at their arrival-time distance (never
overlapping). Inside a segment the camera's own timing is kept exactly.

A clip is written to ``<name>.part`` and renamed into place, so a reader never sees half an
evidence file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.stream
import av.video.stream

FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".ts": "mpegts"}


@dataclass(frozen=True, slots=True)
class RingPacket:
    """One encoded packet: bytes, stream timestamps, and the event time it arrived."""

    data: bytes
    pts: int | None
    dts: int | None
    keyframe: bool
    at: float
    segment: int


class CodecTemplate:
    """A stream's codec parameters, kept usable after its connection is closed.

    PyAV can only copy codec parameters from a live ``Stream``; the copy is held in an
    in-memory Matroska container that is never written, so it outlives the input.
    """

    def __init__(self, stream: av.video.stream.VideoStream) -> None:
        self._holder = av.open(io.BytesIO(), "w", format="matroska")
        self.stream = self._holder.add_stream_from_template(stream)
        ctx = stream.codec_context
        self.time_base: Fraction = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        self.frame_ticks = max(1, round(1 / (rate * self.time_base)))
        self.key = (ctx.name, ctx.width, ctx.height, bytes(ctx.extradata or b""), self.time_base)

    def add_to(self, out: av.container.OutputContainer) -> av.stream.Stream:
        return out.add_stream_from_template(self.stream)


def repair_timestamps(packets: Sequence[RingPacket], time_base: Fraction,
                      step: int) -> list[tuple[int, int]]:
    """(pts, dts) per packet on one strictly increasing dts line starting at 0."""
    out: list[tuple[int, int]] = []
    if not packets:
        return out
    origin = packets[0].at
    start = 0
    for run in _segments(packets):
        rel = _relative(run, step)
        if out:
            start = max(round((run[0].at - origin) / time_base), out[-1][1] + step)
        shift = start - rel[0][1]
        for pts, dts in rel:
            d = dts + shift
            if out and d <= out[-1][1]:
                d = out[-1][1] + 1
            out.append((max(pts + shift, d), d))
    return out


def _segments(packets: Sequence[RingPacket]) -> list[list[RingPacket]]:
    runs: list[list[RingPacket]] = []
    for packet in packets:
        if not runs or runs[-1][-1].segment != packet.segment:
            runs.append([])
        runs[-1].append(packet)
    return runs


def _relative(run: Sequence[RingPacket], step: int) -> list[tuple[int, int]]:
    """Timestamps relative to the run's first known one; gaps filled ``step`` apart."""
    first_index, first = 0, 0
    for i, packet in enumerate(run):
        known = packet.dts if packet.dts is not None else packet.pts
        if known is not None:
            first_index, first = i, known
            break
    result: list[tuple[int, int]] = []
    previous: int | None = None
    for i, packet in enumerate(run):
        dts = packet.dts if packet.dts is not None else packet.pts
        if dts is None:
            dts = previous + step if previous is not None else first - (first_index - i) * step
        pts = packet.pts if packet.pts is not None else dts
        result.append((pts - first, dts - first))
        previous = dts
    return result


def write_clip(path: str | os.PathLike[str], template: CodecTemplate,
               packets: Sequence[RingPacket]) -> int:
    """Remux ``packets`` into ``path`` (format from the suffix); returns packets written."""
    target = Path(path)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"{target}: clip suffix must be one of {', '.join(sorted(FORMATS))}")
    part = target.with_name(target.name + ".part")
    stamps = repair_timestamps(packets, template.time_base, template.frame_ticks)
    try:
        with av.open(str(part), "w", format=fmt) as out:
            stream = template.add_to(out)
            for packet, (pts, dts) in zip(packets, stamps, strict=True):
                encoded = av.Packet(packet.data)
                encoded.pts, encoded.dts = pts, dts
                encoded.time_base = template.time_base
                encoded.is_keyframe = packet.keyframe
                encoded.stream = stream
                out.mux(encoded)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return len(packets)
