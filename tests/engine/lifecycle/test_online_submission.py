"""Online dossiers (domain §2.2 #1, #5, #6; T2): submitted (1) until the counter checks them;
a pre-receipt supplement request (5) starts no clock; the clock starts at the formal receipt,
not at the submission."""

from datetime import date

import pytest

from engine.lifecycle import documents_of, receive, steps_of
from engine.lifecycle.errors import IllegalAction, InvalidInput

from .conftest import APPLICANT, CLERK, COMPONENTS, DEPT, OFFICER, at
from .flow import PROC, clock_kinds, do, forms, refused


def submit(s, when="2025-03-01T22:00", components=COMPONENTS, **kw):
    r = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=components, competent_agency=DEPT, online=True, at=at(when), **kw)
    s.commit()
    return r


def test_online_submission_is_status_1_without_receipt_register_or_clock(world):
    r = submit(world)  # Saturday night
    d = r.dossier
    assert (d.state, d.status_code, d.channel) == ("submitted", 1, "online")
    assert d.submitted_at == at("2025-03-01T22:00")
    assert (d.received_at, d.clock_started_at, d.due_date, d.appointment_date) == (
        None, None, None, None)
    assert (d.register_number, d.transfer_due_at, d.current_step) == (None, None, None)
    assert r.documents == [] and r.event.action == "submit"
    assert "clock" not in r.event.payload


def test_incomplete_online_dossier_is_guided_once_then_received_and_the_clock_starts_then(
        world):
    s = world
    d = submit(s, components=[COMPONENTS[0]]).dossier
    code = d.code

    exc = refused(s, InvalidInput, code, "receive", CLERK, "2025-03-03T08:00")
    assert exc.details["missing"] == ["Bản sao giấy tờ tùy thân"]

    r = do(s, code, "request_supplement", CLERK, "2025-03-03T08:30",
           reason="Thiếu bản sao giấy tờ tùy thân",
           payload={"missing": ["Bản sao giấy tờ tùy thân"]})
    assert (d.state, d.status_code) == ("awaiting_supplement", 5)
    assert forms(r) == ["supplement_request"]
    assert (d.clock_started_at, d.due_date, d.supplement_count) == (None, None, 0)
    assert "clock" not in r.event.payload
    refused(s, IllegalAction, code, "receive", CLERK, "2025-03-03T09:00")

    r = do(s, code, "receive_supplement", CLERK, "2025-03-04T08:00",
           payload={"components": [COMPONENTS[1]]})
    assert (d.state, d.status_code) == ("submitted", 1)
    assert (d.clock_started_at, d.due_date, d.current_step) == (None, None, None)
    assert sorted(c["name"] for c in d.components) == sorted(c["name"] for c in COMPONENTS)

    r = do(s, code, "receive", CLERK, "2025-03-04T09:00")
    assert (d.state, d.status_code, d.code) == ("received", 2, code)
    assert d.submitted_at == at("2025-03-01T22:00")
    assert d.received_at == d.clock_started_at == at("2025-03-04T09:00")
    # 5 working days after the receipt day 04/03 (05, 06, 07, 10, 11), not after 01/03
    assert d.due_date == d.appointment_date == date(2025, 3, 11)
    assert d.transfer_due_at == at("2025-03-04T17:00")
    assert (d.register_year, d.register_number) == (2025, 1)
    assert forms(r) == ["receipt"]
    assert forms(documents_of(s, d)) == ["supplement_request", "receipt"]
    assert clock_kinds(s, d) == ["received"]  # the pre-receipt supplement is not on the clock
    assert [row.step_id for row in steps_of(s, d)] == ["receive"]
    assert d.supplement_count == 0 and d.flags == []


def test_complete_online_dossier_received_on_monday_counts_from_monday(world):
    s = world
    d = submit(s).dossier
    do(s, d.code, "receive", CLERK, "2025-03-03T08:00")
    assert d.clock_started_at == at("2025-03-03T08:00")
    assert d.due_date == date(2025, 3, 10)


def test_online_dossier_not_in_remit_is_refused_with_form_03(world):
    s = world
    d = submit(s).dossier
    refused(s, InvalidInput, d.code, "refuse_at_reception", CLERK, "2025-03-03T08:00")
    r = do(s, d.code, "refuse_at_reception", CLERK, "2025-03-03T08:00",
           reason="Không thuộc thẩm quyền")
    assert (d.state, d.status_code) == ("refused_at_reception", 3)
    assert forms(r) == ["refusal"] and r.documents[0].payload["at_reception"] is True
    assert d.clock_started_at is None


def test_online_dossier_can_be_withdrawn_before_receipt(world):
    s = world
    d = submit(s).dossier
    do(s, d.code, "withdraw", CLERK, "2025-03-03T08:00")
    assert (d.state, d.status_code) == ("withdrawn", 7)
    assert (d.clock_started_at, d.ended_at, d.end_kind) == (None, None, None)


@pytest.mark.parametrize(("action", "actor"), [
    ("stop", CLERK), ("transfer", CLERK), ("receive_supplement", CLERK), ("finish", OFFICER),
    ("pause", OFFICER),
])
def test_before_receipt_only_receipt_guidance_refusal_and_withdrawal_are_possible(
        world, action, actor):
    s = world
    d = submit(s).dossier
    exc = refused(s, IllegalAction, d.code, action, actor, "2025-03-03T08:00")
    assert exc.state == "submitted"
    assert exc.allowed == ["receive", "refuse_at_reception", "request_supplement", "withdraw"]


def test_pre_receipt_supplement_request_must_list_what_is_missing(world):
    s = world
    d = submit(s).dossier
    exc = refused(s, InvalidInput, d.code, "request_supplement", CLERK, "2025-03-03T08:00",
                  reason="Thiếu giấy tờ")
    assert exc.details["field"] == "missing"
