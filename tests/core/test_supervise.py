"""Supervised tasks and guarded steps (core/supervise.py): a loop that dies is logged and
restarted with back-off, a failing step is logged and counted, and neither ends silently."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.errors import BusError
from core.retry import Backoff
from core.supervise import STATS, RestartPolicy, every, guarded, start_supervised, supervise

FAST = RestartPolicy(Backoff(base=0.01, cap=0.02), healthy_after=60.0)


async def test_a_task_whose_body_raises_is_restarted_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    runs = 0
    running = asyncio.Event()
    before = STATS.restarts["test.body"]

    async def body() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise BusError(f"bus gone (run {runs})")
        running.set()
        await asyncio.Event().wait()  # then runs for ever, as a consumer does

    with caplog.at_level(logging.ERROR, logger="core.supervise"):
        task = start_supervised("test.body", body, policy=FAST)
        try:
            await asyncio.wait_for(running.wait(), 5)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert runs == 3
    assert STATS.restarts["test.body"] - before == 2
    died = [r for r in caplog.records if "task test.body died" in r.getMessage()]
    assert len(died) == 2 and "BusError: bus gone (run 1)" in died[0].getMessage()
    assert died[0].exc_info is not None  # the traceback comes with it


async def test_a_task_that_returns_by_itself_is_restarted_until_stop() -> None:
    stop = asyncio.Event()
    runs = 0

    async def body() -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            stop.set()

    await asyncio.wait_for(supervise("test.returns", body, stop, FAST), 5)
    assert runs == 3


async def test_a_guarded_step_reports_instead_of_raising(
        caplog: pytest.LogCaptureFixture) -> None:
    before = STATS.errors["test.step"]

    async def step() -> int:
        raise ValueError("unexpected value")

    with caplog.at_level(logging.DEBUG, logger="core.supervise"):
        first = await guarded("test.step", step)
        second = await guarded("test.step", step)
    assert not first.ok and isinstance(first.error, ValueError) and not second.ok
    assert STATS.errors["test.step"] - before == 2
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.exc_info is not None for r in errors] == [True, False]  # traceback once
    assert "test.step: step failed: ValueError: unexpected value" in errors[0].getMessage()


async def test_every_keeps_ticking_after_a_failed_tick() -> None:
    stop = asyncio.Event()
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 1:
            raise RuntimeError("first tick breaks")
        if ticks == 3:
            stop.set()

    await asyncio.wait_for(every("test.every", 0.01, tick, stop), 5)
    assert ticks == 3
