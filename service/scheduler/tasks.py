"""What the scheduler's jobs do: three functions of other modules, behind one small registry.

The scheduler only decides *when* and *who*; the work itself is the sweep
(``engine.timed.sweep``), the delivery workers (``service.delivery.worker``) and the nightly
snapshot (``engine.reports.snapshots``). They are imported when a job first runs, not when the
scheduler is imported, so ``motcua scheduler jobs`` stays quick and a scheduler whose task is
missing still leads, logs what is missing and runs the others. Tests pass their own
:class:`Tasks`.

Every task takes the database engine (each opens and commits its own transactions: a sweep
may commit in batches, a delivery commits its claim before sending) and the instant to act
at, from the scheduler's clock.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine

from engine.db import session_scope

log = logging.getLogger("motcua.scheduler")

#: ``sweep(engine, now, holder)``: find what time made due and write the messages.
SweepTask = Callable[[Engine, datetime, str], Any]
#: ``deliver(engine, now, worker)``: send one batch of the messages that are due; True if
#: the batch was full (more may be waiting).
DeliverTask = Callable[[Engine, datetime, str], bool]
#: ``snapshot(engine, day, now)``: store the figures of a local day.
SnapshotTask = Callable[[Engine, date, datetime], Any]


class TaskMissing(LookupError):
    """The module that does a job's work is not installed (yet)."""


@dataclass(frozen=True, slots=True)
class Tasks:
    sweep: SweepTask
    deliver: DeliverTask
    snapshot: SnapshotTask


def _function(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported now; :class:`TaskMissing` if either does not exist."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise TaskMissing(f"{module}.{name} không có ({exc})") from None


def run_sweep(engine: Engine, now: datetime, holder: str) -> Any:
    """One sweep (``engine.timed.sweep.run_sweep``: it commits chunk by chunk and records
    itself in ``sweep_run``), in its own session; one line in the log."""
    sweep = _function("engine.timed.sweep", "run_sweep")
    with session_scope(engine) as session:
        result = sweep(session, now=now, holder=holder)
    found = getattr(result, "findings", None) or {}
    log.info("quét xong: %s hồ sơ, %s bước, %s phát hiện, %s thông báo mới, %.1f giây",
             getattr(result, "dossiers", "?"), getattr(result, "steps", "?"),
             sum(found.values()), getattr(result, "new_messages", "?"),
             getattr(result, "seconds", 0.0))
    return result


#: Messages claimed per delivery batch.
DELIVER_BATCH = 50


def deliver_due(engine: Engine, now: datetime, worker: str) -> bool:
    """One delivery batch (``service.delivery.worker.deliver_due``); True if it was full."""
    deliver = _function("service.delivery.worker", "deliver_due")
    report = deliver(engine, now=now, worker=worker, limit=DELIVER_BATCH)
    return getattr(report, "claimed", 0) >= DELIVER_BATCH


def take_daily(engine: Engine, day: date, now: datetime) -> Any:
    """The nightly snapshot of ``day`` (``engine.reports.snapshots.take_daily``)."""
    take = _function("engine.reports.snapshots", "take_daily")
    with session_scope(engine) as session:
        return take(session, day=day, computed_by="scheduler", now=now)


#: The real work, imported at each run (a cached import after the first).
REAL = Tasks(sweep=run_sweep, deliver=deliver_due, snapshot=take_daily)
