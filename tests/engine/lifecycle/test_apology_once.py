"""Apology and rescheduling (domain §2.2 #15, T9): the competent agency's leader, a reason and a
new date, Form 04, at most once; it moves the appointment, never the legal due date; later
than the working day before the due date it is flagged."""

from datetime import date

import pytest

from engine.lifecycle import documents_of
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput

from .conftest import CLERK, LEADER, OFFICER
from .flow import clock_kinds, do, forms, in_processing, refused

WHY = "Cần xác minh thêm với cơ quan thuế"


def test_apology_moves_the_appointment_not_the_due_date_and_issues_form_04(world):
    s = world
    d = in_processing(s, "2025-03-05T09:00")
    assert d.due_date == date(2025, 3, 12)  # 06, 07, 10, 11, 12
    r = do(s, d.code, "apologise", LEADER, "2025-03-10T10:00", reason=WHY,
           payload={"new_due": "2025-03-19"})
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    assert d.appointment_date == date(2025, 3, 19)
    assert d.due_date == d.original_due_date == date(2025, 3, 12)
    assert d.apology_count == 1 and d.flags == []
    [doc] = r.documents
    assert (doc.form, doc.form_set, doc.number, doc.issued_by) == (
        "apology", "2018", "01/PXL", LEADER.id)
    assert doc.payload == {"reason": WHY, "previous_appointment": "2025-03-12",
                           "new_due": "2025-03-19"}
    assert clock_kinds(s, d) == ["received", "apology"]

    # finishing afterwards keeps the legal due date for the on-time verdict
    do(s, d.code, "forward", OFFICER, "2025-03-14T09:00")
    do(s, d.code, "finish", LEADER, "2025-03-14T10:00")
    assert (d.due_date, d.appointment_date) == (date(2025, 3, 12), date(2025, 3, 19))


def test_a_second_apology_is_refused_and_writes_nothing(world):
    s = world
    d = in_processing(s, "2025-03-05T09:00")
    do(s, d.code, "apologise", LEADER, "2025-03-10T10:00", reason=WHY,
       payload={"new_due": "2025-03-19"})
    exc = refused(s, InvalidInput, d.code, "apologise", LEADER, "2025-03-11T10:00",
                  reason="Lần hai", payload={"new_due": "2025-03-26"})
    assert "một lần" in exc.message
    assert d.appointment_date == date(2025, 3, 19)
    assert forms(documents_of(s, d)) == ["receipt", "apology"]


@pytest.mark.parametrize(("received", "apologised", "late"), [
    # due Wednesday 12/03: the last day is Tuesday 11/03
    ("2025-03-05T09:00", "2025-03-11T16:59", False),
    ("2025-03-05T09:00", "2025-03-12T08:00", True),
    # due Monday 10/03: the working day before is Friday 07/03, the weekend is already late
    ("2025-03-03T09:00", "2025-03-07T16:00", False),
    ("2025-03-03T09:00", "2025-03-08T09:00", True),
])
def test_apology_later_than_the_working_day_before_the_due_date_is_flagged(
        world, received, apologised, late):
    s = world
    d = in_processing(s, received)
    r = do(s, d.code, "apologise", LEADER, apologised, reason=WHY,
           payload={"new_due": "2025-03-28"})
    assert d.apology_count == 1  # flagged, not blocked
    assert ("apology_late" in d.flags) is late
    assert ("apology_late" in r.event.payload.get("flags", [])) is late


@pytest.mark.parametrize(("reason", "payload", "field"), [
    (WHY, {}, "new_due"),
    (WHY, {"new_due": "sắp tới"}, "new_due"),
    (None, {"new_due": "2025-03-19"}, "reason"),
])
def test_apology_needs_a_reason_and_a_new_date(world, reason, payload, field):
    s = world
    d = in_processing(s, "2025-03-05T09:00")
    exc = refused(s, InvalidInput, d.code, "apologise", LEADER, "2025-03-10T10:00",
                  reason=reason, payload=payload)
    assert exc.details["field"] == field


@pytest.mark.parametrize("new_due", ["2025-03-12", "2025-03-11"])
def test_new_date_must_be_after_the_current_appointment(world, new_due):
    s = world
    d = in_processing(s, "2025-03-05T09:00")
    refused(s, InvalidInput, d.code, "apologise", LEADER, "2025-03-10T10:00", reason=WHY,
            payload={"new_due": new_due})


@pytest.mark.parametrize("actor", [OFFICER, CLERK])
def test_only_the_leader_apologises(world, actor):
    s = world
    d = in_processing(s, "2025-03-05T09:00")
    exc = refused(s, Forbidden, d.code, "apologise", actor, "2025-03-10T10:00", reason=WHY,
                  payload={"new_due": "2025-03-19"})
    assert exc.details["allowed_roles"] == ["leader"]


def test_apology_is_possible_while_paused_or_awaiting_payment_not_awaiting_supplement(world):
    s = world
    paused = in_processing(s, "2025-03-05T09:00")
    do(s, paused.code, "pause", OFFICER, "2025-03-06T09:00", reason="Xác minh thực địa")
    do(s, paused.code, "apologise", LEADER, "2025-03-07T09:00", reason=WHY,
       payload={"new_due": "2025-03-21"})
    assert (paused.state, paused.appointment_date) == ("paused", date(2025, 3, 21))
    # resuming extends the legal due date but keeps the announced appointment
    do(s, paused.code, "resume", OFFICER, "2025-03-10T09:00")
    assert (paused.due_date, paused.appointment_date) == (date(2025, 3, 14), date(2025, 3, 21))

    paying = in_processing(s, "2025-03-05T09:00")
    do(s, paying.code, "request_payment", OFFICER, "2025-03-06T09:00",
       payload={"amount_vnd": 100000})
    do(s, paying.code, "apologise", LEADER, "2025-03-07T09:00", reason=WHY,
       payload={"new_due": "2025-03-21"})
    assert (paying.state, paying.apology_count) == ("awaiting_payment", 1)

    waiting = in_processing(s, "2025-03-05T09:00")
    do(s, waiting.code, "request_supplement", OFFICER, "2025-03-06T09:00", reason="Thiếu",
       payload={"missing": ["Đơn đề nghị"]})
    refused(s, IllegalAction, waiting.code, "apologise", LEADER, "2025-03-07T09:00",
            reason=WHY, payload={"new_due": "2025-03-21"})


def test_apology_for_a_dossier_received_from_15_september_2025_uses_the_2025_form(world):
    s = world
    d = in_processing(s, "2025-09-15T09:00")
    assert d.due_date == date(2025, 9, 18)  # 3-working-day version: 16, 17, 18
    r = do(s, d.code, "apologise", LEADER, "2025-09-16T09:00", reason=WHY,
           payload={"new_due": "2025-09-25"})
    assert (r.documents[0].form, r.documents[0].form_set) == ("apology", "2025")
