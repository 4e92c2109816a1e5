"""Several nodes on one Redis: worker membership, camera leases with fencing tokens, and
capacity-aware assignment with minimal movement (docs/architecture.md; README "Deployment").

* :mod:`core.cluster.leases` — TTL leases with monotonic fencing tokens (Lua scripts);
* :mod:`core.cluster.members` — heartbeats with capacity, and the camera catalogue;
* :mod:`core.cluster.assign` — weighted rendezvous hashing bounded by capacity;
* :mod:`core.cluster.agent` — a worker's tick: heartbeat, plan, claim, renew, hand over.

Every key lives under one namespace (``cluster.name`` in ``service.yaml``, default
``vigil``), so several deployments (or tests) can share one Redis.
"""

from __future__ import annotations

import redis

from core.cluster.agent import DEFAULT_LEASE_TTL, DEFAULT_TICK, AgentOptions, CameraAgent, Held
from core.cluster.assign import Plan, plan, ranking
from core.cluster.leases import Holder, Leases
from core.cluster.members import Catalogue, CatalogueEntry, Membership, config_hash, member_id

__all__ = [
    "DEFAULT_LEASE_TTL", "DEFAULT_TICK", "AgentOptions", "CameraAgent", "Catalogue",
    "CatalogueEntry", "Held", "Holder", "Leases", "Membership", "Plan", "config_hash",
    "member_id", "plan", "ranking", "redis_client",
]


def redis_client(url: str) -> redis.Redis:
    """A synchronous client for the cluster keys (the bus has its own asyncio client).
    Timeouts keep a tick from hanging on a dead server: the caller then fences itself."""
    return redis.Redis.from_url(url, socket_connect_timeout=2.0, socket_timeout=2.0)
