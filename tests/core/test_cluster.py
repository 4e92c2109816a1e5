"""Camera assignment through Redis (core/cluster/), against the real local Redis.

Each test works under its own key namespace and deletes it afterwards. Time in the agents
is a number the test passes in (``now``); lease expiry is Redis's own, waited for as a
condition, never slept for.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from core.cluster import AgentOptions, CameraAgent, Catalogue, Leases, Membership, plan
from tests.services import redis_url

pytestmark = pytest.mark.redis


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"vigil-test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def client() -> redis.Redis:
    return redis.Redis.from_url(redis_url())


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def cameras_json(count: int, analytics: bool = True) -> dict[str, str]:
    return {f"cam{i:03d}": json.dumps({"id": f"cam{i:03d}", "analytics": analytics})
            for i in range(count)}


def cost(config_json: str) -> float:
    return 3.0 if json.loads(config_json)["analytics"] else 1.0


def agent(namespace: str, member: str, capacity: float = 0.0, ttl: float = 30.0
          ) -> CameraAgent:
    return CameraAgent(client(), namespace, AgentOptions(member, capacity, lease_ttl=ttl), cost)


def settle(agents: list[CameraAgent], rounds: int = 4) -> None:
    """Step every agent in turn, handing over after each step, until nothing changes."""
    for _ in range(rounds):
        for a in agents:
            a.step(time.monotonic())
            a.hand_over()


def owners(agents: list[CameraAgent]) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in agents:
        for camera in a.held:
            assert camera not in out, f"{camera} held by {out[camera]} and {a.member}"
            out[camera] = a.member
    return out


# -- leases --------------------------------------------------------------------------------

def test_a_lease_has_one_holder_and_a_token_that_grows_on_every_takeover(namespace: str) -> None:
    leases = Leases(client(), namespace, ttl=0.3)
    first = leases.claim("cam", "a")
    assert first is not None
    assert leases.claim("cam", "b") is None  # refused while a's lease lives
    assert leases.claim("cam", "a") == first  # renewing by claiming keeps the token
    wait_until(lambda: leases.holder("cam") is None)
    second = leases.claim("cam", "b")
    assert second is not None and second > first
    assert not leases.is_current("cam", first) and leases.is_current("cam", second)
    assert not leases.release("cam", "a", first)  # a stale holder cannot release b's lease
    assert leases.renew("a", {"cam": first}) == {"cam"}  # nor renew it: reported lost
    assert leases.release("cam", "b", second)
    third = leases.claim("cam", "a")
    assert third is not None and third > second


def test_concurrent_claims_give_each_camera_to_exactly_one_owner(namespace: str) -> None:
    cameras = [f"cam{i}" for i in range(40)]
    won: dict[str, list[tuple[str, int]]] = {c: [] for c in cameras}
    lock = threading.Lock()
    start = threading.Barrier(8)

    def race(owner: str) -> None:
        leases = Leases(client(), namespace, ttl=60.0)
        start.wait()
        for _ in range(3):
            for camera in cameras:
                token = leases.claim(camera, owner)
                if token is not None:
                    with lock:
                        won[camera].append((owner, token))

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for camera, wins in won.items():
        assert len({owner for owner, _ in wins}) == 1, (camera, wins)
        assert len({token for _, token in wins}) == 1, (camera, wins)


def test_members_expire_after_their_ttl(namespace: str) -> None:
    members = Membership(client(), namespace, ttl=0.3)
    members.announce("a", 12.0)
    members.announce("b", 0.0)
    assert members.live() == {"a": 12.0, "b": 0.0}
    members.leave("b")
    assert members.live() == {"a": 12.0}
    wait_until(lambda: members.live() == {})


# -- agents --------------------------------------------------------------------------------

def test_agents_racing_in_threads_never_share_a_camera(namespace: str) -> None:
    Catalogue(client(), namespace).publish(cameras_json(60))
    agents = [agent(namespace, f"w{i}") for i in range(4)]
    rounds = threading.Barrier(len(agents))
    seen: list[dict[str, str]] = []

    def run(a: CameraAgent) -> None:
        for _ in range(6):
            a.step(time.monotonic())
            a.hand_over()
            if rounds.wait() == 0:
                seen.append(owners(agents))  # between rounds: all agents are parked
            rounds.wait()

    threads = [threading.Thread(target=run, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 6
    leases = Leases(client(), f"{namespace}:camera", 30.0)
    assert len(seen[-1]) == 60  # every camera placed by the end
    for camera, member in seen[-1].items():
        holder = leases.holder(camera)
        assert holder is not None and holder.owner == member


def test_a_silent_workers_cameras_are_taken_over_once_its_leases_expire(namespace: str) -> None:
    Catalogue(client(), namespace).publish(cameras_json(30))
    agents = [agent(namespace, f"w{i}", ttl=1.0) for i in range(3)]
    settle(agents)
    before = owners(agents)
    dead = agents.pop()
    lost = {c: h.token for c, h in dead.held.items()}
    assert lost
    leases = Leases(client(), f"{namespace}:camera", 1.0)

    def expired() -> bool:
        settle(agents, 1)  # the survivors keep renewing while the dead one's leases run out
        return all(h.owner != dead.member for h in leases.holders(list(lost)).values())

    wait_until(expired)
    settle(agents, 1)  # one more tick after expiry is enough
    after = owners(agents)
    assert set(after) == set(before)
    now_held = leases.holders(list(lost))
    for camera, token in lost.items():
        assert after[camera] != dead.member
        assert now_held[camera].token > token  # a new fencing token for the new holder
    moved = {c for c in before if before[c] != after[c]}
    assert moved == set(lost)  # only the dead worker's cameras moved


def test_a_returning_worker_takes_only_its_share(namespace: str) -> None:
    Catalogue(client(), namespace).publish(cameras_json(90))
    agents = [agent(namespace, f"w{i}") for i in range(3)]
    settle(agents)
    gone = agents.pop()
    gone.leave()
    settle(agents)
    before = owners(agents)
    assert len(before) == 90 and gone.member not in before.values()
    back = agent(namespace, "w-back")
    agents.append(back)
    settle(agents)
    after = owners(agents)
    moved = {c for c in before if before[c] != after[c]}
    assert moved == set(back.held)  # nothing moved between the old members
    assert 15 <= len(back.held) <= 45  # about a third (rendezvous shares are random)


def test_capacity_bounds_and_weights_the_plan() -> None:
    cameras = {f"c{i}": 3.0 for i in range(40)}
    result = plan(cameras, {"big": 90.0, "small": 30.0})
    assert len(result.of("big")) == 30 and len(result.of("small")) == 10
    assert result.overloaded == []
    tight = plan(cameras, {"a": 30.0, "b": 30.0})
    assert len(tight.overloaded) == 20 and len(tight.owner) == 40
    unbounded = plan(cameras, {"a": 0.0, "b": 0.0})
    assert unbounded.overloaded == [] and len(unbounded.of("a")) + len(unbounded.of("b")) == 40


def test_a_config_change_reaches_the_holder(namespace: str) -> None:
    catalogue = Catalogue(client(), namespace)
    catalogue.publish(cameras_json(3))
    agents = [agent(namespace, "w0"), agent(namespace, "w1")]
    settle(agents)
    holder = next(a for a in agents if "cam001" in a.held)
    old = holder.held["cam001"].entry
    token = holder.held["cam001"].token
    changed = cameras_json(3)
    changed["cam001"] = json.dumps({"id": "cam001", "analytics": True, "url": "rtsp://x/new"})
    assert catalogue.publish(changed) and not catalogue.publish(changed)
    view = holder.step(time.monotonic())
    assert view["cam001"].config_hash != old.config_hash
    assert json.loads(view["cam001"].config_json)["url"] == "rtsp://x/new"
    assert holder.held["cam001"].token == token  # same holder, no takeover


def test_a_worker_that_cannot_renew_fences_itself(namespace: str) -> None:
    Catalogue(client(), namespace).publish(cameras_json(4))
    a = agent(namespace, "w0", ttl=5.0)
    now = time.monotonic()
    a.step(now)
    assert len(a.held) == 4
    assert not a.fence(now + 4.0)
    assert a.fence(now + 5.0) and a.held == {}
