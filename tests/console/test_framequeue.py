"""The per-client frame queue: bounded in frames, FIFO across chunks, waits when empty."""

from __future__ import annotations

import asyncio

import pytest

from console.framequeue import FrameQueue, Frames, batch_text


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


async def test_a_whole_shared_chunk_is_handed_back_and_joined_once() -> None:
    shared = Frames(['{"id":1}', '{"id":2}'])
    one, two = FrameQueue(10), FrameQueue(10)
    one.put(shared)
    two.put(shared)
    first, second = await one.take(10), await two.take(10)
    assert first is shared and second is shared  # no copy per client
    assert batch_text(first) == '[{"id":1},{"id":2}]'
    assert batch_text(second) is batch_text(first)  # built once, sent to both
    assert batch_text(['{"id":3}']) == '[{"id":3}]'  # a plain list is joined as it is


async def test_a_partial_take_of_a_shared_chunk_does_not_share_or_mutate() -> None:
    shared = Frames(["a", "b", "c"])
    queue = FrameQueue(10)
    queue.put(shared)
    part = await queue.take(2)
    assert part == ["a", "b"] and not isinstance(part, Frames)
    assert await queue.take(2) == ["c"] and shared == ["a", "b", "c"]


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FrameQueue(0)
