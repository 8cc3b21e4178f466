"""Receipt at the counter (domain §2.2 #2, #8; T2, T5): Form 01, code, register entry, the
due date N working days after the receipt day, and the transfer deadline (same day, or the
next morning when received after 15:00 or on a day off)."""

from datetime import date

import pytest

from engine.lifecycle import documents_of, events_of, receive, steps_of

from .conftest import APPLICANT, CENTRE, CLERK, COMMUNE, COMMUNE_CLERK, COMPONENTS, DEPT, at
from .flow import PROC, do, forms, receive_ok


def test_counter_receipt_issues_code_form_01_register_entry_and_starts_the_clock(world):
    s = world
    r = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT, components=COMPONENTS,
                competent_agency=DEPT, at=at("2025-03-03T09:00"))
    s.commit()
    d = r.dossier
    assert (d.state, d.status_code, d.channel) == ("received", 2, "counter")
    assert d.code == f"{CENTRE}-250303-0001"
    assert (d.receiving_agency, d.competent_agency, d.returning_agency) == (CENTRE, DEPT, CENTRE)
    assert d.boundary_free is False
    assert (d.procedure_version, d.limit_amount, d.limit_unit) == (date(2019, 1, 1), 5,
                                                                   "working_days")
    assert d.received_at == d.clock_started_at == at("2025-03-03T09:00")
    # Monday 03/03 is not counted: Tue 04, Wed 05, Thu 06, Fri 07, Mon 10.
    assert d.due_date == d.original_due_date == d.appointment_date == date(2025, 3, 10)
    assert d.due_at == at("2025-03-10T17:00")
    assert (d.register_year, d.register_number) == (2025, 1)
    assert d.transfer_due_at == at("2025-03-03T17:00")
    assert d.current_step == "receive" and d.flags == [] and d.version == 1

    [doc] = r.documents
    assert (doc.form, doc.form_set, doc.number) == ("receipt", "2018", "01/TNHS")
    assert (doc.dossier_id, doc.event_id, doc.issued_by) == (d.id, r.event.id, CLERK.id)
    assert doc.payload == {"copies": ["Lưu", "Giao khách hàng"]}

    [event] = events_of(s, d)
    assert (event.seq, event.action, event.state_before, event.state_after) == (
        1, "receive", "new", "received")
    assert event.payload["clock"] == {"kind": "received", "at": "2025-03-03T02:00:00+00:00"}

    [step] = steps_of(s, d)
    assert (step.step_id, step.unit, step.role, step.finished_at) == ("receive", CENTRE,
                                                                      "clerk", None)
    # 4 working hours from 09:00: 09:00–11:30 and 13:30–15:00.
    assert step.due_at == at("2025-03-03T15:00")


@pytest.mark.parametrize(("received", "due"), [
    ("2025-03-03T07:31", date(2025, 3, 10)),  # the receipt day is never counted (T2) …
    ("2025-03-03T16:59", date(2025, 3, 10)),  # … and 15:00 does not shift day limits (T5)
    ("2025-03-08T09:00", date(2025, 3, 14)),  # a Saturday counter: 10, 11, 12, 13, 14
    ("2025-01-24T16:10", date(2025, 2, 7)),  # Tết 27–31/01 skipped: 03–07/02
    # Saturday 26/04 is a make-up working day, 30/04–02/05 are off: 26, 28, 29, 05, 06.
    ("2025-04-25T09:00", date(2025, 5, 6)),
    # 3-working-day version from 01/07/2025; Quốc khánh 01–02/09 skipped: 03, 04, 05.
    ("2025-08-29T09:00", date(2025, 9, 5)),
    # 01/01/2026 holiday, 02/01/2026 swapped off: 05, 06, 07.
    ("2025-12-31T09:00", date(2026, 1, 7)),
])
def test_due_date_is_n_working_days_after_the_receipt_day(world, received, due):
    d = receive_ok(world, received)
    assert d.due_date == d.appointment_date == d.original_due_date == due


@pytest.mark.parametrize(("received", "deadline"), [
    ("2025-03-03T07:00", "2025-03-03T17:00"),  # before opening: the same day
    ("2025-03-03T14:59", "2025-03-03T17:00"),
    ("2025-03-03T15:00", "2025-03-03T17:00"),  # at 15:00 is not "after 15:00"
    ("2025-03-03T15:01", "2025-03-04T11:30"),  # after 15:00: the next morning
    ("2025-03-07T16:00", "2025-03-10T11:30"),  # Friday afternoon: Monday morning
    ("2025-03-08T09:00", "2025-03-10T11:30"),  # received on a Saturday
    ("2025-04-29T16:00", "2025-05-05T11:30"),  # 30/04–02/05 off, then the weekend
])
def test_transfer_deadline_is_same_day_or_next_morning_after_15h(world, received, deadline):
    d = receive_ok(world, received)
    assert d.transfer_due_at == at(deadline)


@pytest.mark.parametrize(("received", "transferred", "late"), [
    ("2025-03-03T10:00", "2025-03-03T17:00", False),
    ("2025-03-03T10:00", "2025-03-04T07:30", True),
    ("2025-03-03T16:00", "2025-03-04T11:30", False),
    ("2025-03-03T16:00", "2025-03-04T11:31", True),
])
def test_transferring_after_the_deadline_is_flagged_not_blocked(world, received, transferred,
                                                                 late):
    s = world
    d = receive_ok(s, received)
    r = do(s, d.code, "transfer", CLERK, transferred)
    assert (d.state, d.status_code, d.current_step) == ("in_processing", 4, "appraise")
    assert d.transferred_at == at(transferred)
    assert ("transfer_late" in d.flags) is late
    assert ("transfer_late" in r.event.payload.get("flags", [])) is late
    receive_row, appraise_row = steps_of(s, d)
    assert (receive_row.outcome, receive_row.finished_at) == ("transfer", at(transferred))
    assert (appraise_row.step_id, appraise_row.unit, appraise_row.finished_at) == (
        "appraise", DEPT, None)


def test_register_numbers_run_per_receiving_agency_and_year(world):
    s = world
    first = receive_ok(s, "2025-03-03T09:00")
    second = receive_ok(s, "2025-11-20T09:00")
    commune = receive_ok(s, "2025-03-04T09:00", actor=COMMUNE_CLERK, competent=None)
    next_year = receive_ok(s, "2026-01-05T09:00")
    assert [(d.register_year, d.register_number) for d in (first, second, commune, next_year)] \
        == [(2025, 1), (2025, 2), (2025, 1), (2026, 1)]
    assert commune.competent_agency == commune.returning_agency == COMMUNE
    # Form 01 numbers run per agency and year too; the form set follows the receipt date.
    numbers = [(documents_of(s, d)[0].number, documents_of(s, d)[0].form_set)
               for d in (first, second, commune, next_year)]
    assert numbers == [("01/TNHS", "2018"), ("02/TNHS", "2025"), ("01/TNHS", "2018"),
                       ("01/TNHS", "2025")]


def test_receipt_form_is_the_only_document_and_transfer_issues_none(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    r = do(s, d.code, "transfer", CLERK, "2025-03-03T10:00")
    assert forms(r) == []
    assert forms(documents_of(s, d)) == ["receipt"]
