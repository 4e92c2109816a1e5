"""A bounded per-client queue of ready-to-send frames, filled and drained in chunks.

The hub hands every client the same batch of frames at once; an ``asyncio.Queue`` would
cost a put, a get and a task wake-up per frame *per client* (at 500 alerts/s and 200
clients, 100,000 of each a second). This queue costs one append and at most one wake-up per
batch per client, and is bounded in frames, not chunks, so the bound (docs/architecture.md rule
4) means what it says.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Frames(list[str]):
    """Frames the hub hands to many clients at once, with their batch message built once.

    Every live client at the same cursor gets this very list; a client that drained its
    queue takes it back whole (:meth:`FrameQueue.take`), so in batch mode the JSON array is
    joined once per read of the event log instead of once per client.
    """

    __slots__ = ("_joined",)

    def joined(self) -> str:
        """``[frame,frame,...]``, built on first use."""
        try:
            return self._joined
        except AttributeError:
            self._joined: str = f"[{','.join(self)}]"
            return self._joined


def batch_text(frames: list[str]) -> str:
    """One batch message: shared if ``frames`` is a whole :class:`Frames` chunk."""
    return frames.joined() if isinstance(frames, Frames) else f"[{','.join(frames)}]"


class FrameQueue:
    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("a frame queue holds at least one frame")
        self.maxsize = maxsize
        self.size = 0
        self._chunks: deque[list[str]] = deque()
        self._ready = asyncio.Event()

    def free(self) -> int:
        return self.maxsize - self.size

    def full(self) -> bool:
        return self.size >= self.maxsize

    def put(self, frames: list[str]) -> int:
        """Append as many of ``frames`` as fit, in order; returns how many were taken."""
        room = self.maxsize - self.size
        if room <= 0 or not frames:
            return 0
        chunk = frames if len(frames) <= room else frames[:room]
        self._chunks.append(chunk)
        self.size += len(chunk)
        self._ready.set()
        return len(chunk)

    def offer(self, frame: str) -> bool:
        return self.put([frame]) == 1

    async def take(self, limit: int) -> list[str]:
        """Wait for frames; return up to ``limit`` of them, oldest first."""
        while not self.size:
            self._ready.clear()
            await self._ready.wait()
        first = self._chunks[0]
        if len(first) <= limit and (len(self._chunks) == 1 or len(first) == limit):
            self._chunks.popleft()  # the common case: hand the chunk itself back, uncopied
            self.size -= len(first)
            return first
        out: list[str] = []
        while self._chunks and len(out) < limit:
            chunk = self._chunks.popleft()
            want = limit - len(out)
            if len(chunk) > want:
                self._chunks.appendleft(chunk[want:])
                chunk = chunk[:want]
            out.extend(chunk)
        self.size -= len(out)
        return out

    def clear(self) -> None:
        self._chunks.clear()
        self.size = 0
