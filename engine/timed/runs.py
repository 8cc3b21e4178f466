"""The record of the sweeps (*lần quét*): one row per run, for /healthz, /metrics and the next run.

A run is written when it starts (``ok`` false, no ``finished_at``) and completed when it ends,
so a sweep that died half-way stays visible as such. The last successful run also tells the
next one which calendars and settings it judged with (``judged_with``): if an administrator
has since changed a calendar or an agency's warning settings, the next sweep looks again at
the dossiers the earlier one had set aside (``engine.timed.sweep``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, Session, SQLModel, col, select


class SweepRun(SQLModel, table=True):
    """One sweep (migration 0010)."""

    __tablename__ = "sweep_run"

    id: int | None = Field(default=None, primary_key=True)
    holder: str = Field(max_length=128)  # the process that ran it (the lease holder)
    started_at: datetime = Field(index=True)  # the instant the rules were applied at (``now``)
    finished_at: datetime | None = None  # ``started_at`` + the run's duration; None: unfinished
    ok: bool = False
    #: Findings per kind (``FindingKind`` value → number found in this run).
    findings: dict[str, int] | None = Field(default=None, sa_column=Column(JSON))
    new_messages: int = 0  # outbox rows written (a repeat finding writes none)
    error: str | None = Field(default=None, sa_column=Column(Text))
    seconds: float | None = None  # wall-clock duration
    candidates: int = 0  # dossiers and hand-off rows the rules were applied to
    full: bool = False  # the marks were ignored (first run, or the calendars/settings changed)
    #: Fingerprint of each calendar and settings the run judged with (``''``: the national
    #: calendar with the default settings; other keys: agencies with their own).
    judged_with: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))


def last_successful(session: Session) -> SweepRun | None:
    """The latest run that finished well (what /healthz reports, what the next run compares)."""
    return session.exec(select(SweepRun).where(col(SweepRun.ok).is_(True))
                        .order_by(col(SweepRun.id).desc()).limit(1)).first()


def summary(run: SweepRun | None) -> dict[str, Any] | None:
    """A run as /healthz and /metrics show it."""
    if run is None:
        return None
    return {"id": run.id, "holder": run.holder, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "ok": run.ok, "seconds": run.seconds, "candidates": run.candidates,
            "findings": dict(run.findings or {}), "new_messages": run.new_messages,
            "full": run.full, "error": run.error}
