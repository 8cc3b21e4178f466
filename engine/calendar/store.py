"""The calendar's database layer: admin overrides and office hours on top of the shipped data.

The national calendar in code (announced years plus estimates) is the base. The database holds
only departures from it: national overrides (agency_code ``''``, e.g. a newly announced make-up
Saturday) and each agency's own days off and office hours. The tables are created by migration
0001, which is authoritative; the models below mirror it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, UniqueConstraint, bindparam, func, literal_column, null, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from engine.calendar.model import DayEntry, DayKind, OfficeHours
from engine.calendar.national import national_calendar
from engine.calendar.working import WorkingCalendar
from engine.data_version import note_change
from engine.timezone import read_instant

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
# costs about as much as running it on SQLite). One statement gives the revision of every
# layer asked for: per agency code, its calendar_day count/newest id/newest change ("d") and
# its office_hours row ("h").
_CODES = bindparam("codes", expanding=True)
_DAYS = CalendarDayRow.__table__
_HOURS = OfficeHoursRow.__table__
REVISION_SELECTS = (
    sa_select(literal_column("'d'").label("kind"), _DAYS.c.agency_code.label("code"),
              func.count().label("n"), func.max(_DAYS.c.id).label("last_id"),
              func.max(_DAYS.c.created_at).label("at"), null().label("text"))
    .where(_DAYS.c.agency_code.in_(_CODES)).group_by(_DAYS.c.agency_code),
    sa_select(literal_column("'h'"), _HOURS.c.agency_code, null(), null(), _HOURS.c.updated_at,
              _HOURS.c.sessions)
    .where(_HOURS.c.agency_code.in_(_CODES)),
)
REVISION_ROWS = union_all(*REVISION_SELECTS)


def _layers(code: str) -> tuple[str, ...]:
    return (NATIONAL, code) if code else (NATIONAL,)


def load_calendar(session: Session, *, agency_code: str | None = None) -> WorkingCalendar:
    """The working calendar of ``agency_code`` (``None``/``''``: the national one).

    Layers, later winning: the shipped national calendar, national DB overrides, the agency's
    own rows. Office hours: the agency's row, else the national row, else the default.
    Building takes tens of milliseconds while deadline code calls this per request, so the
    result is cached until a cheap revision of the relevant rows changes.
    """
    code = agency_code or NATIONAL
    return load_calendars(session, [code])[code]


def calendar_layers(codes: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """The agencies asked for (``''``: national) and every layer their calendars read: the
    ``codes`` parameter of :data:`REVISION_SELECTS`."""
    wanted = sorted({c or NATIONAL for c in codes})
    return wanted, sorted({layer for c in wanted for layer in _layers(c)})


def load_calendars(session: Session, codes: Iterable[str | None]) -> dict[str, WorkingCalendar]:
    """The calendars of several agencies checked with one statement (an action needs the
    competent agency's and the counters'); keys are the codes asked for (``''``: national)."""
    wanted, layers = calendar_layers(codes)
    rows = session.execute(REVISION_ROWS, {"codes": layers}).all()
    return calendars_from_revision(session, wanted, rows)


def calendars_from_revision(session: Session, codes: Iterable[str],
                            rows: Iterable[Any]) -> dict[str, WorkingCalendar]:
    """Build (or take from the cache) each agency's calendar from rows of
    :data:`REVISION_ROWS` (``kind, code, n, last_id, at, text``), which a caller may have
    fetched together with other rows of its own kinds (ignored here)."""
    days, hours = {}, {}
    for row in rows:
        if row[0] == "d":
            days[row[1]] = (row[2], row[3], read_instant(row[4]))
        elif row[0] == "h":
            hours[row[1]] = (row[4], row[5])
    bind = session.get_bind()
    per_agency = _cache.setdefault(getattr(bind, "engine", bind), {})
    calendars = {}
    for code in codes:
        layers = _layers(code)
        revision = (tuple(days.get(c) for c in layers),
                    tuple((c, hours[c][1], read_instant(hours[c][0])) for c in layers
                          if c in hours))
        cached = per_agency.get(code)
        if cached is not None and cached[0] == revision:
            calendars[code] = cached[1]
            continue
        hours_text = next((hours[c][1] for c in reversed(layers) if c in hours), None)
        calendar = _build(session, code, layers, hours_text)
        per_agency[code] = (revision, calendar)
        calendars[code] = calendar
    return calendars


def _build(session: Session, code: str, layers: tuple[str, ...],
           hours_text: str | None) -> WorkingCalendar:
    rows = session.exec(
        select(CalendarDayRow).where(col(CalendarDayRow.agency_code).in_(layers))
    ).all()
    # National rows first so that the agency's own entry for the same day wins.
    rows = sorted(rows, key=lambda r: (r.agency_code != NATIONAL, r.day))
    return national_calendar().with_overrides(
        [row.to_entry() for row in rows],
        office_hours=OfficeHours.parse(hours_text) if hours_text else None,
        label=code or "national",
    )


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
    note_change(session, "calendar", entry.day)  # past deadlines may move: reports too
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
    note_change(session, "calendar", day)
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
    note_change(session, "calendar")
    return row


def list_days(
    session: Session, *, agency_code: str = NATIONAL, year: int | None = None
) -> list[CalendarDayRow]:
    """The overrides stored for one layer (not the shipped national days), by date."""
    query = select(CalendarDayRow).where(CalendarDayRow.agency_code == agency_code)
    if year is not None:
        query = query.where(col(CalendarDayRow.day).between(date(year, 1, 1), date(year, 12, 31)))
    return list(session.exec(query.order_by(col(CalendarDayRow.day))).all())
