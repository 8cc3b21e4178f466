"""Procedure versions (domain §0.2, T1): the version in force on the local receipt date
applies for the dossier's whole life — 5 working days before 01/07/2025, 3 from that day."""

from datetime import date

import pytest

from engine.lifecycle import receive, spec_of
from engine.procedures import ProcedureSpec, save_version

from .conftest import APPLICANT, CENTRE, CLERK, COMPONENTS, DEPT, OFFICER, PROCEDURE, at
from .flow import PROC, do, in_processing, receive_ok


@pytest.mark.parametrize(("received", "version", "limit", "due"), [
    ("2025-06-30T10:00", date(2019, 1, 1), 5, date(2025, 7, 7)),  # 01, 02, 03, 04, 07
    ("2025-07-01T10:00", date(2025, 7, 1), 3, date(2025, 7, 4)),  # 02, 03, 04
    # the local date decides: 23:30 on 30/06 is still the old version …
    ("2025-06-30T23:30", date(2019, 1, 1), 5, date(2025, 7, 7)),
    # … and 00:15 on 01/07 (17:15 UTC on 30/06) the new one
    ("2025-07-01T00:15", date(2025, 7, 1), 3, date(2025, 7, 4)),
])
def test_the_version_in_force_on_the_receipt_day_applies(world, received, version, limit,
                                                          due):
    d = receive_ok(world, received)
    assert (d.procedure_version, d.limit_amount, d.due_date) == (version, limit, due)
    assert d.code.startswith(f"{CENTRE}-{at(received):%y%m%d}-")


def test_a_dossier_keeps_its_version_after_the_new_one_takes_effect(world):
    s = world
    d = in_processing(s, "2025-06-30T10:00")
    do(s, d.code, "request_supplement", OFFICER, "2025-07-01T09:00", reason="Thiếu",
       payload={"missing": ["Đơn đề nghị"]})
    do(s, d.code, "receive_supplement", CLERK, "2025-07-02T09:00")
    # restarted with the 2019 version's 5 days: 03, 04, 07, 08, 09 (3 days would be 07/07)
    assert d.due_date == date(2025, 7, 9)
    assert d.procedure_version == date(2019, 1, 1)
    assert spec_of(s, d).limit.amount == 5


def test_a_version_loaded_later_does_not_change_received_dossiers(world):
    s = world
    d = receive_ok(s, "2025-08-04T09:00")
    save_version(s, spec=ProcedureSpec.from_dict(
        dict(PROCEDURE, effective_from="2025-08-01",
             time_limit={"amount": 10, "unit": "working_days"})))
    s.commit()
    do(s, d.code, "transfer", CLERK, "2025-08-04T10:00")
    assert (d.procedure_version, d.limit_amount, d.due_date) == (date(2025, 7, 1), 3,
                                                                 date(2025, 8, 7))
    assert receive_ok(s, "2025-08-05T09:00").limit_amount == 10


def test_an_online_dossier_follows_the_version_of_its_receipt_not_its_submission(world):
    s = world
    d = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, online=True,
                at=at("2025-06-28T10:00")).dossier  # a Saturday under the 2019 version
    s.commit()
    do(s, d.code, "receive", CLERK, "2025-07-01T09:00")
    assert (d.procedure_version, d.limit_amount) == (date(2025, 7, 1), 3)
    assert d.due_date == date(2025, 7, 4)
    assert spec_of(s, d).effective_from == date(2025, 7, 1)


def test_an_online_dossier_received_before_the_change_keeps_the_old_version(world):
    s = world
    d = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, online=True,
                at=at("2025-06-27T10:00")).dossier
    s.commit()
    do(s, d.code, "receive", CLERK, "2025-06-30T09:00")
    assert (d.procedure_version, d.due_date) == (date(2019, 1, 1), date(2025, 7, 7))
