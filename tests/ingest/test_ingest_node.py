"""IngestNode: cameras over worker processes, statuses back to the parent, diff on apply (j)."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from core.config.models import Camera
from core.messages import CameraState
from ingest.node import IngestNode, camera_cost, place, shard_of
from ingest.workerset import Plan, plan_changes
from tests.ingest.ingest_helpers import StatusLog, camera, state_is

S = CameraState


def test_plan_changes_table() -> None:
    a, b, c = (camera(cid, f"rtsp://10.0.0.1/{cid}") for cid in "abc")
    running = {"a": a, "b": b}
    renamed = b.model_copy(update={"name": "gate", "analytics": ["plates"]})
    moved = a.model_copy(update={"url": "rtsp://10.0.0.2/a"})
    assert plan_changes(running, [a, b]) == Plan(keep=("a", "b"))
    assert not plan_changes(running, [a, b])
    assert plan_changes(running, [a, renamed, c]) == Plan(start=("c",), keep=("a", "b"))
    assert plan_changes(running, [moved]) == Plan(stop=("b",), restart=("a",))
    slower = b.model_copy(update={"ingest": b.ingest.model_copy(update={"max_fps": 5.0})})
    assert plan_changes(running, [a, slower]).restart == ("b",)
    with pytest.raises(ValueError, match="appears twice"):
        plan_changes(running, [a, a])


def test_placement_balances_by_cost_and_never_moves_a_running_camera() -> None:
    plain = [camera(f"cam{i:02d}", "rtsp://127.0.0.1/x") for i in range(24)]
    placed = place(plain, 2, {})
    assert sorted(Counter(placed.values()).values()) == [12, 12]  # crc32 % 2 gave 14/10
    assert len({placed[f"cam0{i}"] for i in range(4)}) == 2  # crc32 put cam00-03 together
    gb = [camera(f"3402000000132000000{i}", "rtsp://127.0.0.1/x") for i in range(1, 4)]
    assert len(set(place(gb, 2, {}).values())) == 2
    # a reload: one camera gone, two new ones; nobody who stays moves, the new go where
    # there is room
    kept = plain[1:]
    again = place([*kept, camera("new-a", "x"), camera("new-b", "x")], 2, placed)
    assert all(again[c.id] == placed[c.id] for c in kept)
    assert {again["new-a"], again["new-b"]} == {0, 1} or again["new-a"] == placed["cam00"]
    assert sorted(Counter(again.values()).values()) == [12, 13]
    analysed = [c.model_copy(update={"analytics": ["plates"]}) for c in plain[:4]]
    heavy = place([*analysed, *plain[4:10]], 2, {})
    loads = [sum(camera_cost(c) for c in [*analysed, *plain[4:10]] if heavy[c.id] == i)
             for i in range(2)]
    assert abs(loads[0] - loads[1]) <= 2.0


def test_shard_assignment_is_stable_and_spread() -> None:
    ids = [f"cam-{i:03d}" for i in range(200)]
    first = [shard_of(cid, 4) for cid in ids]
    assert first == [shard_of(cid, 4) for cid in ids]
    assert first[:5] == [1, 3, 1, 3, 0]  # crc32: the same on every machine and Python version
    counts = [first.count(i) for i in range(4)]
    assert min(counts) >= 30


def two_shard_ids() -> tuple[str, str, str]:
    """Three camera ids of which at least one lands on each of two shards."""
    ids = [f"cam{i}" for i in range(20)]
    zero = [cid for cid in ids if shard_of(cid, 2) == 0]
    one = [cid for cid in ids if shard_of(cid, 2) == 1]
    return zero[0], one[0], zero[1]


def cameras(ids: tuple[str, ...], clip: Path) -> list[Camera]:
    return [camera(cid, str(clip)) for cid in ids]


def test_in_process_node_gives_frames_and_restarts_only_changed(moving_mp4: Path) -> None:
    statuses = StatusLog()
    node = IngestNode(statuses, workers=0)
    try:
        plan = node.apply(cameras(("a", "b"), moving_mp4))
        assert plan == Plan(start=("a", "b"))
        slot = node.slot("a")
        assert slot is not None
        frame = slot.take(3.0)
        assert frame is not None and frame.camera_id == "a"
        statuses.wait(state_is("b", S.STREAMING), timeout=3.0)
        changed = [camera("a", str(moving_mp4)),
                   camera("b", str(moving_mp4), max_fps=5.0)]
        t_apply = time.monotonic()
        assert node.apply(changed) == Plan(restart=("b",), keep=("a",))
        statuses.wait(state_is("b", S.STREAMING), timeout=3.0, after=t_apply)
        assert statuses.states("a") == [S.CONNECTING, S.STREAMING]
        assert node.slot("a") is slot
        assert node.apply(changed[:1]) == Plan(stop=("b",), keep=("a",))
        assert node.worker("b") is None
    finally:
        node.stop()
    assert statuses.of("a")[-1].state is S.STOPPED


@pytest.mark.slow  # worker processes
def test_two_processes_statuses_reach_the_parent_and_diff_restarts_one(moving_mp4: Path
                                                                       ) -> None:
    statuses = StatusLog()
    node = IngestNode(statuses, workers=2)
    ids = two_shard_ids()
    try:
        node.apply(cameras(ids, moving_mp4))
        for cid in ids:
            statuses.wait(state_is(cid, S.STREAMING), timeout=20.0)
        with pytest.raises(RuntimeError, match="worker process"):
            node.slot(ids[0])
        changed = [*cameras(ids[:2], moving_mp4), camera(ids[2], str(moving_mp4), max_fps=10.0)]
        t_apply = time.monotonic()
        plan = node.apply(changed)
        assert plan == Plan(restart=(ids[2],), keep=tuple(sorted(ids[:2])))
        statuses.wait(state_is(ids[2], S.STOPPED), timeout=5.0, after=t_apply)
        statuses.wait(state_is(ids[2], S.STREAMING), timeout=5.0, after=t_apply)
        time.sleep(0.3)
        for cid in ids[:2]:
            assert statuses.states(cid) == [S.CONNECTING, S.STREAMING], cid
    finally:
        t_stop = time.monotonic()
        node.stop()
    assert time.monotonic() - t_stop < 6.0
    for cid in ids:
        assert statuses.of(cid)[-1].state is S.STOPPED, cid


@pytest.mark.slow  # worker processes
def test_a_dead_worker_process_is_restarted_with_its_cameras(moving_mp4: Path) -> None:
    statuses = StatusLog()
    node = IngestNode(statuses, workers=2)
    ids = two_shard_ids()
    try:
        node.apply(cameras(ids, moving_mp4))
        for cid in ids:
            statuses.wait(state_is(cid, S.STREAMING), timeout=20.0)
        victim = node.shard_index(ids[1])
        assert victim is not None and node.shard_index(ids[0]) != victim
        pid = node.pids()[victim]
        assert pid is not None
        t_kill = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        _, died = statuses.wait(state_is(ids[1], S.STOPPED), timeout=5.0, after=t_kill)
        assert "worker process died" in died.detail
        statuses.wait(state_is(ids[1], S.STREAMING), timeout=20.0, after=t_kill + 0.5)
        assert node.restarts == 1
        assert node.pids()[victim] != pid
        assert statuses.states(ids[0])[-1] is S.STREAMING
    finally:
        node.stop()
