"""What the app shows besides its API: the API documentation and the Prometheus metrics.

Both are useful to operators and to an attacker mapping the service (every route, every
status count), so both are settings:

- ``MOTCUA_API_DOCS`` (default ``1``): ``0`` removes ``/docs``, ``/redoc`` and
  ``/openapi.json``;
- ``/metrics`` answers a request carrying ``Authorization: Bearer <MOTCUA_METRICS_TOKEN>``
  (when that is set), or coming from an address in ``MOTCUA_METRICS_ALLOW`` (comma-separated
  addresses or networks, default ``127.0.0.1,::1``; empty = nobody by address). The address is
  ``service.clientip.client_address``: behind a proxy on the same machine, set
  ``MOTCUA_TRUSTED_PROXIES``, or every client would look like 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache

from starlette.requests import Request

from service.clientip import Network, client_address
from service.problems import Problem

DEFAULT_METRICS_ALLOW = "127.0.0.1,::1"
OFF = frozenset({"0", "false", "no", "off"})


def api_docs_enabled(env: dict[str, str] | None = None) -> bool:
    """``MOTCUA_API_DOCS``: anything but 0/false/no/off keeps the documentation."""
    value = (env if env is not None else os.environ).get("MOTCUA_API_DOCS", "1")
    return value.strip().lower() not in OFF


def docs_urls(env: dict[str, str] | None = None) -> dict[str, str | None]:
    """The FastAPI constructor's documentation URLs (None hides a page)."""
    if api_docs_enabled(env):
        return {"docs_url": "/docs", "redoc_url": "/redoc", "openapi_url": "/openapi.json"}
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


@lru_cache(maxsize=8)
def allowed_networks(raw: str) -> tuple[Network, ...]:
    """Parse ``MOTCUA_METRICS_ALLOW``; a bad entry is an error, not a silent "allow nobody"."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False)
                 for item in raw.split(",") if item.strip())


def _address_allowed(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # e.g. a test client's "testclient"
    return any(ip in network for network in networks)


def check_metrics_access(request: Request, env: dict[str, str] | None = None) -> None:
    """Raise a problem unless ``request`` may read ``/metrics`` (see the module docstring)."""
    env = env if env is not None else dict(os.environ)
    token = env.get("MOTCUA_METRICS_TOKEN", "").strip()
    sent = request.headers.get("authorization", "")
    if token and secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return
    networks = allowed_networks(env.get("MOTCUA_METRICS_ALLOW", DEFAULT_METRICS_ALLOW))
    if _address_allowed(client_address(request, env), networks):
        return
    if token:
        raise Problem(401, "unauthenticated", "Cần mã truy cập số liệu giám sát.",
                      headers={"WWW-Authenticate": "Bearer"})
    raise Problem(403, "forbidden", "Địa chỉ này không được xem số liệu giám sát.")
