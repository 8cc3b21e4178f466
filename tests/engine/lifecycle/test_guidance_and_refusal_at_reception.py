"""The counter's other answers (domain §2.2 #3, #4): an incomplete dossier is not received
(guidance with Form 02, no dossier, no clock); an ineligible one is refused with Form 03."""

import unicodedata

import pytest
from sqlmodel import func, select

from engine.lifecycle import Actor, Applicant, guide, receive, refuse_at_reception
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput
from engine.lifecycle.models import Counter, Dossier, DossierEvent, Guidance, IssuedDocument

from .conftest import APPLICANT, CENTRE, CLERK, COMPONENTS, DEPT, OFFICER, at
from .flow import PROC, receive_ok, refused


def count(s, model):
    return s.exec(select(func.count()).select_from(model)).one()


def nothing_written(s):
    return (count(s, Dossier), count(s, DossierEvent), count(s, IssuedDocument),
            count(s, Guidance), count(s, Counter)) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(("components", "missing"), [
    ([COMPONENTS[0]], ["Bản sao giấy tờ tùy thân"]),
    ([], ["Đơn đề nghị", "Bản sao giấy tờ tùy thân"]),
    # a copy where an original is required does not count
    ([{"name": "Đơn đề nghị", "originals": 0, "copies": 1}, COMPONENTS[1]], ["Đơn đề nghị"]),
])
def test_incomplete_dossier_is_not_received_and_the_error_names_what_is_missing(
        world, components, missing):
    s = world
    with pytest.raises(InvalidInput) as caught:
        receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=components, competent_agency=DEPT, at=at("2025-03-03T09:00"))
    s.rollback()
    assert caught.value.details["field"] == "components"
    assert caught.value.details["missing"] == missing
    assert all(name in caught.value.message for name in missing)
    assert nothing_written(s)
    # no code was used up: the next complete dossier of the day is still 0001
    assert receive_ok(s, "2025-03-03T10:00").code == f"{CENTRE}-250303-0001"


def test_component_names_typed_in_nfd_still_match_the_catalogue(world):
    nfd = [dict(c, name=unicodedata.normalize("NFD", c["name"])) for c in COMPONENTS]
    d = receive_ok(world, "2025-03-03T09:00", components=nfd)
    assert d.state == "received"
    assert [c["name"] for c in d.components] == [c["name"] for c in COMPONENTS]


def test_guidance_records_form_02_without_a_dossier_or_a_clock(world):
    s = world
    g, doc = guide(s, actor=CLERK, procedure_code=PROC, applicant_name="Nguyễn Văn An",
                   missing=["Bản sao giấy tờ tùy thân",
                            {"name": "Đơn đề nghị", "note": "thiếu chữ ký"}],
                   reason="Hồ sơ chưa đủ thành phần", applicant_phone="0912345678",
                   at=at("2025-03-03T09:00"))
    s.commit()
    assert (g.agency_code, g.procedure_code, g.actor_id) == (CENTRE, PROC, CLERK.id)
    assert g.missing == [{"name": "Bản sao giấy tờ tùy thân"},
                         {"name": "Đơn đề nghị", "note": "thiếu chữ ký"}]
    assert (doc.form, doc.form_set, doc.number) == ("supplement_request", "2018", "01/HDHS")
    assert (doc.dossier_id, doc.guidance_id, doc.event_id) == (None, g.id, None)
    assert doc.payload["missing"] == g.missing
    assert doc.payload["reason"] == "Hồ sơ chưa đủ thành phần"
    assert (count(s, Dossier), count(s, DossierEvent)) == (0, 0)
    # guidance uses no dossier code
    assert receive_ok(s, "2025-03-03T10:00").code == f"{CENTRE}-250303-0001"


def test_guidance_from_15_september_2025_uses_the_2025_form_set(world):
    _, doc = guide(world, actor=CLERK, procedure_code=PROC, applicant_name="A",
                   missing=["Đơn đề nghị"], reason="thiếu", at=at("2025-09-15T09:00"))
    assert doc.form_set == "2025"


@pytest.mark.parametrize(("actor", "missing", "reason", "error"), [
    (CLERK, [], "thiếu", InvalidInput),
    (CLERK, ["Đơn đề nghị"], "   ", InvalidInput),
    (OFFICER, ["Đơn đề nghị"], "thiếu", Forbidden),
    (Actor("audit1", "auditor", CENTRE), ["Đơn đề nghị"], "thiếu", Forbidden),
])
def test_guidance_needs_a_clerk_a_full_list_and_a_reason(world, actor, missing, reason, error):
    s = world
    with pytest.raises(error):
        guide(s, actor=actor, procedure_code=PROC, applicant_name="A", missing=missing,
              reason=reason, at=at("2025-03-03T09:00"))
    s.rollback()
    assert nothing_written(s)


def test_refusal_at_reception_uses_a_code_and_form_03_but_starts_no_clock(world):
    s = world
    r = refuse_at_reception(s, actor=CLERK, procedure_code=PROC,
                            applicant=Applicant(name="Trần Thị Bình"),
                            reason="Không thuộc thẩm quyền giải quyết",
                            at=at("2025-03-03T09:00"))
    s.commit()
    d = r.dossier
    assert (d.state, d.status_code) == ("refused_at_reception", 3)
    assert d.code == f"{CENTRE}-250303-0001"
    assert (d.received_at, d.clock_started_at, d.due_date, d.register_number) == (
        None, None, None, None)
    [doc] = r.documents
    assert (doc.form, doc.form_set, doc.number) == ("refusal", "2018", "01/TCHS")
    assert doc.payload == {"reason": "Không thuộc thẩm quyền giải quyết", "at_reception": True}
    assert (r.event.action, r.event.state_after, r.event.reason) == (
        "refuse_at_reception", "refused_at_reception", "Không thuộc thẩm quyền giải quyết")
    # the number is spent, never reused (domain §7.1)
    assert receive_ok(s, "2025-03-03T10:00").code == f"{CENTRE}-250303-0002"
    # terminal
    exc = refused(s, IllegalAction, d.code, "receive", CLERK, "2025-03-03T11:00")
    assert (exc.state, exc.allowed) == ("refused_at_reception", [])


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_refusal_at_reception_without_a_reason_is_rejected(world, reason):
    s = world
    with pytest.raises(InvalidInput) as caught:
        refuse_at_reception(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                            reason=reason, at=at("2025-03-03T09:00"))
    s.rollback()
    assert caught.value.details["field"] == "reason"
    assert nothing_written(s)
