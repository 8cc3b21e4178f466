"""Explanations that tell the truth (issue 15): the due date's explanation says when the
dossier was received, when and why the clock starts, the limit with its unit, and for calendar
days lists no weekend as excluded; a receipt outside office hours is flagged (never blocked)
with the instant the clock uses."""

from __future__ import annotations

from datetime import date

from engine.calendar import national_calendar
from engine.clock import ClockEvent, EventKind, replay
from engine.deadline import (
    TimeLimit,
    TimeUnit,
    compute_due,
    next_office_instant,
    outside_office_hours,
    receipt_warning,
)
from engine.samples import local

CAL = national_calendar()
FRIDAY_NIGHT = local("2026-12-04T22:08")  # Friday 04/12/2026, after office hours


def test_a_calendar_day_limit_lists_no_weekend_as_excluded():
    due = compute_due(FRIDAY_NIGHT, TimeLimit(6, TimeUnit.CALENDAR_DAYS), CAL)
    assert due.due_date == date(2026, 12, 10)  # Sat 05 … Thu 10: the weekend counts
    explained = due.explanation()
    assert explained["skipped"] == []
    assert explained["rolled_from"] is None
    assert "Bỏ qua ngày nghỉ" not in explained["text"]
    assert "Ngày nghỉ trong thời hạn vẫn được tính." in explained["text"]


def test_a_calendar_day_limit_ending_on_a_day_off_says_where_it_moved():
    due = compute_due(local("2026-12-03T10:00"), TimeLimit(9, TimeUnit.CALENDAR_DAYS), CAL)
    assert due.due_date == date(2026, 12, 14)  # nominal Sat 12/12 → Mon 14/12
    explained = due.explanation()
    assert explained["rolled_from"] == "2026-12-12"
    assert [d["date"] for d in explained["skipped"]] == ["2026-12-12", "2026-12-13"]
    assert "Ngày cuối của thời hạn (Thứ Bảy, 12/12/2026) là ngày nghỉ" in explained["text"]


def test_the_limit_is_told_with_its_unit():
    calendar_days = compute_due(FRIDAY_NIGHT, TimeLimit(6, TimeUnit.CALENDAR_DAYS), CAL)
    working_days = compute_due(FRIDAY_NIGHT, TimeLimit(6, TimeUnit.WORKING_DAYS), CAL)
    hours = compute_due(FRIDAY_NIGHT, TimeLimit(4, TimeUnit.WORKING_HOURS), CAL)
    assert (calendar_days.explanation()["limit"]["label"]
            == "06 ngày (ngày theo lịch, tính cả ngày nghỉ)")
    assert "Thời hạn giải quyết: 06 ngày (ngày theo lịch" in calendar_days.explanation()["text"]
    assert working_days.explanation()["limit"]["label"] == "06 ngày làm việc"
    assert hours.explanation()["limit"]["label"] == "04 giờ làm việc"


def test_office_hours_tell_inside_from_outside():
    assert outside_office_hours(local("2026-12-04T09:00"), CAL) is None
    assert outside_office_hours(local("2026-12-04T12:00"), CAL).startswith("ngoài giờ làm việc")
    assert outside_office_hours(FRIDAY_NIGHT, CAL) == (
        "ngoài giờ làm việc (07:30–11:30, 13:30–17:00)")
    assert outside_office_hours(local("2026-12-05T09:00"), CAL).startswith("ngày nghỉ (")
    assert next_office_instant(local("2026-12-04T12:00"), CAL) == local("2026-12-04T13:30")
    assert next_office_instant(FRIDAY_NIGHT, CAL) == local("2026-12-07T07:30")


def test_a_friday_night_receipt_is_warned_with_the_instant_the_clock_uses():
    days = compute_due(FRIDAY_NIGHT, TimeLimit(6, TimeUnit.WORKING_DAYS), CAL)
    warning = receipt_warning(days)
    assert warning.startswith("Cảnh báo: tiếp nhận lúc 22:08 Thứ Sáu, 04/12/2026, ngoài giờ")
    assert ("thời hạn giải quyết tính theo thời điểm 22:08 Thứ Sáu, 04/12/2026 (không tính "
            "ngày 04/12/2026; bắt đầu đếm từ Thứ Hai, 07/12/2026)") in warning
    hours = compute_due(FRIDAY_NIGHT, TimeLimit(4, TimeUnit.WORKING_HOURS), CAL)
    assert hours.clock_starts_at == local("2026-12-07T07:30")
    assert "tính theo thời điểm 07:30 Thứ Hai, 07/12/2026" in receipt_warning(hours)
    assert receipt_warning(compute_due(local("2026-12-04T09:00"),
                                       TimeLimit(6, TimeUnit.WORKING_DAYS), CAL)) is None


def test_a_restarted_clock_says_it_was_received_earlier_and_restarted_at_the_supplement():
    events = [ClockEvent(local("2026-12-01T09:00"), EventKind.RECEIVED),
              ClockEvent(local("2026-12-02T09:00"), EventKind.SUPPLEMENT_REQUESTED),
              ClockEvent(local("2026-12-08T10:00"), EventKind.SUPPLEMENT_RECEIVED)]
    state = replay(events, TimeLimit(3, TimeUnit.WORKING_DAYS), CAL)
    explained = state.due.explanation()
    assert explained["received_at"] == "2026-12-01T09:00:00+07:00"
    assert explained["clock_starts_at"] == "2026-12-08T10:00:00+07:00"
    assert "tính lại từ đầu" in explained["start_reason"]
    assert explained["text"].startswith("Tiếp nhận lúc 09:00 ngày 01/12/2026.")
