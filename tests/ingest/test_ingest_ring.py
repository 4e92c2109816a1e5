"""Evidence packet ring: GOP-aligned window, clips cut by remux and opened again (item i)."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import av
import pytest

import tests.ingest.ingest_media as media
from ingest.clip import RingPacket, repair_timestamps
from ingest.ring import PacketRing


def fill(ring: PacketRing, path: Path, start_at: float = 1000.0, drop_first_pts: bool = False
         ) -> int:
    """Demux ``path`` into the ring; event time = start_at + pts seconds."""
    added = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ring.attach(stream)
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None:
                continue
            at = start_at + float(packet.pts * (stream.time_base or 0))
            if drop_first_pts and added == 0:
                packet.pts = packet.dts = None
            ring.add(packet, at)
            added += 1
    return added


def clip_info(path: Path) -> tuple[int, list[int], bool]:
    """(decoded frames, dts list, first packet is a keyframe)."""
    with av.open(str(path)) as container:
        packets = [p for p in container.demux(video=0) if p.size]
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    return frames, [p.dts for p in packets if p.dts is not None], packets[0].is_keyframe


def test_window_keeps_whole_gops_from_a_keyframe(moving_mp4: Path) -> None:
    ring = PacketRing(seconds=1.5)
    fill(ring, moving_mp4)
    span = ring.span()
    assert span is not None
    oldest, newest = span
    assert newest == pytest.approx(1000.0 + 3.96)
    assert 1.5 <= newest - oldest <= 1.5 + 1.0 + 1e-6
    _, packets = ring.cut(0.0, 1e12)
    assert packets[0].keyframe
    assert len(packets) == round((newest - oldest) / 0.04) + 1


def test_clip_between_two_times_is_a_playable_remux(moving_mp4: Path, tmp_path: Path) -> None:
    ring = PacketRing(seconds=30.0)
    fill(ring, moving_mp4)
    out = tmp_path / "clip.mp4"
    written = ring.write_clip(out, 1001.5, 1003.0)
    frames, dts, key_first = clip_info(out)
    assert key_first
    assert written == frames == 51  # from the keyframe at 1001.0 through 1003.0
    assert dts == sorted(set(dts))
    assert not (tmp_path / "clip.mp4.part").exists()


def test_clip_across_a_reconnect_and_missing_timestamps(moving_mp4: Path, tmp_path: Path) -> None:
    ring = PacketRing(seconds=60.0)
    first = fill(ring, moving_mp4, start_at=1000.0, drop_first_pts=True)
    second = fill(ring, moving_mp4, start_at=1006.0, drop_first_pts=True)
    out = tmp_path / "two.mp4"
    assert ring.write_clip(out, 0.0, 2000.0) == first + second
    frames, dts, _ = clip_info(out)
    assert frames == first + second
    assert all(b > a for a, b in itertools.pairwise(dts))


def test_memory_bound_drops_oldest(moving_mp4: Path) -> None:
    ring = PacketRing(seconds=60.0, max_bytes=20_000)
    fill(ring, moving_mp4)
    assert ring.nbytes <= 20_000


def test_nothing_in_range_is_a_lookup_error(moving_mp4: Path, tmp_path: Path) -> None:
    ring = PacketRing(seconds=10.0)
    with pytest.raises(LookupError):
        ring.write_clip(tmp_path / "empty.mp4", 0.0, 1.0)
    fill(ring, moving_mp4)
    with pytest.raises(LookupError):
        ring.write_clip(tmp_path / "before.mp4", 10.0, 20.0)
    with pytest.raises(ValueError, match="suffix"):
        ring.write_clip(tmp_path / "clip.avi", 1000.0, 1001.0)


def test_packets_before_the_first_keyframe_are_skipped(tmp_path: Path) -> None:
    clip = media.encode(tmp_path / "g.mp4", media.moving(2.0), gop=25)
    ring = PacketRing(seconds=10.0)
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        ring.attach(stream)
        packets = [p for p in container.demux(stream) if p.size]
        for packet in packets[5:]:
            ring.add(packet, 1000.0 + float((packet.pts or 0) * (stream.time_base or 0)))
    assert ring.skipped == 20
    assert ring.added == len(packets) - 25


def pk(pts: int | None, segment: int, at: float) -> RingPacket:
    return RingPacket(b"x", pts, pts, pts is not None and pts % 10 == 0, at, segment)


def test_repair_timestamps_fills_gaps_and_orders_segments() -> None:
    packets = [pk(None, 1, 0.0), pk(10, 1, 0.1), pk(20, 1, 0.2),
               pk(5, 2, 1.0), pk(None, 2, 1.1), pk(25, 2, 1.2)]
    stamps = repair_timestamps(packets, Fraction(1, 100), step=10)
    dts = [d for _, d in stamps]
    assert dts[:3] == [0, 10, 20]
    assert dts[3] == 100
    assert dts[4] == 110
    assert dts[5] == 120
    assert all(p >= d for p, d in stamps)
