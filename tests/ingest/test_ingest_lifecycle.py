"""Camera lifecycle: one transition(), illegal moves say "expected X, got Y" (item h)."""

from __future__ import annotations

import itertools

import pytest

from core.clock import FakeClock
from core.errors import TransitionError
from core.messages import CameraState as S
from ingest.lifecycle import ALLOWED, CameraLifecycle
from ingest.worker import CameraWorker
from tests.ingest.ingest_helpers import StatusLog, camera


def test_normal_life_publishes_every_move_in_order() -> None:
    moves: list[tuple[S, S, str]] = []
    clock = FakeClock()
    life = CameraLifecycle("c1", clock, lambda old, new, why: moves.append((old, new, why)))
    path = [S.CONNECTING, S.STREAMING, S.STALLED, S.BACKOFF, S.CONNECTING, S.BACKOFF,
            S.CONNECTING, S.STREAMING, S.STOPPED]
    for new in path:
        clock.advance(1.0)
        life.transition(new, f"to {new.value}")
    assert [m[1] for m in moves] == path
    assert moves[0] == (S.STOPPED, S.CONNECTING, "to connecting")
    assert life.since == clock.now()


def test_illegal_move_message() -> None:
    life = CameraLifecycle("c1", FakeClock())
    with pytest.raises(TransitionError) as info:
        life.transition(S.STREAMING)
    assert str(info.value) == ("camera c1 in state stopped: "
                               "expected connecting or disabled, got streaming")
    assert (info.value.expected, info.value.got) == ("connecting or disabled", "streaming")
    assert life.state is S.STOPPED


@pytest.mark.parametrize(("old", "new"), [
    (old, new) for old, new in itertools.product(S, S) if new not in ALLOWED[old]])
def test_every_illegal_move_is_refused(old: S, new: S) -> None:
    life = CameraLifecycle("c9", FakeClock())
    life.state = old
    with pytest.raises(TransitionError, match=f"got {new.value}$"):
        life.transition(new)
    assert life.state is old


def test_disabled_camera_publishes_disabled_and_never_connects() -> None:
    statuses = StatusLog()
    cam = camera("off", "rtsp://127.0.0.1:9/none").model_copy(update={"enabled": False})
    worker = CameraWorker(cam, statuses)
    worker.start()
    assert worker.state is S.DISABLED
    with pytest.raises(RuntimeError):
        worker.start()
    worker.stop()
    assert statuses.states("off") == [S.DISABLED, S.STOPPED]
