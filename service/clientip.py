"""The client's address, trusting ``X-Forwarded-For`` only from configured proxies.

uvicorn trusts forwarded headers from 127.0.0.1 by default, so a client on the same machine
(or behind a proxy that passes the header through) could pick any address and so escape every
per-address limit. ``motcua serve`` turns uvicorn's own handling off and this module decides:
the header is read only when the direct peer is listed in ``MOTCUA_TRUSTED_PROXIES``
(comma-separated addresses or networks, default none), and then the right-most address that
is not itself a trusted proxy is the client (RFC 7239's advice: the left part is the client's
own claim).
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_proxies(raw: str) -> tuple[Network, ...]:
    """Parse ``MOTCUA_TRUSTED_PROXIES``; a bad entry is an error at start-up, not a silent
    "trust nobody" (or everybody)."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HTTPConnection, env: dict[str, str] | None = None) -> str:
    """The address rate limits, journals and sessions record for ``request``."""
    peer = request.client.host if request.client else "?"
    networks = trusted_proxies((env if env is not None else os.environ)
                               .get("MOTCUA_TRUSTED_PROXIES", ""))
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed header: fall back to the proxy itself
    return peer
