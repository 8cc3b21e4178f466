"""Leases: exactly one process leads the timed work (migration 0009).

Two APScheduler instances on one job store double-fire and then die (stack-notes), so only the
holder of the ``scheduler`` lease runs jobs. A lease is a row with a holder and an expiry,
taken and renewed with one compare-and-set ``UPDATE`` — the same on SQLite and PostgreSQL, no
advisory lock that a connection pool could lose silently. The holder renews it every
:data:`HEARTBEAT` seconds; if it dies (``kill -9``), the row expires after :data:`TTL` seconds
and a waiting process takes it over, well within a minute.

Jobs must still be idempotent (the outbox's uniqueness keys make them so): a holder that
stalls past its expiry may overlap with its successor for one run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

#: Seconds between renewals by the holder.
HEARTBEAT = 10
#: Seconds a lease lasts without renewal: a dead holder is replaced after at most this.
TTL = 30


class Lease(SQLModel, table=True):
    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


def acquire(session: Session, name: str, holder: str, *, now: datetime | None = None,
            ttl: float = TTL) -> bool:
    """Take or renew the lease ``name`` for ``holder``; True if ``holder`` holds it now. The
    caller commits (a lease taken in a transaction that rolls back was never taken)."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(seconds=ttl)
    table = Lease.__table__
    taken = session.connection().execute(
        update(table)
        .where(table.c.name == name, or_(table.c.holder == holder, table.c.expires_at < now))
        .values(holder=holder, renewed_at=now, expires_at=expires,
                acquired_at=case((table.c.holder == holder, table.c.acquired_at), else_=now))
    ).rowcount
    if taken == 1:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, acquired_at=now, renewed_at=now,
                              expires_at=expires))
    except IntegrityError:  # another process created it first
        return False
    return True


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease up at a clean shutdown, so the next process need not wait for expiry."""
    table = Lease.__table__
    session.connection().execute(
        update(table).where(table.c.name == name, table.c.holder == holder)
        .values(expires_at=datetime(1970, 1, 1, tzinfo=UTC)))


def holder_of(session: Session, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds the lease now (None: nobody, or it expired)."""
    now = now or datetime.now(UTC)
    row = session.get(Lease, name)
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return row.holder if expires >= now else None
