"""Receipt regardless of administrative boundary (ND 118 Art 14, Art 17(3) as amended;
decree118 §2.4, §8 item 2): a commune centre receives for a provincial department; the clock
starts only when the competent agency accepts the transferred dossier, and until then the
appointment assumes a transfer on time."""

from datetime import date

import pytest

from engine.lifecycle import steps_of
from engine.lifecycle.errors import Forbidden, InvalidInput

from .conftest import CENTRE, CLERK, COMMUNE, COMMUNE_CLERK, DEPT, LEADER, OFFICER, at
from .flow import clock_kinds, do, forms, in_processing, receive_ok, refused


def commune_receipt(s, when="2025-07-07T16:00"):
    return receive_ok(s, when, actor=COMMUNE_CLERK, competent=DEPT)


def test_commune_receipt_for_a_department_is_boundary_free_without_a_running_clock(world):
    s = world
    d = commune_receipt(s)  # Monday 16:00, after 15:00
    assert d.boundary_free is True
    assert (d.receiving_agency, d.competent_agency, d.returning_agency) == (COMMUNE, DEPT,
                                                                         COMMUNE)
    assert d.code == f"{COMMUNE}-250707-0001"
    assert (d.state, d.status_code, d.register_number) == ("received", 2, 1)
    assert d.received_at == at("2025-07-07T16:00")
    assert d.clock_started_at is None
    assert clock_kinds(s, d) == []
    # provisional: transferred by Tuesday 11:30, then 3 working days: 09, 10, 11
    assert d.transfer_due_at == at("2025-07-08T11:30")
    assert d.due_date == d.appointment_date == d.original_due_date == date(2025, 7, 11)


def test_provisional_appointment_for_a_morning_receipt_counts_from_the_same_day(world):
    d = commune_receipt(world, "2025-07-07T10:00")
    assert d.transfer_due_at == at("2025-07-07T17:00")
    assert d.due_date == date(2025, 7, 10)  # 08, 09, 10


@pytest.mark.parametrize(("actor", "competent"), [
    (CLERK, DEPT),  # the department's own one-stop unit
    (COMMUNE_CLERK, None),  # the commune's own procedure
])
def test_receipt_at_the_competent_agencys_own_counter_is_not_boundary_free(world, actor,
                                                                           competent):
    d = receive_ok(world, "2025-07-07T10:00", actor=actor, competent=competent)
    assert d.boundary_free is False
    assert d.clock_started_at == at("2025-07-07T10:00")


def test_clock_starts_when_the_competent_agency_accepts_the_transfer(world):
    s = world
    d = commune_receipt(s)
    refused(s, Forbidden, d.code, "transfer", CLERK, "2025-07-08T09:00")  # not the receiver
    do(s, d.code, "transfer", COMMUNE_CLERK, "2025-07-08T09:00")
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    assert d.flags == [] and d.clock_started_at is None
    assert d.due_date == date(2025, 7, 11)

    exc = refused(s, InvalidInput, d.code, "finish", OFFICER, "2025-07-08T10:00")
    assert "accept_transfer" in exc.message
    refused(s, Forbidden, d.code, "accept_transfer", COMMUNE_CLERK, "2025-07-09T10:00")

    r = do(s, d.code, "accept_transfer", OFFICER, "2025-07-09T10:00")
    assert (d.state, d.current_step) == ("in_processing", "appraise")
    assert d.clock_started_at == at("2025-07-09T10:00")
    assert d.received_at == at("2025-07-07T16:00")
    # counted from the acceptance day: 10, 11, 14 (not the provisional 11/07)
    assert d.due_date == d.appointment_date == d.original_due_date == date(2025, 7, 14)
    assert r.event.payload["clock"]["kind"] == "received"
    assert clock_kinds(s, d) == ["received"]
    exc = refused(s, InvalidInput, d.code, "accept_transfer", LEADER, "2025-07-09T11:00")
    assert "trước đó" in exc.message  # only once

    do(s, d.code, "forward", OFFICER, "2025-07-10T09:00")
    do(s, d.code, "finish", LEADER, "2025-07-11T09:00")
    assert (d.state, d.end_kind) == ("result_ready", "result_ready")
    refused(s, Forbidden, d.code, "return_result", CLERK, "2025-07-11T10:00")
    do(s, d.code, "return_result", COMMUNE_CLERK, "2025-07-11T10:00")
    assert (d.state, d.status_code) == ("returned", 10)
    assert [row.unit for row in steps_of(s, d)] == [COMMUNE, DEPT, DEPT, COMMUNE]


def test_late_transfer_of_a_boundary_free_dossier_is_flagged(world):
    s = world
    d = commune_receipt(s)
    do(s, d.code, "transfer", COMMUNE_CLERK, "2025-07-08T14:00")
    assert d.flags == ["transfer_late"]
    do(s, d.code, "accept_transfer", OFFICER, "2025-07-08T15:00")
    assert d.due_date == date(2025, 7, 11)  # 09, 10, 11


def test_supplement_window_of_a_boundary_free_dossier_counts_from_acceptance(world):
    s = world
    d = commune_receipt(s, "2025-07-07T10:00")
    do(s, d.code, "transfer", COMMUNE_CLERK, "2025-07-07T11:00")
    do(s, d.code, "accept_transfer", OFFICER, "2025-07-09T09:00")
    r = do(s, d.code, "request_supplement", OFFICER, "2025-07-14T09:00", reason="Thiếu",
           payload={"missing": ["Đơn đề nghị"]})  # 10, 11, 14: third day after acceptance
    assert d.flags == [] and forms(r) == ["supplement_request"]
    do(s, d.code, "receive_supplement", COMMUNE_CLERK, "2025-07-15T09:00")
    assert d.due_date == date(2025, 7, 18)  # 16, 17, 18


def test_accept_transfer_is_only_for_boundary_free_dossiers(world):
    s = world
    d = in_processing(s, "2025-07-07T09:00")
    assert d.receiving_agency == CENTRE
    exc = refused(s, InvalidInput, d.code, "accept_transfer", OFFICER, "2025-07-07T10:00")
    assert exc.details["field"] == "action"
