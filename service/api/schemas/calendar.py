"""What ``/api/v1/calendar`` answers: a year's days, a change and the deadlines it moved."""

from __future__ import annotations

from typing import Any

from service.api.schemas.common import Day, Instant, Public


class CalendarDay(Public):
    """A day that departs from Monday–Friday (holiday, make-up working day, day off…)."""

    date: Day
    kind: str
    name: str
    legal_basis: str
    confirmed: bool
    estimated: bool


class CalendarOverride(Public):
    """A day entered by an administrator (over the shipped national calendar)."""

    date: Day
    kind: str
    name: str
    created_by: str
    created_at: Instant


class CalendarYear(Public):
    year: int
    agency: str
    calendar_version: str
    office_hours: str
    days: list[CalendarDay]
    overrides: list[CalendarOverride]


class Reprojected(Public):
    """An open dossier whose due date or appointment a calendar change moved (``"None"``
    when there was none)."""

    code: str
    old_due: str
    new_due: str
    old_appointment: str
    new_appointment: str


class CalendarChanged(Public):
    journal_id: int
    reprojected: list[Reprojected]


class CalendarJournalEntry(Public):
    id: int
    at: Instant
    actor: str
    agency: str
    change: dict[str, Any]
    reprojected: list[Reprojected]
