"""Runtime settings, read from the environment (``MOTCUA_*``) so one build runs anywhere.

A province deploys on PostgreSQL, a commune laptop or a demo on a single SQLite file; only the
URL differs, so the URL is the one thing that has to be configured.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///motcua.db"

# Hosting panels and Heroku-style tools hand out driverless URLs; SQLAlchemy would then pick
# psycopg2, which is not installed. We ship psycopg 3.
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_PSYCOPG_SCHEME = "postgresql+psycopg://"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL


def normalize_database_url(url: str) -> str:
    """Point driverless PostgreSQL URLs at psycopg 3; leave every other URL unchanged."""
    for scheme in _POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return _PSYCOPG_SCHEME + url[len(scheme):]
    return url


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    """Settings from ``env``; an empty variable counts as unset (a blank line in a .env file)."""
    url = env.get("MOTCUA_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    return Settings(database_url=normalize_database_url(url))


def positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive setting from the environment (``default`` when unset or blank). A value that
    is not a finite positive number stops start-up with a message naming the variable, rather
    than running with a surprise (a zero timeout, a negative interval)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} phải là một số dương (nhận {raw!r}) / must be a positive "
                         "number")
    return value


def seconds_or_zero(env: Mapping[str, str], name: str, default: float) -> float:
    """A number of seconds, 0 or more, from the environment (``default`` when unset or blank):
    0 usually turns something off ("try once", "never reuse"). Anything else stops start-up
    with a message naming the variable, as :func:`positive_number` does."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} phải là số giây không âm (nhận {raw!r}) / must be a number "
                         "of seconds, 0 or more")
    return value
