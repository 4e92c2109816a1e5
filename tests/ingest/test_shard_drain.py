"""A shard's last statuses survive its exit (the CI flake: cam0 never reported STOPPED)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.queues import Queue

from core.messages import CameraState, CameraStatus
from ingest.node import _Shard
from ingest.shard import Command


def _report_and_exit(statuses: Queue[CameraStatus]) -> None:
    statuses.put(CameraStatus("cam0", CameraState.STOPPED, 0.0, "stopped"))


def _report_and_crash(statuses: Queue[CameraStatus]) -> None:
    statuses.put(CameraStatus("cam0", CameraState.STOPPED, 0.0, "stopped"))
    statuses.close()
    statuses.join_thread()
    raise SystemExit(3)


def _shard_after(target: Callable[[Queue[CameraStatus]], None]) -> _Shard:
    ctx = multiprocessing.get_context("spawn")
    commands: Queue[Command] = ctx.Queue()
    statuses: Queue[CameraStatus] = ctx.Queue()
    process = ctx.Process(target=target, args=(statuses,))
    process.start()
    process.join(20.0)
    return _Shard(0, process, commands, statuses)


def test_a_cleanly_exited_shard_is_still_read() -> None:
    shard = _shard_after(_report_and_exit)
    assert shard.process.exitcode == 0
    assert [s.state for s in shard.drain()] == [CameraState.STOPPED]
    shard.close_queues()


def test_a_shard_that_died_is_not_read() -> None:
    """A dead writer may have left half a message, which would block the read forever."""
    shard = _shard_after(_report_and_crash)
    assert shard.process.exitcode == 3
    assert shard.drain() == []
    shard.close_queues()
