"""The per-client frame queue: bounded in frames, FIFO across chunks, waits when empty."""

from __future__ import annotations

import asyncio

import pytest

from console.framequeue import FrameQueue


async def test_bounded_in_frames_and_fifo_across_chunks() -> None:
    queue = FrameQueue(5)
    shared = ["a", "b", "c"]
    assert queue.put(shared) == 3
    assert queue.put(["d", "e", "f", "g"]) == 2 and queue.full() and queue.free() == 0
    assert queue.put(["h"]) == 0 and not queue.offer("h")
    assert await queue.take(2) == ["a", "b"]
    assert shared == ["a", "b", "c"]  # chunks handed to many clients are never mutated
    assert queue.size == 3 and queue.offer("h") and queue.offer("i")
    assert await queue.take(10) == ["c", "d", "e", "h", "i"]
    assert queue.size == 0


async def test_take_waits_for_frames_and_clear_empties() -> None:
    queue = FrameQueue(3)
    waiter = asyncio.create_task(queue.take(3))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    queue.put(["x"])
    assert await asyncio.wait_for(waiter, 1) == ["x"]
    queue.put(["y", "z"])
    queue.clear()
    assert queue.size == 0 and queue.free() == 3


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FrameQueue(0)
