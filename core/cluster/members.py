"""Who is in the cluster (workers and their capacity) and which cameras exist, in Redis.

**Members.** A worker announces itself with its id and capacity on every tick (the
heartbeat). Members live in a sorted set scored by their expiry in *Redis server time*
(``TIME`` inside the script), so the clocks of the nodes never matter; a member whose
heartbeat is older than the TTL is dropped by the next reader. Capacity is in cost units
(see :func:`core.cluster.assign.plan`); ``0`` means "no limit, weight 1".

**Catalogue.** The cameras are published to Redis by the hubs from their config folder,
each with a hash of its configuration, and a version counter goes up on every change.
Workers poll the counter (one GET per tick) and read the catalogue again only when it moved,
so a changed camera config reaches whichever worker holds that camera within a tick, and the
workers need no camera files of their own.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import redis
from redis.typing import EncodableT, FieldT

_ANNOUNCE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return now
"""

_LIVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(dead) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(out, id)
  table.insert(out, redis.call('HGET', KEYS[2], id) or '0')
end
return out
"""


def member_id() -> str:
    """Unique per process start: a restarted worker is a new member and takes a fresh
    fair share instead of assuming leases its previous life may no longer hold. (Here,
    beside the membership it names, so the worker and the hub roles both reach it without
    importing each other.)"""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class Membership:
    """Heartbeats and the live member list."""

    def __init__(self, client: redis.Redis, namespace: str, ttl: float) -> None:
        self._redis = client
        self._keys = [f"{namespace}:members", f"{namespace}:member-capacity"]
        self.ttl = ttl
        self._announce = client.register_script(_ANNOUNCE)
        self._live = client.register_script(_LIVE)

    def announce(self, member: str, capacity: float) -> None:
        """Heartbeat: ``member`` is alive for another TTL with this capacity."""
        if capacity < 0:
            raise ValueError("capacity must be >= 0 (0 = no limit)")
        self._announce(keys=self._keys, args=[member, int(self.ttl * 1000), repr(capacity)])

    def live(self) -> dict[str, float]:
        """Live members and their capacities (expired ones are removed on the way)."""
        flat = [_text(x) for x in self._live(keys=self._keys)]
        return {flat[i]: float(flat[i + 1]) for i in range(0, len(flat), 2)}

    def leave(self, member: str) -> None:
        """Leave at once (a clean stop), so the others need not wait for the TTL."""
        pipe = self._redis.pipeline()
        pipe.zrem(self._keys[0], member)
        pipe.hdel(self._keys[1], member)
        pipe.execute()


def config_hash(config_json: str) -> str:
    """The hash that tells a holder its camera's config changed (first 16 hex of sha256)."""
    return hashlib.sha256(config_json.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    config_json: str
    config_hash: str


class Catalogue:
    """The cameras of the cluster: id → config JSON, with a version counter."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._key = f"{namespace}:cameras"
        self._version = f"{namespace}:cameras-version"

    def publish(self, cameras: Mapping[str, str]) -> bool:
        """Make the catalogue exactly ``cameras`` (id → config JSON). Writes, and bumps the
        version, only when something differs; True when it did. Atomic (MULTI/EXEC), so a
        reader sees the old catalogue or the new one, never half of each."""
        current = {_text(k): _text(v) for k, v in self._redis.hgetall(self._key).items()}
        if current == dict(cameras):
            return False
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._key)
        if cameras:
            mapping: dict[FieldT, EncodableT] = {k: v for k, v in cameras.items()}
            pipe.hset(self._key, mapping=mapping)
        pipe.incr(self._version)
        pipe.execute()
        return True

    def version(self) -> int:
        raw = self._redis.get(self._version)
        return int(raw) if raw is not None else 0

    def read(self) -> tuple[int, dict[str, CatalogueEntry]]:
        """The version and the cameras, read together in one transaction."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(self._version)
        pipe.hgetall(self._key)
        raw_version, raw = pipe.execute()
        entries = {_text(k): CatalogueEntry(_text(v), config_hash(_text(v)))
                   for k, v in raw.items()}
        return (int(raw_version) if raw_version is not None else 0), entries
