"""The message bus, chosen by URL: ``memory://NAME``, ``local:///socket``, ``redis://...``."""

from __future__ import annotations

from pathlib import Path

from core.bus.base import DEFAULT_MAXLEN, Bus, Delivery
from core.bus.local import LocalBus, LocalHub
from core.bus.memory import MemoryBus, named_memory_bus
from core.errors import ConfigError

DEFAULT_LOCAL_SOCKET = Path("var/run/bus.sock")

__all__ = [
    "DEFAULT_LOCAL_SOCKET", "Bus", "Delivery", "LocalBus", "LocalHub", "MemoryBus",
    "local_socket_path", "open_bus",
]


def local_socket_path(url: str) -> Path:
    """``local://`` → the default socket; ``local:///run/vigil.sock`` → that path."""
    rest = url.removeprefix("local://")
    return Path(rest) if rest else DEFAULT_LOCAL_SOCKET


async def open_bus(url: str, maxlen: int = DEFAULT_MAXLEN) -> Bus:
    """Open the bus backend named by ``url`` (explicit registry: rule 6)."""
    if url.startswith("memory://"):
        return named_memory_bus(url.removeprefix("memory://") or "default")
    if url.startswith("local://"):
        return await LocalBus(local_socket_path(url)).connect()
    if url.startswith(("redis://", "rediss://")):
        from core.bus.redis_bus import RedisBus

        return RedisBus(url, maxlen)
    raise ConfigError([f"bus: unknown bus URL {url!r}; use memory://, local:// or redis://"])
