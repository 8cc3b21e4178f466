"""The scheduler's settings, read from the environment (``MOTCUA_*``; docs/notifications.md).

Only the rhythm is configurable here; *what* a sweep finds (warning horizons, how long a
supplement may be awaited) belongs to the sweep's own settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from engine import leases
from engine.settings import positive_number

#: The nightly snapshot runs at this local (Asia/Ho_Chi_Minh) time and stores *yesterday*: a day
#: is taken only once it is over (an online dossier may arrive at 23:59;
#: ``engine.reports.snapshots.take_daily`` refuses a day not yet ended).
SNAPSHOT_AT = time(0, 10)
SWEEP_MINUTES = 5
DELIVER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    #: Minutes between sweeps (``MOTCUA_SWEEP_MINUTES``).
    sweep_minutes: float = SWEEP_MINUTES
    #: Seconds between delivery rounds (``MOTCUA_DELIVER_SECONDS``).
    deliver_seconds: float = DELIVER_SECONDS
    #: Seconds between lease heartbeats (``MOTCUA_LEASE_HEARTBEAT_SECONDS``).
    heartbeat: float = leases.HEARTBEAT
    #: Seconds a lease outlives its last heartbeat (``MOTCUA_LEASE_TTL_SECONDS``): a dead
    #: leader is replaced after at most ``ttl + heartbeat``.
    ttl: float = leases.TTL
    snapshot_at: time = SNAPSHOT_AT

    def __post_init__(self) -> None:
        if self.ttl < 2 * self.heartbeat:
            raise ValueError(
                f"MOTCUA_LEASE_TTL_SECONDS ({self.ttl:g}) phải ít nhất gấp đôi "
                f"MOTCUA_LEASE_HEARTBEAT_SECONDS ({self.heartbeat:g}) / the lease must survive "
                "one missed heartbeat")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SchedulerSettings:
        """The settings from ``env``; an unset or blank variable keeps its default, a bad one
        is a clear error naming it (never a scheduler that silently never runs)."""
        return cls(
            sweep_minutes=positive_number(env, "MOTCUA_SWEEP_MINUTES", SWEEP_MINUTES),
            deliver_seconds=positive_number(env, "MOTCUA_DELIVER_SECONDS", DELIVER_SECONDS),
            heartbeat=positive_number(env, "MOTCUA_LEASE_HEARTBEAT_SECONDS", leases.HEARTBEAT),
            ttl=positive_number(env, "MOTCUA_LEASE_TTL_SECONDS", leases.TTL),
        )


