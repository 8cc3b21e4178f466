"""Calendar administration: days off, make-up days and office hours, national or per agency.

Every change re-projects the deadlines of the open dossiers it affects and is journaled.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field
from sqlmodel import col, select

from engine.agencies import Agency
from engine.calendar import DayEntry, DayKind, OfficeHours
from engine.calendar.journal import CalendarJournal
from engine.calendar.store import delete_day, list_days, load_calendar, save_day, set_office_hours
from engine.lifecycle import reproject_open_dossiers
from engine.text import nfc
from engine.users import Role, User
from service.api.schemas.calendar import (
    CalendarChanged,
    CalendarDay,
    CalendarJournalEntry,
    CalendarOverride,
    CalendarYear,
)
from service.deps import SessionDep, require_roles
from service.problems import Problem
from service.validation import StrictModel

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]
AgencyParam = Annotated[str, Query(max_length=64, description="'' = toàn quốc")]


class DayIn(StrictModel):
    kind: DayKind
    name: str = Field(min_length=1, max_length=255)
    legal_basis: str = Field("", max_length=500)
    confirmed: bool = True


class OfficeHoursIn(StrictModel):
    sessions: str = Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}(,\d{2}:\d{2}-\d{2}:\d{2})*$",
                          examples=["07:30-11:30,13:30-17:00"])


def _day_reason(day: date, body: DayIn) -> str:
    """The applicant-facing cause of a moved appointment, e.g. "ngày nghỉ 08/12/2026: Bão số 9"."""
    kind = "ngày làm bù" if body.kind is DayKind.MAKEUP_WORKDAY else "ngày nghỉ"
    return f"{kind} {day:%d/%m/%Y}: {nfc(body.name)}"


def _check_agency(session, agency: str) -> None:
    if agency and session.get(Agency, agency) is None:
        raise Problem(404, "agency-not-found", f"Không có cơ quan mã {agency}.")


def _journal(session, user: User, agency: str, change: dict[str, Any],
             reason: str | None = None) -> CalendarChanged:
    """Re-project open dossiers and journal the edit; ``reason`` is what the applicant is told
    when their appointment moves (the generic calendar-adjustment text when None)."""
    moved = reproject_open_dossiers(session, agency_code=agency or None, reason=reason)
    entry = CalendarJournal(actor_id=user.username, agency_code=agency, change=change,
                            reprojected=moved)
    session.add(entry)
    session.commit()
    return CalendarChanged(journal_id=entry.id, reprojected=moved)


@router.get("/{year}", summary="Lịch làm việc của một năm")
def show(year: Annotated[int, Path(ge=2015, le=2040)], session: SessionDep,
         _admin: Admin, agency: AgencyParam = "") -> CalendarYear:
    _check_agency(session, agency)
    calendar = load_calendar(session, agency_code=agency or None)
    return CalendarYear(
        year=year, agency=agency, calendar_version=calendar.version,
        office_hours=calendar.office_hours.format(),
        days=[CalendarDay(date=e.day.isoformat(), kind=e.kind.value, name=e.name,
                          legal_basis=e.legal_basis, confirmed=e.confirmed,
                          estimated=e.estimated)
              for e in calendar.entries() if e.day.year == year],
        overrides=[CalendarOverride(date=r.day.isoformat(), kind=r.kind, name=r.name,
                                    created_by=r.created_by,
                                    created_at=r.created_at.isoformat())
                   for r in list_days(session, agency_code=agency, year=year)],
    )


@router.put("/days/{day}", summary="Đặt ngày nghỉ / ngày làm bù")
def put_day(day: date, body: DayIn, session: SessionDep, admin: Admin,
            agency: AgencyParam = "") -> CalendarChanged:
    _check_agency(session, agency)
    if not 2015 <= day.year <= 2040:
        raise Problem(422, "validation", "Ngày phải trong khoảng 2015–2040.")
    if body.kind is DayKind.LOCAL_OFF and not agency:
        raise Problem(422, "validation", "Ngày nghỉ riêng (local_off) phải gắn với một cơ quan.")
    try:
        save_day(session, entry=DayEntry(day, body.kind, nfc(body.name), nfc(body.legal_basis),
                                         body.confirmed, agency_code=agency or None),
                 agency_code=agency, created_by=admin.username)
    except ValueError as exc:
        raise Problem(422, "validation", str(exc)) from None
    session.flush()
    return _journal(session, admin, agency, {"op": "put_day", "date": day.isoformat(),
                                             **body.model_dump(mode="json")},
                    reason=_day_reason(day, body))


@router.delete("/days/{day}", summary="Xóa điều chỉnh của một ngày")
def remove_day(day: date, session: SessionDep, admin: Admin,
               agency: AgencyParam = "") -> CalendarChanged:
    _check_agency(session, agency)
    if not delete_day(session, day=day, agency_code=agency):
        raise Problem(404, "day-not-found", "Ngày này không có điều chỉnh nào.")
    session.flush()
    return _journal(session, admin, agency, {"op": "delete_day", "date": day.isoformat()},
                    reason=f"điều chỉnh lịch làm việc ngày {day:%d/%m/%Y}")


@router.put("/office-hours", summary="Đặt giờ làm việc")
def put_office_hours(body: OfficeHoursIn, session: SessionDep, admin: Admin,
                     agency: AgencyParam = "") -> CalendarChanged:
    _check_agency(session, agency)
    try:
        hours = OfficeHours.parse(body.sessions)
    except ValueError as exc:
        raise Problem(422, "validation", f"Giờ làm việc không hợp lệ: {exc}") from None
    set_office_hours(session, hours=hours, agency_code=agency)
    session.flush()
    return _journal(session, admin, agency, {"op": "office_hours", "sessions": hours.format()},
                    reason=f"thay đổi giờ làm việc ({hours.format()})")


@router.get("/journal/entries", summary="Nhật ký thay đổi lịch")
def journal(session: SessionDep, _admin: Admin,
            limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CalendarJournalEntry]:
    rows = session.exec(select(CalendarJournal).order_by(col(CalendarJournal.id).desc())
                        .limit(limit)).all()
    return [CalendarJournalEntry(id=r.id, at=r.at.isoformat(), actor=r.actor_id,
                                 agency=r.agency_code, change=r.change,
                                 reprojected=r.reprojected) for r in rows]
