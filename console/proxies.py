"""Which address a request came from, trusting ``X-Forwarded-For`` only from configured
proxies.

uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 by default, so any local process (or a
reverse proxy that passes the header through unchanged) could claim a new address per
request and reset the per-address login limit (issue 11, item 5). The console is
therefore served with uvicorn's proxy handling off (:func:`console.app.server_options`)
and decides here: the header counts only when the peer is in
``ConsoleSettings.trusted_proxies``, and then the client is the right-most address in it
that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(trusted: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16"]`` → networks; ``ValueError`` for a bad entry."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in trusted)


def _trusted(address: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in nets)


def client_address(request: Request, trusted: tuple[str, ...]) -> str:
    """The client's address: the TCP peer, or, when the peer is a trusted proxy, the
    right-most ``X-Forwarded-For`` entry that is not a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    nets = networks(trusted)
    if not nets or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, nets):
            return hop
    return peer
