"""Properties of working-day arithmetic that must hold for every date (hypothesis)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import national_calendar
from engine.timezone import VN_TZ

CAL = national_calendar()
days = st.dates(min_value=date(2016, 1, 1), max_value=date(2038, 12, 31))
counts = st.integers(min_value=1, max_value=120)
instants = st.builds(
    lambda d, minutes: datetime.combine(d, time(0), tzinfo=VN_TZ) + timedelta(minutes=minutes),
    days, st.integers(min_value=0, max_value=24 * 60 - 1))


@given(days, counts)
def test_adding_n_then_measuring_back_gives_n(start, n):
    assert CAL.working_days_between(start, CAL.add_working_days(start, n)) == n


@given(days, counts)
def test_due_date_is_always_a_working_day_after_the_start(start, n):
    due = CAL.add_working_days(start, n)
    assert due > start and CAL.is_working_day(due)


@given(days, counts, counts)
def test_monotonic_in_n(start, a, b):
    assert (CAL.add_working_days(start, a) <= CAL.add_working_days(start, b)) == (a <= b)


@given(days, days, counts)
def test_monotonic_in_start(a, b, n):
    if a <= b:
        assert CAL.add_working_days(a, n) <= CAL.add_working_days(b, n)


@given(days, counts)
def test_agrees_with_a_day_by_day_count(start, n):
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        counted += CAL.is_working_day(day)
    assert CAL.add_working_days(start, n) == day


@given(days, st.integers(min_value=0, max_value=400))
def test_calendar_days_end_on_a_working_day_never_before_the_plain_sum(start, n):
    due = CAL.add_calendar_days(start, n)
    assert CAL.is_working_day(due) and due >= start + timedelta(days=n)
    assert all(not CAL.is_working_day(start + timedelta(days=k))
               for k in range(n, (due - start).days))


@settings(max_examples=200)
@given(instants, st.integers(min_value=1, max_value=60 * 40))
def test_adding_working_hours_then_measuring_back_gives_the_same_time(start, minutes):
    end = CAL.add_working_hours(start, timedelta(minutes=minutes))
    assert CAL.working_time_between(start, end) == timedelta(minutes=minutes)
    assert CAL.is_working_day(end.date())
    opens, closes = CAL.office_hours.opens, CAL.office_hours.closes
    assert opens < end.time() <= closes
