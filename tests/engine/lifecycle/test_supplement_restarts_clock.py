"""Supplement during processing (domain §2.2 #11–12, T7): Form 02 through the one-stop unit,
the clock restarts from zero when the complete supplement arrives (a new appointment, the
original due date kept); a request after 3 working days or a second request is flagged."""

from datetime import date

import pytest

from engine.lifecycle import steps_of
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput
from engine.procedures import ProcedureSpec, save_version

from .conftest import CLERK, COMMUNE_CLERK, LEADER, OFFICER, PROCEDURE, at
from .flow import clock_kinds, do, in_processing, refused

MISSING = {"missing": ["Bản sao giấy tờ tùy thân (bản rõ nét)"]}


def test_supplement_restarts_the_clock_from_the_day_it_is_received(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    assert d.due_date == date(2025, 3, 10)

    r = do(s, d.code, "request_supplement", OFFICER, "2025-03-05T10:00",
           reason="Bản sao bị mờ", payload=MISSING)
    assert (d.state, d.status_code, d.supplement_count, d.flags) == (
        "awaiting_supplement", 5, 1, [])
    [doc] = r.documents
    assert (doc.form, doc.form_set, doc.number, doc.issued_by) == (
        "supplement_request", "2018", "01/HDHS", OFFICER.id)
    assert doc.payload == {"missing": MISSING["missing"], "reason": "Bản sao bị mờ"}
    assert d.due_date == d.appointment_date == date(2025, 3, 10)  # nothing moves while waiting
    assert steps_of(s, d)[-1].outcome == "request_supplement"

    do(s, d.code, "receive_supplement", CLERK, "2025-03-13T14:00")
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    # counted again from zero after 13/03: 14, 17, 18, 19, 20
    assert d.due_date == d.appointment_date == date(2025, 3, 20)
    assert d.due_at == at("2025-03-20T17:00")
    assert d.original_due_date == date(2025, 3, 10)
    assert d.clock_started_at == at("2025-03-03T09:00")  # the receipt stays the receipt
    assert clock_kinds(s, d) == ["received", "supplement_requested", "supplement_received"]
    assert [(row.step_id, row.outcome) for row in steps_of(s, d)] == [
        ("receive", "transfer"), ("appraise", "request_supplement"), ("appraise", None)]


@pytest.mark.parametrize(("received", "requested", "late"), [
    # received Monday 03/03: working days 04, 05, 06 are the window
    ("2025-03-03T09:00", "2025-03-06T16:30", False),
    ("2025-03-03T09:00", "2025-03-07T08:00", True),
    # received 28/04: 29/04, then 30/04–02/05 off and the weekend, 05/05, 06/05
    ("2025-04-28T09:00", "2025-05-06T16:30", False),
    ("2025-04-28T09:00", "2025-05-07T08:00", True),
])
def test_request_after_three_working_days_is_flagged_but_done(world, received, requested, late):
    s = world
    d = in_processing(s, received)
    r = do(s, d.code, "request_supplement", OFFICER, requested, reason="Thiếu",
           payload=MISSING)
    assert d.state == "awaiting_supplement"
    assert ("supplement_request_late" in d.flags) is late
    assert ("supplement_request_late" in r.event.payload.get("flags", [])) is late


def test_second_request_is_flagged_repeated_and_restarts_again(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "request_supplement", OFFICER, "2025-03-04T09:00", reason="Thiếu",
       payload=MISSING)
    do(s, d.code, "receive_supplement", CLERK, "2025-03-05T10:00")
    assert d.due_date == date(2025, 3, 12)  # 06, 07, 10, 11, 12
    assert d.flags == []

    r = do(s, d.code, "request_supplement", OFFICER, "2025-03-06T09:00", reason="Thiếu nữa",
           payload={"missing": ["Đơn đề nghị (ký lại)"]})
    assert d.flags == ["supplement_repeated"]
    assert d.supplement_count == 2
    assert r.documents[0].number == "02/HDHS"
    do(s, d.code, "receive_supplement", CLERK, "2025-03-07T10:00")
    assert d.due_date == d.appointment_date == date(2025, 3, 14)  # 10, 11, 12, 13, 14
    assert d.original_due_date == date(2025, 3, 10)


def test_pause_effect_procedures_add_the_waiting_days_instead_of_restarting(world):
    s = world
    save_version(s, spec=ProcedureSpec.from_dict(dict(PROCEDURE, code="1.000003",
                                                      supplement_effect="pause")))
    s.commit()
    d = in_processing(s, "2025-03-03T09:00", procedure_code="1.000003")
    assert d.supplement_effect == "pause"
    do(s, d.code, "request_supplement", OFFICER, "2025-03-05T10:00", reason="Thiếu",
       payload=MISSING)
    do(s, d.code, "receive_supplement", CLERK, "2025-03-07T10:00")
    # waiting 06/03 and 07/03 are added to 10/03, not a restart (which would give 14/03)
    assert d.due_date == d.appointment_date == date(2025, 3, 12)


@pytest.mark.parametrize(("reason", "payload", "field"), [
    (None, MISSING, "reason"),
    ("Thiếu", {}, "missing"),
    ("Thiếu", {"missing": []}, "missing"),
])
def test_request_needs_a_reason_and_the_full_list(world, reason, payload, field):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, InvalidInput, d.code, "request_supplement", OFFICER, "2025-03-04T09:00",
                  reason=reason, payload=payload)
    assert exc.details["field"] == field


def test_supplement_is_received_only_when_requested_and_only_by_the_counter(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, IllegalAction, d.code, "receive_supplement", CLERK, "2025-03-04T09:00")
    assert exc.state == "in_processing"
    do(s, d.code, "request_supplement", OFFICER, "2025-03-04T09:00", reason="Thiếu",
       payload=MISSING)
    refused(s, Forbidden, d.code, "receive_supplement", COMMUNE_CLERK, "2025-03-05T09:00")
    refused(s, Forbidden, d.code, "receive_supplement", OFFICER, "2025-03-05T09:00")
    # nothing else happens while the applicant supplements
    exc = refused(s, IllegalAction, d.code, "request_supplement", OFFICER, "2025-03-05T09:00",
                  reason="Thiếu", payload=MISSING)
    assert exc.allowed == ["receive_supplement", "stop", "withdraw"]


def test_supplement_cannot_be_requested_at_a_step_that_does_not_allow_it(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00")
    exc = refused(s, Forbidden, d.code, "request_supplement", LEADER, "2025-03-04T10:00",
                  reason="Thiếu", payload=MISSING)
    assert exc.details["step"] == "approve"


def test_documents_handed_in_with_the_supplement_replace_those_of_the_same_name(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "request_supplement", OFFICER, "2025-03-04T09:00", reason="Bản sao mờ",
       payload=MISSING)
    exc = refused(s, InvalidInput, d.code, "receive_supplement", CLERK, "2025-03-05T09:00",
                  payload={"components": [{"copies": 1}]})
    assert exc.details["field"] == "components"
    new_copy = {"name": "Bản sao giấy tờ tùy thân", "originals": 0, "copies": 2}
    r = do(s, d.code, "receive_supplement", CLERK, "2025-03-05T09:00",
           payload={"components": [new_copy]})
    assert d.components == [{"name": "Đơn đề nghị", "originals": 1, "copies": 0}, new_copy]
    assert r.event.payload["components"] == [new_copy]
