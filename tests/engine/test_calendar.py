"""The national working calendar: announced data, estimated years, explanations."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest

from engine.calendar import (
    CalendarRangeError,
    DayEntry,
    DayKind,
    OfficeHours,
    national_calendar,
)
from engine.calendar.national import estimated_year, hung_kings_day, official_data, tet_day
from engine.timezone import VN_TZ

CAL = national_calendar()


def test_makeup_saturdays_are_working_days():
    for day in (date(2024, 5, 4), date(2025, 4, 26), date(2026, 1, 10), date(2026, 8, 22)):
        assert CAL.is_working_day(day), day


def test_swapped_weekdays_are_days_off():
    for day in (date(2024, 4, 29), date(2025, 5, 2), date(2026, 1, 2), date(2026, 8, 31)):
        assert not CAL.is_working_day(day), day


def test_culture_day_2026_is_off_but_flagged_unconfirmed():
    entry = CAL.entry(date(2026, 11, 24))
    assert entry is not None and entry.is_off and not entry.confirmed
    assert not CAL.is_working_day(date(2026, 11, 24))


def test_official_table_matches_holidays_package_except_known_2026_swap():
    """holidays.VN may seed, never decide: it misses the 02/01 ↔ 10/01/2026 swap."""
    vn = holidays.VN(years=[2024, 2025, 2026])
    differences = set()
    day = date(2024, 1, 1)
    while day <= date(2026, 12, 31):
        theirs = (day.weekday() < 5 and day not in vn) or day in vn.weekend_workdays
        if theirs != CAL.is_working_day(day):
            differences.add(day)
        day += timedelta(days=1)
    assert differences == {date(2026, 1, 2), date(2026, 1, 10)}


def test_every_official_entry_names_its_legal_basis():
    _, years, entries = official_data()
    assert years == (2024, 2025, 2026)
    assert all(e.legal_basis and e.name for e in entries)


@pytest.mark.parametrize(
    ("year", "tet", "gio_to"),
    [
        (1985, date(1985, 1, 21), date(1985, 4, 29)),
        (2007, date(2007, 2, 17), date(2007, 4, 26)),
        (2027, date(2027, 2, 6), date(2027, 4, 16)),
        (2028, date(2028, 1, 26), date(2028, 4, 4)),
        (2030, date(2030, 2, 2), date(2030, 4, 12)),  # Chinese calendar says 03/02
        (2037, date(2037, 2, 15), date(2037, 4, 24)),  # Chinese calendar says 25/04
        (2038, date(2038, 2, 4), date(2038, 4, 13)),
    ],
)
def test_lunar_dates_use_the_vietnamese_calendar(year, tet, gio_to):
    assert tet_day(year) == tet
    assert hung_kings_day(year) == gio_to


def test_unannounced_years_are_estimated_and_unconfirmed():
    entries = estimated_year(2027)
    assert entries and all(e.estimated and not e.confirmed for e in entries)
    tet = [e.day for e in entries if "Tết Nguyên đán" in e.name and e.kind is DayKind.HOLIDAY]
    assert tet == [date(2027, 2, 5) + timedelta(days=i) for i in range(5)]
    # Tết 2027 (Sat 06/02) covers a weekend: two compensatory days follow.
    assert [e.day for e in entries if e.kind is DayKind.COMPENSATORY][:2] == [
        date(2027, 2, 10), date(2027, 2, 11)]
    assert CAL.entry(date(2027, 2, 8)).estimated


def test_explanation_names_skipped_days_with_reasons():
    notes = CAL.explain(date(2025, 1, 24), date(2025, 2, 14))
    reasons = {n.day: n.reason for n in notes}
    assert reasons[date(2025, 1, 29)].startswith("Tết Nguyên đán Ất Tỵ")
    assert "Nghỉ hằng tuần" in reasons[date(2025, 1, 25)]
    assert all(not n.counted for n in notes)


def test_explanation_mentions_counted_makeup_day():
    notes = CAL.explain(date(2026, 1, 7), date(2026, 1, 10))
    assert [(n.day, n.counted) for n in notes] == [(date(2026, 1, 10), True)]


def test_dates_outside_the_calendar_raise_a_clear_error():
    with pytest.raises(CalendarRangeError, match="ngoài phạm vi"):
        CAL.is_working_day(date(2099, 1, 1))


def test_agency_local_day_off_needs_only_an_override():
    flood = DayEntry(date(2025, 9, 10), DayKind.LOCAL_OFF, "Nghỉ do bão số 5")
    local = CAL.with_overrides([flood], label="xa-demo")
    assert not local.is_working_day(date(2025, 9, 10))
    assert CAL.is_working_day(date(2025, 9, 10))
    assert local.version != CAL.version


def test_working_hours_respect_custom_office_hours():
    summer = CAL.with_overrides(office_hours=OfficeHours.parse("07:00-11:00,13:30-17:00"))
    start = datetime(2026, 3, 12, 10, 30, tzinfo=VN_TZ)
    # 30 min until the 11:00 close, then 30 min after 13:30.
    assert summer.add_working_hours(start, 1) == datetime(2026, 3, 12, 14, 0, tzinfo=VN_TZ)
    # The default morning session closes at 11:30: exactly one hour, so due at 11:30.
    assert CAL.add_working_hours(start, 1) == datetime(2026, 3, 12, 11, 30, tzinfo=VN_TZ)
    assert summer.add_working_hours(start, 0.25) == datetime(2026, 3, 12, 10, 45, tzinfo=VN_TZ)


def test_two_hours_from_three_pm_is_due_at_closing_not_next_morning():
    start = datetime(2026, 3, 12, 15, 0, tzinfo=VN_TZ)
    assert CAL.add_working_hours(start, 2) == datetime(2026, 3, 12, 17, 0, tzinfo=VN_TZ)


def test_office_hours_reject_overlapping_sessions():
    with pytest.raises(ValueError):
        OfficeHours.parse("07:30-12:00,11:00-17:00")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_hours(datetime(2026, 3, 12, 10, 0), 1)
