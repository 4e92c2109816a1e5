"""Leases with a TTL and a fencing token, kept in Redis by Lua scripts (atomic server-side).

Why Redis and Lua: the cluster already runs Redis for the bus, and a script runs atomically
on the server, so claim, renew and release are each one indivisible step without any
consensus protocol of our own. One key per resource holds ``"<token>|<owner>"`` with a
millisecond TTL; a second key per resource is a counter that ``INCR`` raises every time the
resource changes hands, so tokens only grow (the *fencing token*: whoever holds the higher
one is the current holder, and anything checked against the lease with an older token is
refused by :meth:`Leases.is_current`).

* ``claim`` succeeds when the resource is free (new token) or already ours (TTL refreshed,
  same token); it is refused while another owner's lease lives.
* ``renew`` refreshes many leases in one round trip and reports the ones that are no longer
  ours (expired and taken, or released): the caller must stop using those at once.
* ``release`` deletes the lease only if it still carries our token, so a stale holder can
  never release its successor's lease.

The holder must also fence itself: if it cannot renew for longer than the TTL (Redis
unreachable, a long pause), its leases may already belong to someone else, so callers drop
what they hold once ``ttl`` has passed since the last renew that succeeded
(:class:`core.cluster.agent.CameraAgent` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis

_CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  if string.sub(cur, sep + 1) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(string.sub(cur, 1, sep - 1))
  end
  return -1
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
return token
"""

_RENEW = """
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
  else
    table.insert(lost, i)
  end
end
return lost
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a lease, and with which fencing token."""

    owner: str
    token: int


def _value(owner: str, token: int) -> str:
    return f"{token}|{owner}"


def _parse(raw: bytes | str | None) -> Holder | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else raw
    token, _, owner = text.partition("|")
    return Holder(owner, int(token))


class Leases:
    """Leases on named resources (cameras, the hub's alerting role) under one namespace."""

    def __init__(self, client: redis.Redis, namespace: str, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("lease ttl must be > 0 seconds")
        self._redis = client
        self._ns = namespace
        self.ttl = ttl
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    def _lease_key(self, resource: str) -> str:
        return f"{self._ns}:lease:{resource}"

    def _token_key(self, resource: str) -> str:
        return f"{self._ns}:token:{resource}"

    def claim(self, resource: str, owner: str) -> int | None:
        """Take or refresh the lease; returns our fencing token, or None if another holds it."""
        token = int(self._claim(keys=[self._lease_key(resource), self._token_key(resource)],
                                args=[owner, self._ttl_ms]))
        return None if token < 0 else token

    def renew(self, owner: str, held: Mapping[str, int]) -> set[str]:
        """Refresh every lease in ``held`` (resource → our token) in one call; returns the
        resources that are no longer ours."""
        if not held:
            return set()
        names = list(held)
        lost = self._renew(keys=[self._lease_key(n) for n in names],
                           args=[self._ttl_ms, *(_value(owner, held[n]) for n in names)])
        return {names[int(i) - 1] for i in lost}

    def release(self, resource: str, owner: str, token: int) -> bool:
        """Give the lease up if it is still ours (same token); True when it was deleted."""
        return bool(self._release(keys=[self._lease_key(resource)],
                                  args=[_value(owner, token)]))

    def holder(self, resource: str) -> Holder | None:
        """The live holder of ``resource``, if any."""
        return _parse(self._redis.get(self._lease_key(resource)))

    def holders(self, resources: list[str]) -> dict[str, Holder]:
        """Live holders of many resources at once (for status pages and tests)."""
        if not resources:
            return {}
        raw = self._redis.mget([self._lease_key(r) for r in resources])
        return {r: h for r, v in zip(resources, raw, strict=True)
                if (h := _parse(v)) is not None}

    def is_current(self, resource: str, token: int) -> bool:
        """The fencing check: True only if ``token`` is the live lease's token. A write
        guarded by this is refused for a holder whose lease has passed to someone else."""
        holder = self.holder(resource)
        return holder is not None and holder.token == token
