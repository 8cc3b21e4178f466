"""Every worked example of shared/deadline_cases.md, one test (or parametrised row) each."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.calendar import national_calendar
from engine.clock import (
    Classification,
    ClockEvent,
    EventKind,
    SupplementEffect,
    classify,
    indicator_classify,
    replay,
)
from engine.deadline import ClockPolicy, NonWorkingDayReceipt, TimeLimit, TimeUnit, compute_due
from engine.timezone import VN_TZ

CAL = national_calendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def due_of(received: str, amount: float, unit: TimeUnit, policy: ClockPolicy | None = None):
    return compute_due(at(received), TimeLimit(amount, unit), CAL, policy)


def ended(received: str, amount: int, unit: TimeUnit, finished: str) -> Classification:
    state = replay(
        [ClockEvent(at(received), EventKind.RECEIVED),
         ClockEvent(at(finished), EventKind.RESULT_READY)],
        TimeLimit(amount, unit), CAL)
    return classify(state, at(finished))


WD, WH, CD, SD = (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS, TimeUnit.CALENDAR_DAYS,
                  TimeUnit.SAME_DAY)


@pytest.mark.parametrize(
    ("case", "received", "amount", "unit", "expected"),
    [
        ("1", "2024-11-04T09:15", 3, WD, date(2024, 11, 7)),
        ("2 weekend", "2024-11-15T10:00", 5, WD, date(2024, 11, 22)),
        ("3 Quốc khánh 2024", "2024-08-29T14:00", 3, WD, date(2024, 9, 5)),
        ("4 Tết 2024", "2024-02-07T09:00", 5, WD, date(2024, 2, 21)),
        ("5 make-up Saturday 2024", "2024-04-26T09:00", 3, WD, date(2024, 5, 4)),
        ("7a 30/4 2025", "2025-04-29T09:00", 2, WD, date(2025, 5, 6)),
        ("7b make-up Saturday 2025", "2025-04-25T09:00", 2, WD, date(2025, 4, 28)),
        ("8 Tết 2025", "2025-01-24T16:10", 10, WD, date(2025, 2, 14)),
        ("9a same day before 15:00", "2025-12-11T14:50", 0, SD, date(2025, 12, 11)),
        ("9b same day after 15:00", "2025-12-11T15:30", 0, SD, date(2025, 12, 12)),
        ("9c Friday after 15:00", "2025-12-12T15:45", 0, SD, date(2025, 12, 15)),
        ("10 Saturday receipt", "2026-03-07T09:00", 2, WD, date(2026, 3, 10)),
        ("11 New Year 2026 same day", "2025-12-31T16:00", 0, SD, date(2026, 1, 5)),
        ("12a make-up Saturday 2026", "2026-01-07T09:00", 3, WD, date(2026, 1, 10)),
        ("12b across New Year 2026", "2025-12-30T09:00", 5, WD, date(2026, 1, 8)),
        ("13 formal receipt Monday", "2026-03-16T08:30", 3, WD, date(2026, 3, 19)),
    ],
)
def test_worked_case_due_date(case, received, amount, unit, expected):
    assert due_of(received, amount, unit).due_date == expected, case


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-03-12T10:45", "2026-03-12T14:45"),  # 6a lunch break skipped
        ("2026-03-12T16:15", "2026-03-13T08:45"),  # 6b carries to next morning
        ("2026-04-29T16:00", "2026-05-04T08:30"),  # 6c 30/4–1/5 and weekend skipped
    ],
)
def test_case_6_working_hours_count_office_time_only(received, expected):
    due = due_of(received, 2, WH)
    assert due.due_at == at(expected)
    assert due.due_date == at(expected).date()


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        ("2024-11-06T16:00", Classification.EARLY),
        ("2024-11-07T23:00", Classification.ON_TIME),
        ("2024-11-08T08:00", Classification.LATE),
    ],
)
def test_case_1_three_classes_at_day_granularity(finished, expected):
    assert ended("2024-11-04T09:15", 3, WD, finished) is expected


def test_case_2_completion_at_1630_on_due_day_is_on_time():
    assert ended("2024-11-15T10:00", 5, WD, "2024-11-22T16:30") is Classification.ON_TIME


def test_case_3_completion_before_national_day_break_is_early():
    assert ended("2024-08-29T14:00", 3, WD, "2024-09-04T10:00") is Classification.EARLY


def test_case_4_completion_after_tet_due_date_is_late():
    assert ended("2024-02-07T09:00", 5, WD, "2024-02-22T10:00") is Classification.LATE


def test_case_5_ignoring_makeup_saturday_would_hide_a_late_dossier():
    assert ended("2024-04-26T09:00", 3, WD, "2024-05-06T09:00") is Classification.LATE


def test_case_7a_completion_on_monday_after_break_is_early():
    assert ended("2025-04-29T09:00", 2, WD, "2025-05-05T09:00") is Classification.EARLY


def test_case_8_completion_on_due_day_after_tet_is_on_time():
    assert ended("2025-01-24T16:10", 10, WD, "2025-02-14T16:00") is Classification.ON_TIME


def test_case_10_saturday_receipt_on_time_and_province_setting_moves_due():
    assert ended("2026-03-07T09:00", 2, WD, "2026-03-10T15:00") is Classification.ON_TIME
    policy = ClockPolicy(non_working_day_receipt=NonWorkingDayReceipt.NEXT_WORKING_DAY)
    assert due_of("2026-03-07T09:00", 2, WD, policy).due_date == date(2026, 3, 11)


def test_case_12a_completion_monday_after_makeup_saturday_is_late():
    assert ended("2026-01-07T09:00", 3, WD, "2026-01-12T09:00") is Classification.LATE


def test_case_13_counting_starts_at_formal_receipt_not_online_submission():
    # Submitted online Sat 14/03 20:00; the clock starts at the clerk's formal receipt.
    assert ended("2026-03-16T08:30", 3, WD, "2026-03-19T10:00") is Classification.ON_TIME
    naive = due_of("2026-03-14T20:00", 3, WD).due_date
    assert naive == date(2026, 3, 18)  # what a system counting from submission would say


def test_case_1_datetime_mode_compares_instants():
    from engine.clock import Granularity
    from engine.deadline import DueTime

    policy = ClockPolicy(due_time=DueTime.RECEIPT_TIME)
    state = replay(
        [ClockEvent(at("2024-11-04T09:15"), EventKind.RECEIVED),
         ClockEvent(at("2024-11-07T10:00"), EventKind.RESULT_READY)],
        TimeLimit(3, WD), CAL, policy=policy)
    assert classify(state, at("2024-11-07T10:00"), Granularity.DATETIME) is Classification.LATE
    assert classify(state, at("2024-11-07T10:00")) is Classification.ON_TIME


def test_calendar_day_limit_rolls_forward_to_next_working_day():
    # 15 calendar days from Fri 03/04/2026 lands on Sat 18/04 → Mon 20/04 (BLDS Art 148).
    assert due_of("2026-04-03T09:00", 15, CD).due_date == date(2026, 4, 20)


def test_supplement_pause_semantics_shown_for_comparison():
    events = [
        ClockEvent(at("2024-11-04T09:15"), EventKind.RECEIVED),
        ClockEvent(at("2024-11-05T10:00"), EventKind.SUPPLEMENT_REQUESTED),
        ClockEvent(at("2024-11-08T10:00"), EventKind.SUPPLEMENT_RECEIVED),
    ]
    restart = replay(events, TimeLimit(3, WD), CAL)
    pause = replay(events, TimeLimit(3, WD), CAL, supplement_effect=SupplementEffect.PAUSE)
    assert restart.due.due_date == date(2024, 11, 13)  # 3 wd after Fri 08/11
    assert pause.due.due_date == date(2024, 11, 12)  # 07/11 + 3 wd lost (06, 07, 08/11)
    assert restart.original_due.due_date == pause.original_due.due_date == date(2024, 11, 7)
    assert indicator_classify(restart, at("2024-11-13T10:00")) is Classification.PENDING_WITHIN
