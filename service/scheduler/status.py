"""What the scheduler has done, read back from the database for ``/healthz``, ``/metrics`` and
``motcua scheduler jobs``: the last successful sweep (table ``sweep_run``, written by each
sweep: ``engine.timed.runs``) and who holds the lease.

Read defensively: the table is described here with only the columns read, on a metadata of its
own (``engine.timed.runs`` owns the model), and a database without it — not yet migrated —
reads as "no sweep yet", never as an error in a health probe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    Integer,
    MetaData,
    Row,
    Select,
    String,
    Table,
    Text,
    case,
    func,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from engine.leases import Lease
from engine.timezone import read_instant

log = logging.getLogger("motcua.scheduler")

SWEEP_RUN = Table(
    "sweep_run", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("holder", String(128)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("ok", Boolean),
    Column("findings", JSON),
    Column("new_messages", Integer),
    Column("seconds", Float),
    Column("error", Text),
)


@dataclass(frozen=True, slots=True)
class SweepRecord:
    """One finished sweep: when, how long, what it found (counts per kind)."""

    holder: str
    started_at: datetime
    finished_at: datetime
    findings: dict[str, int] = field(default_factory=dict)
    new_messages: int = 0
    wall_seconds: float | None = None  # measured by the sweep; else from the two instants

    @property
    def seconds(self) -> float:
        if self.wall_seconds is not None:
            return self.wall_seconds
        return (self.finished_at - self.started_at).total_seconds()


def last_successful_sweep(connection: Connection) -> SweepRecord | None:
    """The latest sweep that finished without error, by any process; None if there is none
    or the table does not exist yet."""
    t = SWEEP_RUN.c
    rows = _read(connection, select(t.holder, t.started_at, t.finished_at, t.findings,
                                    t.new_messages, t.seconds)
                 .where(t.ok.is_(True), t.finished_at.is_not(None))
                 .order_by(t.id.desc()).limit(1))
    if not rows:
        return None
    row = rows[0]
    return SweepRecord(holder=row.holder, started_at=read_instant(row.started_at),
                       finished_at=read_instant(row.finished_at),
                       findings=_counts(row.findings), new_messages=row.new_messages or 0,
                       wall_seconds=row.seconds)


def sweep_runs(connection: Connection) -> dict[str, int]:
    """How many sweeps ended ``ok``, ``failed`` (an error recorded) or are ``unfinished``
    (running now, or killed half-way: neither a finish nor an error)."""
    t = SWEEP_RUN.c
    outcome = case((t.ok.is_(True), "ok"), (t.error.is_not(None), "failed"),
                   else_="unfinished")
    rows = _read(connection, select(outcome, func.count()).group_by(outcome))
    return {name: count for name, count in rows or ()}


@dataclass(frozen=True, slots=True)
class LeaseState:
    holder: str | None  # None: nobody leads now (never taken, released or expired)
    expires_at: datetime | None


def lease_state(connection: Connection, name: str, now: datetime) -> LeaseState:
    """Who holds the lease ``name`` at ``now``."""
    t = Lease.__table__.c
    rows = _read(connection, select(t.holder, t.expires_at).where(t.name == name))
    if not rows:
        return LeaseState(None, None)
    row = rows[0]
    expires = read_instant(row.expires_at)
    return LeaseState(row.holder if expires >= now else None, expires)


def _counts(value: Any) -> dict[str, int]:
    """Findings per kind from the stored JSON: ``{"overdue": 3, …}`` (anything else: {})."""
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int | float)}


def _read(connection: Connection, statement: Select[Any]) -> list[Row[Any]] | None:
    """The rows of ``statement``, or None if it failed (a table not migrated yet). Run in a
    savepoint: a failed statement aborts a PostgreSQL transaction, and the caller's next read
    (or its ``SET statement_timeout``) must survive it."""
    try:
        with connection.begin_nested():
            return list(connection.execute(statement).all())
    except SQLAlchemyError:
        log.debug("không đọc được trạng thái bộ lập lịch", exc_info=True)
        return None
