"""Work inside processing (domain §2.2 #10, #13; T8): pauses with a legal reason, payment of
fees, consultation, assignment, and moving between the procedure's steps."""

from datetime import date

import pytest

from engine.lifecycle import steps_of
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput

from .conftest import CLERK, DEPT, LEADER, OFFICER
from .flow import clock_kinds, do, in_processing, refused

REASON = "Xác minh thực địa"  # the procedure's only pause reason


@pytest.mark.parametrize("reason", [None, "Chờ ý kiến lãnh đạo"])
def test_pause_needs_a_reason_listed_for_the_procedure(world, reason):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, InvalidInput, d.code, "pause", OFFICER, "2025-03-05T09:00", reason=reason)
    assert exc.details["field"] == "reason"
    if reason:
        assert exc.details["allowed"] == [REASON]


def test_pause_is_status_4_and_resume_extends_the_due_date(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    r = do(s, d.code, "pause", OFFICER, "2025-03-05T09:00", reason=REASON)
    assert (d.state, d.status_code) == ("paused", 4)
    assert r.event.payload["clock"]["reason"] == REASON
    assert d.due_date == date(2025, 3, 10)
    for action, actor in (("forward", OFFICER), ("finish", LEADER), ("pause", OFFICER)):
        exc = refused(s, IllegalAction, d.code, action, actor, "2025-03-06T09:00",
                      reason=REASON)
        assert exc.state == "paused"
    refused(s, Forbidden, d.code, "resume", CLERK, "2025-03-06T09:00")

    do(s, d.code, "resume", OFFICER, "2025-03-07T09:00")
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    # 06/03 and 07/03 did not count: 10/03 + 2 working days
    assert d.due_date == d.appointment_date == date(2025, 3, 12)
    assert d.original_due_date == date(2025, 3, 10)
    assert clock_kinds(s, d) == ["received", "paused", "resumed"]


@pytest.mark.parametrize(("paused", "resumed", "due"), [
    ("2025-03-05T09:00", "2025-03-05T15:00", date(2025, 3, 10)),  # same day: nothing lost
    ("2025-03-07T09:00", "2025-03-10T09:00", date(2025, 3, 11)),  # over a weekend: Monday
    # 05, 06, 07, 10, 11 lost: 10/03 + 5 working days
    ("2025-03-04T09:00", "2025-03-11T09:00", date(2025, 3, 17)),
])
def test_resume_adds_the_working_days_paused(world, paused, resumed, due):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "pause", OFFICER, paused, reason=REASON)
    do(s, d.code, "resume", OFFICER, resumed)
    assert d.due_date == due


def test_pause_is_only_possible_at_steps_that_allow_it(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00")
    exc = refused(s, Forbidden, d.code, "pause", LEADER, "2025-03-04T10:00", reason=REASON)
    assert exc.details["step"] == "approve"


def test_payment_request_waits_for_the_applicant_then_processing_continues(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, InvalidInput, d.code, "request_payment", OFFICER, "2025-03-04T09:00")
    assert exc.details["field"] == "amount_vnd"
    r = do(s, d.code, "request_payment", OFFICER, "2025-03-04T09:00",
           payload={"amount_vnd": 500000})
    assert (d.state, d.status_code) == ("awaiting_payment", 6)
    assert r.event.payload == {"amount_vnd": 500000}
    exc = refused(s, IllegalAction, d.code, "forward", OFFICER, "2025-03-04T10:00")
    assert exc.allowed == ["apologise", "confirm_payment", "stop", "withdraw"]

    do(s, d.code, "confirm_payment", CLERK, "2025-03-05T09:00")
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    assert d.due_date == date(2025, 3, 10)  # waiting for payment does not move the clock
    assert clock_kinds(s, d) == ["received"]


def test_payment_request_with_a_stated_reason_is_accepted(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "request_payment", LEADER, "2025-03-04T09:00",
       reason="Lệ phí cấp giấy phép theo biểu phí")
    assert d.status_code == 6
    do(s, d.code, "confirm_payment", OFFICER, "2025-03-04T10:00")
    assert d.status_code == 4


@pytest.mark.parametrize("payload", [{}, {"agency": "Sở Tài chính"}, {"reply_by": "2025-03-07"}])
def test_consultation_needs_the_agency_and_the_reply_deadline(world, payload):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, InvalidInput, d.code, "consult", OFFICER, "2025-03-04T09:00",
                  payload=payload)
    assert exc.details["field"] == "payload"


def test_consultation_is_recorded_without_changing_state_or_clock(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    r = do(s, d.code, "consult", OFFICER, "2025-03-04T09:00",
           payload={"agency": "Sở Tài chính", "reply_by": "2025-03-07"})
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    assert r.event.payload == {"agency": "Sở Tài chính", "reply_by": "2025-03-07"}
    assert (r.event.state_before, r.event.state_after) == ("in_processing", "in_processing")
    assert d.due_date == date(2025, 3, 10)
    # the approval step does not consult
    do(s, d.code, "forward", OFFICER, "2025-03-04T10:00")
    refused(s, Forbidden, d.code, "consult", LEADER, "2025-03-04T11:00",
            payload={"agency": "Sở Tài chính", "reply_by": "2025-03-07"})


def test_forward_and_send_back_move_between_steps_with_hand_off_rows(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00", payload={"assignee": "leader1"})
    assert (d.current_step, d.assignee) == ("approve", "leader1")

    exc = refused(s, InvalidInput, d.code, "forward", LEADER, "2025-03-04T10:00")
    assert "cuối cùng" in exc.message  # the last processing step finishes, it cannot forward
    refused(s, InvalidInput, d.code, "send_back", LEADER, "2025-03-04T10:00")  # no reason

    r = do(s, d.code, "send_back", LEADER, "2025-03-04T10:00", reason="Thiếu căn cứ")
    assert (d.current_step, d.assignee) == ("appraise", None)
    assert (r.event.step_before, r.event.step_after) == ("approve", "appraise")
    # the first processing step has nowhere to send back to
    refused(s, Forbidden, d.code, "send_back", OFFICER, "2025-03-04T11:00", reason="x")

    rows = steps_of(s, d)
    assert [(row.step_id, row.outcome) for row in rows] == [
        ("receive", "transfer"), ("appraise", "forward"), ("approve", "send_back"),
        ("appraise", None)]
    assert [(row.unit, row.role) for row in rows[1:]] == [
        (DEPT, "officer"), (DEPT, "leader"), (DEPT, "officer")]
    # step budgets: appraisal 3 working days, approval 1 — each row is classified
    assert [row.classification for row in rows[1:3]] == ["early", "early"]


def test_leader_assigns_an_officer_to_the_open_step(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    refused(s, InvalidInput, d.code, "assign", LEADER, "2025-03-03T10:00")
    refused(s, Forbidden, d.code, "assign", OFFICER, "2025-03-03T10:00",
            payload={"assignee": "officer1"})
    do(s, d.code, "assign", LEADER, "2025-03-03T10:00", payload={"assignee": "officer1"})
    assert (d.state, d.assignee) == ("in_processing", "officer1")
    assert steps_of(s, d)[-1].assignee == "officer1"
