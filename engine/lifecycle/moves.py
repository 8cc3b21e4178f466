"""Appointment moves (*dời ngày hẹn trả kết quả*): what a calendar edit did to a dossier's dates.

A calendar edit (a new day off, a make-up day, other office hours) re-projects the deadlines of
open dossiers (``engine.lifecycle.reprojection``). The applicant holds a printed appointment, so
a moved date is recorded on the dossier — one row per move, never rewritten — shown on the
dossier and citizen pages, and announced to whoever listens (:func:`on_move`; the outbox's
messages, ``engine.timed.events``).

Why a table and not an event of the dossier's hash-chained journal: that journal holds the
actions of the state machine — the consistency check replays every event through it
(``engine.lifecycle.consistency``) — and nobody acted on the dossier: the calendar changed.
The row is keyed by the dossier version the move wrote (the re-projection's compare-and-set
bumps it), so one move is one row, and a re-projection that finds nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from engine.lifecycle.models import Dossier, utcnow

#: The reason shown when the caller does not describe the calendar change.
CALENDAR_CHANGED = "điều chỉnh lịch làm việc (ngày nghỉ, ngày làm bù hoặc giờ làm việc)"


class AppointmentMove(SQLModel, table=True):
    """One re-projection that moved a dossier's due date or appointment (migration 0012)."""

    __tablename__ = "appointment_move"
    __table_args__ = (UniqueConstraint("dossier_id", "dossier_version",
                                       name="uq_appointment_move_version"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    #: The dossier's version after the move (the re-projection's compare-and-set wrote it).
    dossier_version: int
    at: datetime = Field(default_factory=utcnow)
    reason: str = Field(max_length=500)
    old_due: date | None = None
    new_due: date | None = None
    old_appointment: date | None = None
    new_appointment: date | None = None
    calendar_version: str | None = Field(default=None, max_length=32)

    @property
    def appointment_moved(self) -> bool:
        """The applicant's printed date changed (not only the legal due date under an
        apology's new appointment)."""
        return self.old_appointment != self.new_appointment

    def as_dict(self) -> dict[str, str | None]:
        return {"at": self.at.isoformat(), "reason": self.reason,
                "old_due": _iso(self.old_due), "new_due": _iso(self.new_due),
                "old_appointment": _iso(self.old_appointment),
                "new_appointment": _iso(self.new_appointment)}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


Listener = Callable[[Session, Dossier, AppointmentMove], None]
_LISTENERS: list[Listener] = []


def on_move(listener: Listener) -> Listener:
    """Register a callable run for each recorded move, in the re-projection's transaction
    (what it writes commits with the move or not at all). Registering twice is a no-op."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def record_move(session: Session, dossier: Dossier, *, before: tuple[date | None, date | None],
                reason: str | None = None, at: datetime | None = None) -> AppointmentMove:
    """Write the move of ``dossier`` from ``before`` (due date, appointment) to its current
    dates, after its compare-and-set, and tell the listeners."""
    move = AppointmentMove(dossier_id=dossier.id, dossier_version=dossier.version,
                           at=at or utcnow(), reason=(reason or CALENDAR_CHANGED)[:500],
                           old_due=before[0], new_due=dossier.due_date,
                           old_appointment=before[1], new_appointment=dossier.appointment_date,
                           calendar_version=dossier.calendar_version)
    session.add(move)
    session.flush()
    for listener in _LISTENERS:
        listener(session, dossier, move)
    return move


def moves_of(session: Session, dossier: Dossier) -> list[AppointmentMove]:
    """The dossier's moves, oldest first (the dossier and citizen pages)."""
    return list(session.exec(select(AppointmentMove)
                             .where(AppointmentMove.dossier_id == dossier.id)
                             .order_by(col(AppointmentMove.id))).all())
