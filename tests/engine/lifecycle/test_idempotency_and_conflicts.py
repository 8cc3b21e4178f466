"""Repeated and stale requests, and all-or-nothing actions: a repeated request (same
idempotency key, same user, same request) returns the first result and writes nothing; a key
reused by its user for another request is refused (422); another user's key is another
request; a stale ``expected_version`` is a Conflict; a failed action leaves no trace."""

import pytest
from sqlmodel import func, select

from engine.lifecycle import (
    Applicant,
    act,
    documents_of,
    events_of,
    guide,
    receive,
    refuse_at_reception,
)
from engine.lifecycle.errors import Conflict, Forbidden, InvalidInput
from engine.lifecycle.idempotency import IdempotencyKeyReused
from engine.lifecycle.models import Dossier

from .conftest import APPLICANT, CENTRE, CLERK, COMMUNE_CLERK, COMPONENTS, DEPT, LEADER, at
from .flow import PROC, do, forms, in_processing, receive_ok, refused, snapshot


def dossiers(s):
    return s.exec(select(func.count()).select_from(Dossier)).one()


def test_a_repeated_action_returns_the_first_result_and_writes_nothing(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    first = do(s, d.code, "transfer", CLERK, "2025-03-03T10:00", idempotency_key="req-1")
    before = snapshot(s, d.code)
    again = do(s, d.code, "transfer", CLERK, "2025-03-03T10:01", idempotency_key="req-1")
    assert again.replayed is True and first.replayed is False
    assert again.event.id == first.event.id and again.event.seq == 2
    assert snapshot(s, d.code) == before
    assert [e.action for e in events_of(s, d)] == ["receive", "transfer"]


def test_a_repeated_action_returns_its_documents(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    kw = {"reason": "Chậm do xác minh", "payload": {"new_due": "2025-03-20"},
          "idempotency_key": "apology-1"}
    first = do(s, d.code, "apologise", LEADER, "2025-03-06T09:00", **kw)
    again = do(s, d.code, "apologise", LEADER, "2025-03-06T09:00", **kw)  # not "twice"
    assert again.replayed and [doc.id for doc in again.documents] == [
        doc.id for doc in first.documents]
    assert forms(documents_of(s, d)) == ["receipt", "apology"]
    assert d.apology_count == 1


def test_a_key_reused_by_its_user_for_another_request_is_refused_and_changes_nothing(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    other = receive_ok(s, "2025-03-03T09:10")
    do(s, d.code, "assign", LEADER, "2025-03-03T10:00", payload={"assignee": "officer1"},
       idempotency_key="k")
    exc = refused(s, IdempotencyKeyReused, d.code, "assign", LEADER, "2025-03-03T11:00",
                  payload={"assignee": "officer2"}, idempotency_key="k")
    assert exc.details == {"idempotency_key": "k"} and exc.status == 422
    refused(s, IdempotencyKeyReused, other.code, "assign", LEADER, "2025-03-03T11:00",
            payload={"assignee": "officer1"}, idempotency_key="k")
    receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT, components=COMPONENTS,
            competent_agency=DEPT, at=at("2025-03-03T12:00"), idempotency_key="r")
    s.commit()
    with pytest.raises(IdempotencyKeyReused):
        receive(s, actor=CLERK, procedure_code=PROC, applicant=Applicant(name="Người khác"),
                components=COMPONENTS, competent_agency=DEPT, at=at("2025-03-03T12:05"),
                idempotency_key="r")
    s.rollback()
    assert dossiers(s) == 3


def test_another_users_key_never_returns_somebody_elses_dossier(world):
    """The probe's leak: a clerk at another agency sending the README's example key got the
    first dossier back (name, CCCD, secret) and the new applicant was never received."""
    s = world
    first = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                    components=COMPONENTS, competent_agency=DEPT, at=at("2025-03-03T09:00"),
                    idempotency_key="quay-1-0001")
    s.commit()
    second = receive(s, actor=COMMUNE_CLERK, procedure_code=PROC,
                     applicant=Applicant(name="Lê Thị Hoa", id_number="001190000002"),
                     components=COMPONENTS, at=at("2025-03-03T09:05"),
                     idempotency_key="quay-1-0001")
    s.commit()
    assert not second.replayed and second.dossier.code != first.dossier.code
    assert second.dossier.applicant_name == "Lê Thị Hoa"
    assert second.dossier.secret != first.dossier.secret
    # The same key, the same request, by the same clerk: that one is a replay.
    again = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                    components=COMPONENTS, competent_agency=DEPT, at=at("2025-03-03T09:30"),
                    idempotency_key="quay-1-0001")
    assert again.replayed and again.dossier.code == first.dossier.code
    assert dossiers(s) == 2


def test_a_repeated_receipt_returns_the_same_dossier_and_spends_no_number(world):
    s = world
    kw = {"actor": CLERK, "procedure_code": PROC, "applicant": APPLICANT,
          "components": COMPONENTS, "competent_agency": DEPT, "idempotency_key": "rcv-1"}
    first = receive(s, at=at("2025-03-03T09:00"), **kw)
    s.commit()
    again = receive(s, at=at("2025-03-03T09:02"), **kw)
    s.commit()
    assert again.replayed is True
    assert again.dossier.id == first.dossier.id
    assert again.dossier.code == f"{CENTRE}-250303-0001"
    assert forms(again) == ["receipt"]
    assert dossiers(s) == 1
    assert receive_ok(s, "2025-03-03T09:05").code == f"{CENTRE}-250303-0002"


def test_repeated_refusal_at_reception_and_guidance_are_not_duplicated(world):
    s = world
    kw = {"actor": CLERK, "procedure_code": PROC, "applicant": Applicant(name="B"),
          "reason": "Không thuộc thẩm quyền", "at": at("2025-03-03T09:00"),
          "idempotency_key": "ref-1"}
    first = refuse_at_reception(s, **kw)
    s.commit()
    again = refuse_at_reception(s, **kw)
    s.commit()
    assert again.replayed and again.dossier.id == first.dossier.id and dossiers(s) == 1

    gk = {"actor": CLERK, "procedure_code": PROC, "applicant_name": "C",
          "missing": ["Đơn đề nghị"], "reason": "Thiếu", "at": at("2025-03-03T09:00"),
          "idempotency_key": "guide-1"}
    g1, doc1 = guide(s, **gk)
    s.commit()
    g2, doc2 = guide(s, **gk)
    s.commit()
    assert (g2.id, doc2.id) == (g1.id, doc1.id)


def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    assert d.version == 1
    do(s, d.code, "transfer", CLERK, "2025-03-03T10:00", expected_version=1)
    assert d.version == 2
    exc = refused(s, Conflict, d.code, "stop", CLERK, "2025-03-03T11:00", expected_version=1)
    assert exc.details["current_version"] == 2
    do(s, d.code, "stop", CLERK, "2025-03-03T11:00", expected_version=2)
    assert (d.state, d.version) == ("stopped", 3)


def test_every_action_bumps_the_version_by_one(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    versions = [d.version]
    for action, actor, kw in [
        ("assign", LEADER, {"payload": {"assignee": "officer1"}}),
        ("apologise", LEADER, {"reason": "Chậm", "payload": {"new_due": "2025-03-20"}}),
        ("stop", CLERK, {}),
    ]:
        do(s, d.code, action, actor, "2025-03-05T09:00", **kw)
        versions.append(d.version)
    assert versions == [2, 3, 4, 5]
    assert len(events_of(s, d)) == 5


@pytest.mark.parametrize(("action", "actor", "kw", "error"), [
    # the machine has already fired when these effects fail: the rollback undoes it
    ("apologise", LEADER, {"reason": "Chậm"}, InvalidInput),
    # fails in the clock replay, after the Form 04 number was drawn
    ("apologise", LEADER, {"reason": "Chậm", "payload": {"new_due": "2025-03-01"}},
     InvalidInput),
    ("refuse", LEADER, {}, InvalidInput),
    ("pause", LEADER, {"reason": "Không có trong danh mục"}, InvalidInput),
    ("stop", COMMUNE_CLERK, {}, Forbidden),
])
def test_a_failed_action_leaves_no_event_no_document_and_the_same_state(
        world, action, actor, kw, error):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    refused(s, error, d.code, action, actor, "2025-03-05T09:00", **kw)
    s.expire_all()
    assert (d.state, d.version, d.apology_count) == ("in_processing", 2, 0)
    assert [e.action for e in events_of(s, d)] == ["receive", "transfer"]
    assert forms(documents_of(s, d)) == ["receipt"]
    # the document counter was not advanced either: the next Form 04 is number 01
    r = act(s, code=d.code, action="apologise", actor=LEADER, at=at("2025-03-05T10:00"),
            reason="Chậm", payload={"new_due": "2025-03-20"})
    s.commit()
    assert r.documents[0].number == "01/PXL"


def test_an_action_dated_before_the_previous_one_is_rejected(world):
    s = world
    d = receive_ok(s, "2025-03-03T16:00")
    # back-dating the transfer to the morning would hide that it is late
    exc = refused(s, InvalidInput, d.code, "transfer", CLERK, "2025-03-03T08:00")
    assert exc.details["field"] == "at"
    do(s, d.code, "transfer", CLERK, "2025-03-04T13:00")  # the same instant or later is fine
    assert d.flags == ["transfer_late"]
    do(s, d.code, "assign", LEADER, "2025-03-04T13:00", payload={"assignee": "officer1"})
