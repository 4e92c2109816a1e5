"""A worker's side of camera assignment: heartbeat, plan, claim, renew, hand over, fence.

One :meth:`CameraAgent.step` per tick (``tick`` seconds, 1 s by default) does, in order:

1. announce this member (heartbeat, capacity);
2. renew every lease it holds in one call; a lease found lost is dropped at once;
3. read the camera catalogue again if its version moved (config changes);
4. compute the plan (:func:`core.cluster.assign.plan`) over the live members;
5. claim the planned cameras it does not hold (refused while another holder's lease
   lives: the handover waits for that holder to release or to expire);
6. mark held cameras that the plan gives to someone else (or that left the catalogue) for
   handover. They are left out of what :meth:`step` returns, so the caller stops them first
   and only then calls :meth:`hand_over`, which releases their leases: no camera is ever
   claimable while its old holder may still be analysing it.

Timing (the defaults): lease TTL 8 s, member TTL 8 s, tick 1 s. A worker killed right after
a renew leaves leases that expire 8 s later and drops out of the member list at the same
time; the survivors see both on their next tick, so its cameras are claimed at most
``ttl + tick`` = 9 s after the death, leaving 6 s of the 15 s goal for the new holder to
open the stream. A live worker tolerates about seven missed renews (a Redis blip) before its
leases lapse. Self-fencing: a worker that has not renewed successfully for a whole TTL
drops everything it holds (:meth:`fence`), because its leases may already be someone else's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis

from core.cluster.assign import plan
from core.cluster.leases import Leases
from core.cluster.members import Catalogue, CatalogueEntry, Membership

log = logging.getLogger(__name__)

DEFAULT_LEASE_TTL = 8.0
DEFAULT_TICK = 1.0


@dataclass(frozen=True, slots=True)
class Held:
    """A camera this worker holds: its fencing token and the config it runs with."""

    token: int
    entry: CatalogueEntry


@dataclass(frozen=True, slots=True)
class AgentOptions:
    member: str
    capacity: float = 0.0
    lease_ttl: float = DEFAULT_LEASE_TTL
    tick: float = DEFAULT_TICK


class CameraAgent:
    """Keeps the leases of the cameras this worker should hold (see the module doc)."""

    def __init__(self, client: redis.Redis, namespace: str, options: AgentOptions,
                 cost: Callable[[str], float]) -> None:
        """``cost``: a camera's config JSON → its cost in capacity units."""
        self.options = options
        self.member = options.member
        self.leases = Leases(client, f"{namespace}:camera", options.lease_ttl)
        self.members = Membership(client, namespace, options.lease_ttl)
        self.catalogue = Catalogue(client, namespace)
        self._cost_of = cost
        self._version = -1
        self._entries: dict[str, CatalogueEntry] = {}
        self._costs: dict[str, float] = {}
        self.held: dict[str, Held] = {}
        self._handover: dict[str, int] = {}
        self._renewed_at: float | None = None
        self.overloaded: list[str] = []

    def step(self, now: float) -> dict[str, CatalogueEntry]:
        """One tick (``now``: a monotonic clock); returns the cameras to run now."""
        started = now
        self.members.announce(self.member, self.options.capacity)
        for camera in self.leases.renew(self.member, {c: h.token for c, h in self.held.items()}):
            log.warning("camera %s: lease lost (expired or taken over); stopping it", camera)
            self.held.pop(camera, None)
            self._handover.pop(camera, None)
        self._renewed_at = started
        self._refresh_catalogue()
        mine = self._planned()
        for camera in sorted(mine - set(self.held)):
            token = self.leases.claim(camera, self.member)
            if token is not None:
                self._handover.pop(camera, None)  # planned for us again before release
                self.held[camera] = Held(token, self._entries[camera])
        for camera, held in list(self.held.items()):
            entry = self._entries.get(camera)
            if camera not in mine or entry is None:
                self._handover[camera] = held.token
                del self.held[camera]
            elif entry != held.entry:
                log.info("camera %s: config changed (%s → %s)", camera,
                         held.entry.config_hash, entry.config_hash)
                self.held[camera] = Held(held.token, entry)
        return {camera: held.entry for camera, held in self.held.items()}

    def _refresh_catalogue(self) -> None:
        if self.catalogue.version() == self._version:
            return
        self._version, self._entries = self.catalogue.read()
        self._costs = {c: self._cost_of(e.config_json) for c, e in self._entries.items()}

    def _planned(self) -> set[str]:
        result = plan(self._costs, self.members.live())
        self.overloaded = result.overloaded
        return result.of(self.member)

    def hand_over(self) -> list[str]:
        """Release the leases of cameras the last step left out (call after stopping them)."""
        released = sorted(self._handover)
        for camera, token in self._handover.items():
            self.leases.release(camera, self.member, token)
        self._handover.clear()
        return released

    def fence(self, now: float) -> bool:
        """After a failed step: drop everything once a whole TTL has passed since the last
        successful renew (our leases may be someone else's now). True when it dropped."""
        if not self.held or self._renewed_at is None:
            return False
        if now - self._renewed_at < self.options.lease_ttl:
            return False
        log.error("no lease renewal for %.1f s: stopping all %d cameras (they may have moved)",
                  now - self._renewed_at, len(self.held))
        self.held.clear()
        self._handover.clear()
        return True

    def leave(self) -> None:
        """A clean stop (after the cameras stopped): release everything and leave at once."""
        self._handover.update({c: h.token for c, h in self.held.items()})
        self.held.clear()
        self.hand_over()
        self.members.leave(self.member)
