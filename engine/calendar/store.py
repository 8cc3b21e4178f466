"""The calendar's database layer: admin overrides and office hours on top of the shipped data.

The national calendar in code (announced years plus estimates) is the base. The database holds
only departures from it: national overrides (agency_code ``''``, e.g. a newly announced make-up
Saturday) and each agency's own days off and office hours. The tables are created by migration
0001, which is authoritative; the models below mirror it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, UniqueConstraint, bindparam, func
from sqlmodel import Field, Session, SQLModel, col, select

from engine.calendar.model import DayEntry, DayKind, OfficeHours
from engine.calendar.national import national_calendar
from engine.calendar.working import WorkingCalendar

NATIONAL = ""  # agency_code of the national layer


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CalendarDayRow(SQLModel, table=True):
    """One day that departs from the shipped national calendar, for the nation or one agency."""

    __tablename__ = "calendar_day"
    __table_args__ = (UniqueConstraint("agency_code", "day", name="uq_calendar_day_agency_day"),)

    id: int | None = Field(default=None, primary_key=True)
    agency_code: str = Field(default=NATIONAL, max_length=64)
    day: date
    kind: str = Field(max_length=32)
    name: str = Field(max_length=255)
    legal_basis: str = Field(default="", max_length=500)
    confirmed: bool = True
    estimated: bool = False
    # Last time the entry was set (an upsert refreshes it), which also moves the cache revision.
    created_at: datetime = Field(default_factory=_utcnow)
    created_by: str = Field(default="", max_length=64)

    def to_entry(self) -> DayEntry:
        return DayEntry(
            day=self.day,
            kind=DayKind(self.kind),
            name=self.name,
            legal_basis=self.legal_basis,
            confirmed=self.confirmed,
            estimated=self.estimated,
            agency_code=self.agency_code or None,
        )


class OfficeHoursRow(SQLModel, table=True):
    """Office sessions of one agency (``''``: the national default), as ``OfficeHours.format()``."""

    __tablename__ = "office_hours"

    agency_code: str = Field(primary_key=True, max_length=64)
    sessions: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=_utcnow)


# Built calendars per engine (a WeakKeyDictionary, so throwaway test databases do not leak and
# two databases never share an entry), then per agency: the DB revision it was built from and
# the calendar. Only the latest revision per agency is kept.
_cache: WeakKeyDictionary[Engine, dict[str, tuple[Any, WorkingCalendar]]] = WeakKeyDictionary()


def clear_calendar_cache() -> None:
    _cache.clear()


# Run on every deadline computation, so built once (building a statement and its cache key
# costs about as much as running it on SQLite).
_HOURS_ROWS = select(OfficeHoursRow).where(
    col(OfficeHoursRow.agency_code).in_(bindparam("codes", expanding=True)))
_DAYS_REVISION = select(
    func.count(), func.max(CalendarDayRow.id), func.max(CalendarDayRow.created_at)
).where(col(CalendarDayRow.agency_code).in_(bindparam("codes", expanding=True)))


def load_calendar(session: Session, *, agency_code: str | None = None) -> WorkingCalendar:
    """The working calendar of ``agency_code`` (``None``/``''``: the national one).

    Layers, later winning: the shipped national calendar, national DB overrides, the agency's
    own rows. Office hours: the agency's row, else the national row, else the default.
    Building takes tens of milliseconds while deadline code calls this per request, so the
    result is cached until a cheap revision of the relevant rows changes.
    """
    code = agency_code or NATIONAL
    codes = (NATIONAL, code) if code else (NATIONAL,)
    hours_rows = {
        row.agency_code: row
        for row in session.exec(_HOURS_ROWS, params={"codes": list(codes)})
    }
    days_revision = session.exec(_DAYS_REVISION, params={"codes": list(codes)}).one()
    revision = (
        tuple(days_revision),
        tuple(sorted((c, r.sessions, r.updated_at) for c, r in hours_rows.items())),
    )

    bind = session.get_bind()
    per_agency = _cache.setdefault(getattr(bind, "engine", bind), {})
    cached = per_agency.get(code)
    if cached is not None and cached[0] == revision:
        return cached[1]

    rows = session.exec(
        select(CalendarDayRow).where(col(CalendarDayRow.agency_code).in_(codes))
    ).all()
    # National rows first so that the agency's own entry for the same day wins.
    rows = sorted(rows, key=lambda r: (r.agency_code != NATIONAL, r.day))
    hours_row = hours_rows.get(code) or hours_rows.get(NATIONAL)
    calendar = national_calendar().with_overrides(
        [row.to_entry() for row in rows],
        office_hours=OfficeHours.parse(hours_row.sessions) if hours_row else None,
        label=code or "national",
    )
    per_agency[code] = (revision, calendar)
    return calendar


def save_day(
    session: Session, *, entry: DayEntry, agency_code: str = NATIONAL, created_by: str = ""
) -> CalendarDayRow:
    """Insert or replace the entry for ``entry.day`` in the layer of ``agency_code``.

    A ``local_off`` day must say why (``entry.name``): it is printed in deadline explanations
    and the citizen has to be able to see why the office was closed.
    """
    if entry.agency_code not in (None, agency_code):
        raise ValueError(f"entry belongs to agency {entry.agency_code!r}, not {agency_code!r}")
    kind = DayKind(entry.kind)
    if kind is DayKind.LOCAL_OFF and not entry.name.strip():
        raise ValueError("ngày nghỉ riêng của cơ quan (local_off) phải ghi lý do (name)")
    row = session.exec(
        select(CalendarDayRow).where(
            CalendarDayRow.agency_code == agency_code, CalendarDayRow.day == entry.day
        )
    ).first()
    if row is None:
        row = CalendarDayRow(agency_code=agency_code, day=entry.day, kind=kind.value, name="")
        session.add(row)
    row.kind = kind.value
    row.name = entry.name.strip()
    row.legal_basis = entry.legal_basis
    row.confirmed = entry.confirmed
    row.estimated = entry.estimated
    row.created_at = _utcnow()
    row.created_by = created_by
    session.flush()
    return row


def delete_day(session: Session, *, day: date, agency_code: str = NATIONAL) -> bool:
    """Remove an override, so the day falls back to the layer below. True if one existed."""
    row = session.exec(
        select(CalendarDayRow).where(
            CalendarDayRow.agency_code == agency_code, CalendarDayRow.day == day
        )
    ).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def set_office_hours(
    session: Session, *, hours: OfficeHours, agency_code: str = NATIONAL
) -> OfficeHoursRow:
    """Set the office sessions used for hour-based limits (domain T6) of one agency."""
    row = session.get(OfficeHoursRow, agency_code)
    if row is None:
        row = OfficeHoursRow(agency_code=agency_code, sessions="")
        session.add(row)
    row.sessions = hours.format()
    row.updated_at = _utcnow()
    session.flush()
    return row


def list_days(
    session: Session, *, agency_code: str = NATIONAL, year: int | None = None
) -> list[CalendarDayRow]:
    """The overrides stored for one layer (not the shipped national days), by date."""
    query = select(CalendarDayRow).where(CalendarDayRow.agency_code == agency_code)
    if year is not None:
        query = query.where(col(CalendarDayRow.day).between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.exec(query.order_by(col(CalendarDayRow.day))).all())
