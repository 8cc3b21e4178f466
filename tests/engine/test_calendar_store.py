"""Calendar overrides stored in the database, layered on the shipped national calendar."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from sqlmodel import Session

from engine.calendar import DayEntry, DayKind, OfficeHours
from engine.calendar.store import (
    delete_day,
    list_days,
    load_calendar,
    load_calendars,
    save_day,
    set_office_hours,
)
from engine.timezone import local_instant

WEDNESDAY = date(2026, 3, 11)
SATURDAY = date(2027, 6, 12)


def _local_off(day: date, reason: str = "Bão số 3: nghỉ theo Quyết định 12/QĐ-UBND") -> DayEntry:
    return DayEntry(day, DayKind.LOCAL_OFF, reason)


def test_agency_local_day_off_is_non_working_only_for_that_agency(session):
    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-A", created_by="admin")
    session.commit()

    own = load_calendar(session, agency_code="XA-A")
    assert not own.is_working_day(WEDNESDAY)
    assert own.note(WEDNESDAY).reason.startswith("Bão số 3")
    assert own.add_working_days(date(2026, 3, 10), 1) == date(2026, 3, 12)
    assert load_calendar(session, agency_code="XA-B").is_working_day(WEDNESDAY)
    assert load_calendar(session).is_working_day(WEDNESDAY)


def test_national_override_applies_to_every_agency(session):
    makeup = DayEntry(SATURDAY, DayKind.MAKEUP_WORKDAY, "Làm bù cho ngày 14/06/2027",
                      "Thông báo 99/TB-BNV (giả định)")
    save_day(session, entry=makeup)
    session.commit()

    for agency in (None, "XA-A", "XA-B"):
        calendar = load_calendar(session, agency_code=agency)
        assert calendar.is_working_day(SATURDAY), agency
        assert calendar.note(SATURDAY).kind == "makeup_workday"


def test_agency_entry_wins_over_national_override_on_the_same_day(session):
    save_day(session, entry=DayEntry(SATURDAY, DayKind.MAKEUP_WORKDAY, "Làm bù"))
    save_day(session, entry=_local_off(SATURDAY), agency_code="XA-A")
    session.commit()

    assert not load_calendar(session, agency_code="XA-A").is_working_day(SATURDAY)
    assert load_calendar(session, agency_code="XA-B").is_working_day(SATURDAY)


def test_office_hours_per_agency_change_add_working_hours(session):
    start = local_instant(WEDNESDAY, time(10, 0))
    # Default 07:30-11:30, 13:30-17:00: 1.5 h in the morning, 1.5 h after 13:30.
    assert load_calendar(session, agency_code="XA-A").add_working_hours(start, 3) \
        == local_instant(WEDNESDAY, time(15, 0))

    set_office_hours(session, hours=OfficeHours.parse("08:00-12:00,13:00-17:00"),
                     agency_code="XA-A")
    set_office_hours(session, hours=OfficeHours.parse("07:00-11:00,13:00-16:00"))
    session.commit()

    # Own hours: 2 h until noon, 1 h after 13:00.
    assert load_calendar(session, agency_code="XA-A").add_working_hours(start, 3) \
        == local_instant(WEDNESDAY, time(14, 0))
    # No row of its own: the national row (1 h until 11:00, 2 h after 13:00).
    assert load_calendar(session, agency_code="XA-B").add_working_hours(start, 3) \
        == local_instant(WEDNESDAY, time(15, 0))
    assert load_calendar(session, agency_code="XA-B").office_hours.opens == time(7, 0)


def test_cache_returns_the_same_calendar_until_a_row_changes(db_engine, session):
    first = load_calendar(session, agency_code="XA-A")
    assert load_calendar(session, agency_code="XA-A") is first
    with Session(db_engine) as other:  # another request, same database
        assert load_calendar(other, agency_code="XA-A") is first

    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-A")
    second = load_calendar(session, agency_code="XA-A")
    assert second is not first and not second.is_working_day(WEDNESDAY)
    assert load_calendar(session, agency_code="XA-A") is second

    save_day(session, entry=_local_off(WEDNESDAY, "Lý do khác"), agency_code="XA-A")
    third = load_calendar(session, agency_code="XA-A")
    assert third is not second and third.note(WEDNESDAY).reason == "Lý do khác"

    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-OTHER")
    assert load_calendar(session, agency_code="XA-A") is third  # not a row it depends on

    set_office_hours(session, hours=OfficeHours.parse("08:00-17:00"), agency_code="XA-A")
    fourth = load_calendar(session, agency_code="XA-A")
    assert fourth is not third and fourth.office_hours.closes == time(17, 0)

    assert delete_day(session, day=WEDNESDAY, agency_code="XA-A")
    fifth = load_calendar(session, agency_code="XA-A")
    assert fifth is not fourth and fifth.is_working_day(WEDNESDAY)


@pytest.mark.parametrize("reason", ["", "   "])
def test_local_off_without_a_reason_is_refused(session, reason):
    with pytest.raises(ValueError, match="lý do"):
        save_day(session, entry=_local_off(WEDNESDAY, reason), agency_code="XA-A")
    assert list_days(session, agency_code="XA-A") == []


def test_entry_of_another_agency_is_refused(session):
    entry = DayEntry(WEDNESDAY, DayKind.LOCAL_OFF, "Lý do", agency_code="XA-B")
    with pytest.raises(ValueError, match="XA-B"):
        save_day(session, entry=entry, agency_code="XA-A")


def test_saving_a_day_again_replaces_it(session):
    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-A", created_by="a")
    save_day(session, entry=DayEntry(WEDNESDAY, DayKind.HOLIDAY, "Lễ"), agency_code="XA-A",
             created_by="b")
    session.commit()

    [row] = list_days(session, agency_code="XA-A")
    assert (row.kind, row.name, row.created_by) == ("holiday", "Lễ", "b")
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.to_entry() == DayEntry(WEDNESDAY, DayKind.HOLIDAY, "Lễ", agency_code="XA-A")


def test_list_days_filters_by_layer_and_year(session):
    save_day(session, entry=_local_off(date(2027, 1, 6)), agency_code="XA-A")
    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-A")
    save_day(session, entry=_local_off(date(2026, 12, 31)), agency_code="XA-A")
    save_day(session, entry=DayEntry(SATURDAY, DayKind.MAKEUP_WORKDAY, "Làm bù"))

    assert [r.day for r in list_days(session, agency_code="XA-A", year=2026)] \
        == [WEDNESDAY, date(2026, 12, 31)]
    assert len(list_days(session, agency_code="XA-A")) == 3
    assert [r.day for r in list_days(session)] == [SATURDAY]
    assert not delete_day(session, day=WEDNESDAY)  # national layer has no such row


def test_several_agencies_checked_at_once_get_each_own_calendar(session):
    save_day(session, entry=_local_off(WEDNESDAY), agency_code="XA-A")
    session.commit()

    calendars = load_calendars(session, ["XA-A", "XA-B", None])

    assert set(calendars) == {"XA-A", "XA-B", ""}
    assert not calendars["XA-A"].is_working_day(WEDNESDAY)
    assert calendars["XA-B"].is_working_day(WEDNESDAY)
    assert calendars[""].is_working_day(WEDNESDAY)
    # A later change to one agency's days is seen at the next check, the others are kept.
    delete_day(session, day=WEDNESDAY, agency_code="XA-A")
    session.commit()
    again = load_calendars(session, ["XA-A", "XA-B"])
    assert again["XA-A"].is_working_day(WEDNESDAY)
    assert again["XA-B"] is calendars["XA-B"]
