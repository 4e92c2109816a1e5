"""Which worker should hold which camera: weighted rendezvous hashing with a capacity bound.

Why rendezvous (highest-random-weight) hashing: every worker computes the same plan from the
same two inputs (live members with their capacities, cameras with their costs) without
talking to the others, and the plan moves as little as possible when membership changes:

* a member that dies loses its cameras and *only* those move (each goes to its
  next-ranked member); nobody else's cameras change hands;
* a member that joins (or comes back) takes only the cameras it now ranks first for, about
  its fair share by weight, taken a little from every other member; nothing else moves.

Plain consistent hashing on a ring needs virtual nodes to be even and gives uneven shares
with few members; greedy fill (least-loaded first) is balanced but moves many cameras when
the order of arrival changes. The weight of a member is its announced capacity, using the
standard weighted-rendezvous score ``-weight / ln(u)`` with ``u`` a hash of (camera,
member) in (0, 1), so a member with twice the capacity ranks first for about twice the
cameras.

Capacity is also a bound: cameras are placed in id order, each on the best-ranked member
that still has room for its cost. When every member is full the camera still goes to the
member with the most relative room (over capacity, reported in :attr:`Plan.overloaded`):
a camera nobody analyses is worse than a node that sheds frames (ingest/shedding.py). With
no bound reached the plan is pure rendezvous, so the minimal-movement properties above hold
exactly; at the bound a few cameras spill to their next choice.

Capacity ``0`` means "no limit" with weight 1.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field


def _unit(camera: str, member: str) -> float:
    """A stable hash of the pair in the open interval (0, 1)."""
    digest = hashlib.blake2b(f"{camera}\x00{member}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") + 0.5) / 2.0**64


def score(camera: str, member: str, capacity: float) -> float:
    """Weighted rendezvous score: higher ranks first."""
    weight = capacity if capacity > 0 else 1.0
    return -weight / math.log(_unit(camera, member))


def ranking(camera: str, members: Mapping[str, float]) -> list[str]:
    """Members in the order ``camera`` prefers them (ties broken by id)."""
    return sorted(members, key=lambda m: (-score(camera, m, members[m]), m))


@dataclass
class Plan:
    """Camera id → member id, plus the cameras placed beyond every member's capacity."""

    owner: dict[str, str] = field(default_factory=dict)
    overloaded: list[str] = field(default_factory=list)

    def of(self, member: str) -> set[str]:
        return {camera for camera, who in self.owner.items() if who == member}


def plan(cameras: Mapping[str, float], members: Mapping[str, float]) -> Plan:
    """Place every camera (id → cost) on a member (id → capacity; 0 = no limit)."""
    out = Plan()
    if not members:
        return out
    load = dict.fromkeys(members, 0.0)
    for camera in sorted(cameras):
        cost = cameras[camera]
        choice = None
        for member in ranking(camera, members):
            capacity = members[member]
            if capacity <= 0 or load[member] + cost <= capacity:
                choice = member
                break
        if choice is None:
            choice = min(members, key=lambda m: ((load[m] + cost) / members[m], m))
            out.overloaded.append(camera)
        out.owner[camera] = choice
        load[choice] += cost
    return out
