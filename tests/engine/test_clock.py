"""The deadline clock: supplements, pauses, apologies, endings and the two classifications."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.calendar import national_calendar
from engine.clock import (
    Classification,
    ClockError,
    ClockEvent,
    EventKind,
    Flag,
    classify,
    indicator_classify,
    replay,
)
from engine.deadline import TimeLimit, TimeUnit
from engine.timezone import VN_TZ

CAL = national_calendar()
THREE_DAYS = TimeLimit(3, TimeUnit.WORKING_DAYS)
K = EventKind


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def ev(when: str, kind: EventKind, **kw) -> ClockEvent:
    return ClockEvent(at(when), kind, **kw)


def run(*events: ClockEvent, limit: TimeLimit = THREE_DAYS, **kw):
    return replay(list(events), limit, CAL, **kw)


RECEIVED = ev("2024-11-04T09:15", K.RECEIVED)  # due Thu 07/11/2024


def test_supplement_restarts_the_clock_from_zero():
    state = run(RECEIVED, ev("2024-11-05T10:00", K.SUPPLEMENT_REQUESTED),
                ev("2024-11-11T14:00", K.SUPPLEMENT_RECEIVED))
    assert state.original_due.due_date == date(2024, 11, 7)
    assert state.due.due_date == date(2024, 11, 14)
    assert state.appointment == date(2024, 11, 14)
    assert state.flags == []


def test_supplement_request_after_three_working_days_is_flagged_not_blocked():
    state = run(RECEIVED, ev("2024-11-08T10:00", K.SUPPLEMENT_REQUESTED))
    assert Flag.SUPPLEMENT_REQUEST_LATE in state.flags
    assert state.awaiting_supplement


def test_second_supplement_request_is_flagged_and_late_for_the_indicator():
    state = run(RECEIVED, ev("2024-11-05T10:00", K.SUPPLEMENT_REQUESTED),
                ev("2024-11-06T10:00", K.SUPPLEMENT_RECEIVED),
                ev("2024-11-07T10:00", K.SUPPLEMENT_REQUESTED),
                ev("2024-11-08T10:00", K.SUPPLEMENT_RECEIVED),
                ev("2024-11-11T10:00", K.RESULT_READY))
    assert Flag.SUPPLEMENT_REPEATED in state.flags
    assert classify(state, at("2024-11-30T00:00")) is Classification.EARLY
    assert indicator_classify(state, at("2024-11-30T00:00")) is Classification.LATE


def test_pause_needs_a_legal_reason():
    with pytest.raises(ClockError, match="lý do"):
        run(RECEIVED, ev("2024-11-05T10:00", K.PAUSED))


def test_pause_reason_must_be_allowed_by_the_procedure():
    with pytest.raises(ClockError, match="không được phép"):
        run(RECEIVED, ev("2024-11-05T10:00", K.PAUSED, reason="Đi công tác"),
            allowed_pause_reasons=["Xác minh thực địa"])


def test_pause_extends_the_due_date_by_the_working_days_paused():
    state = run(RECEIVED, ev("2024-11-05T10:00", K.PAUSED, reason="Xác minh thực địa"),
                ev("2024-11-12T10:00", K.RESUMED))
    # Lost: 06, 07, 08, 11, 12/11 (five working days) → 07/11 + 5 = Thu 14/11.
    assert state.due.due_date == date(2024, 11, 14)
    assert state.appointment == date(2024, 11, 14)


def test_pending_while_paused_uses_the_extended_due_date():
    state = run(RECEIVED, ev("2024-11-05T10:00", K.PAUSED, reason="Xác minh thực địa"))
    assert classify(state, at("2024-11-08T17:00")) is Classification.PENDING_WITHIN


def test_apology_moves_the_appointment_once_but_not_the_legal_due_date():
    state = run(RECEIVED, ev("2024-11-06T09:00", K.APOLOGY, reason="Chờ ý kiến Sở",
                             new_due=date(2024, 11, 12)),
                ev("2024-11-11T10:00", K.RESULT_READY))
    assert state.appointment == date(2024, 11, 12)
    assert state.due.due_date == date(2024, 11, 7)
    assert state.apologies[0].in_time
    # The apology does not make a late dossier on time (T9).
    assert classify(state, at("2024-11-30T00:00")) is Classification.LATE


def test_apology_on_the_due_date_is_late():
    state = run(RECEIVED, ev("2024-11-07T09:00", K.APOLOGY, reason="Chờ xác minh",
                             new_due=date(2024, 11, 12)))
    assert Flag.APOLOGY_LATE in state.flags and not state.apologies[0].in_time


def test_second_apology_is_flagged():
    state = run(RECEIVED,
                ev("2024-11-05T09:00", K.APOLOGY, reason="A", new_due=date(2024, 11, 12)),
                ev("2024-11-08T09:00", K.APOLOGY, reason="B", new_due=date(2024, 11, 15)))
    assert Flag.APOLOGY_REPEATED in state.flags
    assert state.appointment == date(2024, 11, 15)


def test_apology_needs_a_reason_and_a_later_date():
    with pytest.raises(ClockError, match="lý do"):
        run(RECEIVED, ev("2024-11-05T09:00", K.APOLOGY, new_due=date(2024, 11, 12)))
    with pytest.raises(ClockError, match="phải sau"):
        run(RECEIVED, ev("2024-11-05T09:00", K.APOLOGY, reason="x", new_due=date(2024, 11, 6)))


@pytest.mark.parametrize("kind", [K.REFUSED, K.STOPPED, K.WITHDRAWN])
def test_refusal_stop_and_withdrawal_end_the_clock(kind):
    state = run(RECEIVED, ev("2024-11-06T09:00", kind))
    assert state.ended and state.end_kind is kind
    assert classify(state, at("2024-12-01T00:00")) is Classification.EARLY
    with pytest.raises(ClockError, match="kết thúc"):
        run(RECEIVED, ev("2024-11-06T09:00", kind), ev("2024-11-07T09:00", K.RESULT_READY))


def test_result_ready_wins_over_later_return():
    state = run(RECEIVED, ev("2024-11-07T16:00", K.RESULT_READY),
                ev("2024-11-12T09:00", K.RETURNED))
    assert state.end_kind is K.RESULT_READY
    assert classify(state, at("2024-12-01T00:00")) is Classification.ON_TIME


def test_collecting_late_does_not_make_the_dossier_late():
    state = run(RECEIVED, ev("2024-11-06T16:00", K.RESULT_READY),
                ev("2024-11-20T09:00", K.RETURNED))
    assert classify(state, at("2024-12-01T00:00")) is Classification.EARLY


def test_return_without_result_ready_ends_at_the_return():
    state = run(RECEIVED, ev("2024-11-08T09:00", K.RETURNED))
    assert classify(state, at("2024-12-01T00:00")) is Classification.LATE


def test_pending_dossiers_are_within_time_or_late_at_period_end():
    state = run(RECEIVED)
    assert classify(state, at("2024-11-07T23:59")) is Classification.PENDING_WITHIN
    assert classify(state, at("2024-11-08T00:01")) is Classification.PENDING_LATE
    assert indicator_classify(state, at("2024-11-07T23:59")) is Classification.PENDING_WITHIN


def test_dossier_ended_after_period_end_is_still_pending_then():
    state = run(RECEIVED, ev("2024-11-08T09:00", K.RESULT_READY))
    assert classify(state, at("2024-11-06T23:59")) is Classification.PENDING_WITHIN


def test_waiting_for_supplement_is_judged_at_the_request():
    state = run(RECEIVED, ev("2024-11-06T10:00", K.SUPPLEMENT_REQUESTED))
    assert classify(state, at("2024-12-31T00:00")) is Classification.PENDING_WITHIN
    assert indicator_classify(state, at("2024-12-31T00:00")) is Classification.PENDING_WITHIN


def test_indicator_may_count_the_rescheduled_date_when_configured():
    state = run(RECEIVED, ev("2024-11-06T09:00", K.APOLOGY, reason="x", new_due=date(2024, 11, 12)),
                ev("2024-11-11T10:00", K.RESULT_READY))
    end = at("2024-12-01T00:00")
    assert indicator_classify(state, end) is Classification.LATE
    assert indicator_classify(state, end, use_rescheduled_appointment=True) is Classification.EARLY


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([ev("2024-11-05T10:00", K.RESULT_READY)], "received"),
        ([RECEIVED, ev("2024-11-05T10:00", K.SUPPLEMENT_RECEIVED)], "không có yêu cầu"),
        ([RECEIVED, ev("2024-11-05T10:00", K.RESUMED)], "không ở trạng thái tạm dừng"),
        ([RECEIVED, ev("2024-11-03T10:00", K.RESULT_READY)], "thứ tự thời gian"),
        ([RECEIVED, ev("2024-11-05T10:00", K.RECEIVED)], "đã được tiếp nhận"),
        ([RECEIVED, ev("2024-11-05T10:00", K.RETURNED), ev("2024-11-06T10:00", K.RETURNED)],
         "đã trả kết quả"),
    ],
)
def test_impossible_sequences_are_clear_errors(events, message):
    with pytest.raises(ClockError, match=message):
        run(*events)


# ----- properties -------------------------------------------------------------------------

KINDS = [K.SUPPLEMENT_REQUESTED, K.SUPPLEMENT_RECEIVED, K.PAUSED, K.RESUMED, K.RESULT_READY,
         K.REFUSED, K.STOPPED, K.WITHDRAWN, K.RETURNED]


@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 20 * 24 * 60)), max_size=8))
def test_any_event_sequence_either_replays_or_raises_clock_error(steps):
    events, when = [RECEIVED], RECEIVED.at
    from datetime import timedelta

    for kind, minutes in steps:
        when = when + timedelta(minutes=minutes)
        events.append(ClockEvent(when, kind, reason="Xác minh" if kind is K.PAUSED else None))
    try:
        state = replay(events, THREE_DAYS, CAL)
    except ClockError:
        return
    # The legal due date never moves earlier than the original one.
    assert state.due.due_date >= state.original_due.due_date
    assert CAL.is_working_day(state.due.due_date)
    assert classify(state, when) in Classification


def test_calendar_edit_reprojects_open_dossiers_only():
    from engine.calendar import DayEntry, DayKind
    from engine.clock import reproject

    open_one = run(RECEIVED)
    closed = run(RECEIVED, ev("2024-11-06T09:00", K.RESULT_READY))
    storm = CAL.with_overrides([DayEntry(date(2024, 11, 6), DayKind.LOCAL_OFF, "Nghỉ do bão")])
    changes = reproject({"A": open_one, "B": closed}, storm)
    assert changes == {"A": (date(2024, 11, 7), date(2024, 11, 8))}
