"""How urgent an open dossier is, for the officer's inbox and the dossier page (*mức độ khẩn*).

The apology (*văn bản xin lỗi, hẹn lại ngày trả*, Mẫu 04) must go out "chậm nhất 01 ngày trước
ngày hết hạn" (T9), so the badge asks for it once that last day (``engine.clock.apology_deadline``,
the working day before the due date) is today or has passed and no Mẫu 04 was sent. "Working
day" is counted on the calendar of the agency that processes the dossier (the clock's own
calendar), not the national one: an agency with its own day off would otherwise get the badge a
day early or late.

A dossier whose last apology day came before its clock started (a same-day procedure received
on a Saturday, due on Monday: the day before is Friday) never had a day to apologise in; it
gets no apology badge — "đến hạn hôm nay" comes on its due date — instead of a wall of them
over every one-day procedure received out of hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from sqlmodel import Session

from engine.calendar import WorkingCalendar
from engine.calendar.store import load_calendars
from engine.clock import apology_deadline, had_apology_day
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import TERMINAL


class Urgency(StrEnum):
    OVERDUE = "overdue"  # quá hạn
    DUE_TODAY = "due_today"  # đến hạn hôm nay
    APOLOGY_DUE = "apology_due"  # the last day for Mẫu 04 is today or passed, none sent yet
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
    last_apology_day = apology_deadline(dossier.due_date, calendar)
    if last_apology_day > today:
        return None
    if dossier.apology_count:
        return Urgency.DUE_SOON
    started = dossier.clock_started_at or dossier.received_at
    return Urgency.APOLOGY_DUE if had_apology_day(started, last_apology_day) else None


def urgencies(session: Session, dossiers: Iterable[Dossier], today: date,
              calendars: Mapping[str, WorkingCalendar] | None = None
              ) -> dict[str, Urgency | None]:
    """The badges of a page of dossiers by code, with each competent agency's calendar read
    once (one statement for the page), or taken from ``calendars`` when the caller read them
    (``engine.lifecycle.worklist.page_facts``)."""
    dossiers = list(dossiers)
    if calendars is None:
        calendars = load_calendars(session, {d.competent_agency for d in dossiers})
    return {d.code: urgency(d, today, calendars[d.competent_agency]) for d in dossiers}
