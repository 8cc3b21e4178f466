"""Result and return (domain §2.2 #17, #18; T12, T14): finish → 9 (the end of processing),
return → 10 with who collected it, and a correction of a returned result that hands it back
again without reopening the clock or changing the on-time verdict."""

from datetime import UTC, date, datetime

from engine.calendar.store import load_calendar
from engine.clock import Classification, classify, replay
from engine.deadline import TimeLimit, TimeUnit
from engine.lifecycle import clock_events, steps_of
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput

from .conftest import CENTRE, CLERK, COMMUNE, COMMUNE_CLERK, DEPT, LEADER, OFFICER, at
from .flow import clock_kinds, do, in_processing, refused


def verdict(s, d):
    state = replay(clock_events(s, d), TimeLimit(d.limit_amount, TimeUnit(d.limit_unit)),
                   load_calendar(s, agency_code=d.competent_agency))
    return classify(state, datetime(2030, 1, 1, tzinfo=UTC))


def test_finish_then_return_ends_processing_at_the_result(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-05T09:00")
    refused(s, Forbidden, d.code, "finish", OFFICER, "2025-03-06T10:00")  # approval is the
    r = do(s, d.code, "finish", LEADER, "2025-03-06T10:00")               # leader's step
    assert (d.state, d.status_code, d.end_kind) == ("result_ready", 9, "result_ready")
    assert d.ended_at == at("2025-03-06T10:00")
    assert d.flags == []
    assert (r.event.step_before, r.event.step_after) == ("approve", "return")
    assert d.current_step == "return"
    return_row = steps_of(s, d)[-1]
    assert (return_row.step_id, return_row.unit, return_row.role) == ("return", CENTRE, "clerk")

    exc = refused(s, Forbidden, d.code, "return_result", OFFICER, "2025-03-07T09:00")
    assert exc.details["allowed_roles"] == ["clerk"]
    do(s, d.code, "return_result", CLERK, "2025-03-07T09:00",
       payload={"collected_by": "Nguyễn Văn Bình (ủy quyền)"})
    assert (d.state, d.status_code) == ("returned", 10)
    assert d.collected_by == "Nguyễn Văn Bình (ủy quyền)"
    assert d.returned_at == at("2025-03-07T09:00")
    assert (d.end_kind, d.ended_at) == ("result_ready", at("2025-03-06T10:00"))
    assert d.current_step is None
    assert all(row.finished_at is not None for row in steps_of(s, d))
    assert clock_kinds(s, d) == ["received", "result_ready", "returned"]
    assert verdict(s, d) is Classification.EARLY  # 06/03 < 10/03


def test_return_defaults_to_the_applicant_collecting(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    do(s, d.code, "return_result", CLERK, "2025-03-04T10:00")
    assert d.collected_by == d.applicant_name == "Nguyễn Văn An"


def test_finishing_at_the_first_step_when_a_later_one_exists_is_flagged(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    r = do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    assert d.state == "result_ready"
    assert d.flags == ["finished_before_last_step"]
    assert r.event.payload["flags"] == ["finished_before_last_step"]
    assert [(row.step_id, row.outcome) for row in steps_of(s, d)] == [
        ("receive", "transfer"), ("appraise", "finish"), ("return", None)]


def test_correcting_a_returned_result_hands_it_back_without_reopening_the_clock(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-05T09:00")
    do(s, d.code, "finish", LEADER, "2025-03-10T16:00")  # on the due date
    do(s, d.code, "return_result", CLERK, "2025-03-11T09:00")
    assert verdict(s, d) is Classification.ON_TIME
    ended = (d.end_kind, d.ended_at, d.due_date)

    exc = refused(s, InvalidInput, d.code, "correct_result", LEADER, "2025-03-20T09:00")
    assert exc.details["field"] == "reason"
    refused(s, Forbidden, d.code, "correct_result", CLERK, "2025-03-20T09:00", reason="x")
    r = do(s, d.code, "correct_result", OFFICER, "2025-03-20T09:00",
           reason="Sai năm sinh trên giấy phép")
    assert (d.state, d.status_code) == ("result_ready", 9)
    assert d.flags == ["result_corrected"]
    assert r.event.reason == "Sai năm sinh trên giấy phép"
    assert (d.end_kind, d.ended_at, d.due_date) == ended

    do(s, d.code, "return_result", CLERK, "2025-03-21T09:00", payload={"collected_by": "An"})
    assert (d.state, d.status_code) == ("returned", 10)
    assert d.returned_at == at("2025-03-21T09:00")
    assert (d.end_kind, d.ended_at, d.due_date) == ended
    assert clock_kinds(s, d) == ["received", "result_ready", "returned"]  # one return only
    assert verdict(s, d) is Classification.ON_TIME


def test_a_result_is_corrected_only_after_it_was_returned(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    exc = refused(s, IllegalAction, d.code, "correct_result", LEADER, "2025-03-04T10:00",
                  reason="x")
    assert exc.allowed == ["return_result"]


def test_late_result_stays_late(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-11T09:00")
    do(s, d.code, "return_result", CLERK, "2025-03-11T10:00")
    assert d.due_date == date(2025, 3, 10)
    assert verdict(s, d) is Classification.LATE
    assert d.competent_agency == DEPT


def test_the_result_goes_back_through_the_returning_point(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00", returning_agency=COMMUNE)
    assert (d.receiving_agency, d.returning_agency) == (CENTRE, COMMUNE)
    do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    assert (steps_of(s, d)[-1].step_id, steps_of(s, d)[-1].unit) == ("return", COMMUNE)
    refused(s, Forbidden, d.code, "return_result", CLERK, "2025-03-05T09:00")
    do(s, d.code, "return_result", COMMUNE_CLERK, "2025-03-05T09:00")
    assert d.state == "returned"
