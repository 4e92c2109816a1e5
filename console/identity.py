"""Who is asking: the principal behind a token and the three console roles.

Roles are ranked, each including the one below it:

* ``monitor`` — watch alerts and cameras; sign, dispose, give feedback, close, dismiss;
* ``dispatcher`` — monitor + the dispatch side (dead letters, retries, dispatch rows);
* ``supervisor`` (值班长) — dispatcher + taking over alerts: reassign an alert someone else
  holds, hand a whole shift's alerts to the next one (the holder rule binds everyone else);
* ``admin`` — everything: users, API tokens, watchlist deploy/approve/withdraw/import,
  the audit log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    MONITOR = "monitor"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


RANK: dict[str, int] = {Role.MONITOR: 1, Role.DISPATCHER: 2, Role.SUPERVISOR: 3, Role.ADMIN: 4}
ROLE_NAMES = ", ".join(Role)
"""For messages: "monitor, dispatcher, supervisor, admin"."""


def at_least(role: str, needed: Role) -> bool:
    """True if ``role`` includes ``needed`` (an unknown role includes nothing)."""
    return RANK.get(role, 0) >= RANK[needed]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. ``name`` is what the audit log and timelines record:
    the username for a session or a user's API token, ``token:<name>`` for an integration
    token, ``bootstrap`` for the environment's admin token. ``kind`` is ``static``,
    ``session`` or ``api``."""

    name: str
    role: str
    display_name: str = ""
    kind: str = "static"
    token_id: int | None = None
    expires_at: float | None = None
