"""FrameSlot: newest wins, drops counted, blocking take (item g)."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.messages import Frame
from ingest.slot import FrameSlot

IMAGE = np.zeros((2, 2, 3), np.uint8)


def frame(seq: int) -> Frame:
    return Frame("cam", seq, float(seq), IMAGE)


def test_newest_wins_and_overwrites_are_counted() -> None:
    slot = FrameSlot()
    for seq in range(1, 6):
        slot.put(frame(seq))
    taken = slot.take(0)
    assert taken is not None and taken.seq == 5
    assert (slot.puts, slot.takes, slot.drops) == (5, 1, 4)
    assert slot.take(0) is None


def test_take_times_out_with_none() -> None:
    slot = FrameSlot()
    started = time.monotonic()
    assert slot.take(0.2) is None
    assert 0.15 <= time.monotonic() - started < 1.0


def test_take_wakes_on_put_and_on_close() -> None:
    slot = FrameSlot()
    threading.Timer(0.1, slot.put, args=(frame(7),)).start()
    got = slot.take(5.0)
    assert got is not None and got.seq == 7
    threading.Timer(0.1, slot.close).start()
    started = time.monotonic()
    assert slot.take(5.0) is None
    assert time.monotonic() - started < 2.0
    assert slot.closed


def test_concurrent_producer_consumer_accounts_for_every_frame() -> None:
    slot = FrameSlot()
    total = 2000
    seen: list[int] = []

    def consume() -> None:
        while True:
            got = slot.take(1.0)
            if got is None:
                return
            seen.append(got.seq)
            if got.seq == total:
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    for seq in range(1, total + 1):
        slot.put(frame(seq))
    consumer.join(5)
    left = 1 if slot.peek() is not None else 0
    assert slot.puts == total
    assert slot.takes + slot.drops + left == total
    assert seen == sorted(seen)
    assert slot.drops > 0 or slot.takes == total
