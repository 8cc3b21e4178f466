"""Leadership: which process runs the sweeps and the snapshot (*chỉ một tiến trình chủ trì*).

APScheduler 3 cannot share a job store between processes (duplicate runs, then a silently
dead scheduler thread: stack-notes §6.1), so each process schedules its jobs in memory and the
database lease ``scheduler`` (``engine.leases``) decides who acts. Every process renews or
tries to take it at each heartbeat; a dead leader's lease expires and a waiting process takes
over at its next heartbeat — at most ``ttl + heartbeat`` seconds (40 s by default) after the
leader's last renewal.

A process believes it leads only until ``heartbeat`` seconds before the expiry it wrote, so a
process whose heartbeats fail (database unreachable or locked) stops leading before a
successor may start; a small clock difference between machines is covered by the same margin.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine

from engine import leases
from engine.db import session_scope

log = logging.getLogger("motcua.scheduler")

LEASE_NAME = "scheduler"


def process_holder() -> str:
    """This process's name in the lease table: host and pid for people, and a random suffix
    so two processes that reuse a pid (containers) never look alike."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(3)}"


class Leadership:
    """The lease as one process sees it. Thread-safe: the heartbeat job writes, the other
    jobs and ``/healthz`` read."""

    def __init__(self, engine: Engine, holder: str, *, clock: Callable[[], datetime],
                 heartbeat: float = leases.HEARTBEAT, ttl: float = leases.TTL,
                 name: str = LEASE_NAME) -> None:
        self.engine, self.holder, self.clock, self.name = engine, holder, clock, name
        self.heartbeat, self.ttl = heartbeat, ttl
        self._lock = threading.Lock()
        self._until: datetime | None = None

    def beat(self) -> bool:
        """Take or renew the lease now; True while this process leads. A database error is
        logged and counts as not renewed (the lease then runs out on its own)."""
        now = self.clock()
        try:
            with session_scope(self.engine) as session:
                held = leases.acquire(session, self.name, self.holder, now=now, ttl=self.ttl)
        except Exception:
            log.warning("không gia hạn được quyền chủ trì %r", self.name, exc_info=True)
            return self.leading(now)
        with self._lock:
            was = self._until is not None and now < self._until
            self._until = now + timedelta(seconds=self.ttl - self.heartbeat) if held else None
        if held and not was:
            log.info("tiến trình %s chủ trì công việc định kỳ", self.holder)
        elif was and not held:
            log.warning("tiến trình %s mất quyền chủ trì", self.holder)
        return held

    def leading(self, now: datetime | None = None) -> bool:
        """Whether this process may act as the leader at ``now`` (default: the clock)."""
        now = now or self.clock()
        with self._lock:
            return self._until is not None and now < self._until

    def resign(self) -> None:
        """Give the lease up (clean shutdown), so a waiting process takes over at its next
        heartbeat instead of after the expiry. Harmless if another process holds it."""
        with self._lock:
            self._until = None
        try:
            with session_scope(self.engine) as session:
                leases.release(session, self.name, self.holder)
        except Exception:  # the lease then expires on its own
            log.warning("không trả được quyền chủ trì %r", self.name, exc_info=True)
