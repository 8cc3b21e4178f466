"""How urgent an open dossier is, for the officer's inbox and the dossier page (*mức độ khẩn*).

The apology (*văn bản xin lỗi, hẹn lại ngày trả*, Mẫu 04) must go out before a dossier is late,
so one working day before its due date the badge says so. "One working day" is counted on the
calendar of the agency that processes the dossier (the clock's own calendar), not the national
one: an agency with its own day off would otherwise get the badge a day early or late.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from sqlmodel import Session

from engine.calendar import WorkingCalendar
from engine.calendar.store import load_calendars
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import TERMINAL


class Urgency(StrEnum):
    OVERDUE = "overdue"  # quá hạn
    DUE_TODAY = "due_today"  # đến hạn hôm nay
    APOLOGY_DUE = "apology_due"  # one working day left, no apology letter sent yet
    DUE_SOON = "due_soon"  # one working day left, already apologised (new appointment)

    @property
    def label_vi(self) -> str:
        return {"overdue": "Quá hạn", "due_today": "Đến hạn hôm nay",
                "apology_due": "Sắp đến hạn — cần xin lỗi nếu trễ",
                "due_soon": "Còn 1 ngày"}[self.value]


_TERMINAL = frozenset(s.value for s in TERMINAL)


def urgency(dossier: Dossier, today: date, calendar: WorkingCalendar) -> Urgency | None:
    """The badge of ``dossier`` on ``today``; ``calendar`` is the competent agency's."""
    if dossier.state in _TERMINAL or dossier.ended_at or not dossier.due_date:
        return None
    if dossier.due_date < today:
        return Urgency.OVERDUE
    if dossier.due_date == today:
        return Urgency.DUE_TODAY
    if calendar.previous_working_day(dossier.due_date) <= today:
        return Urgency.APOLOGY_DUE if dossier.apology_count == 0 else Urgency.DUE_SOON
    return None


def urgencies(session: Session, dossiers: Iterable[Dossier],
              today: date) -> dict[str, Urgency | None]:
    """The badges of a page of dossiers by code, with each competent agency's calendar read
    once (one statement for the page)."""
    dossiers = list(dossiers)
    calendars = load_calendars(session, {d.competent_agency for d in dossiers})
    return {d.code: urgency(d, today, calendars[d.competent_agency]) for d in dossiers}
