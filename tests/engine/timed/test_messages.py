"""What the messages say and to whom: every finding and event has a Vietnamese template that
renders with the documented fields, docs/notifications.md shows exactly these texts, and each
finding reaches the people its audience names, once each."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from engine.outbox import Channel
from engine.samples import CENTRE, DEPT, local, received, seed_world
from engine.timed.findings import EventKind, Finding, FindingKind
from engine.timed.messages import (
    APPLICANT,
    EVENT_TEMPLATES,
    FIELDS,
    FINDING_TEMPLATES,
    day_text,
    drafts_for_finding,
    kind_label,
    messages_markdown,
    render,
    sample_fields,
)
from engine.timed.recipients import (
    AUDIENCE,
    ApplicantChannels,
    Directory,
    applicant_addresses,
    mask,
    sms_number,
)
from engine.users import User

DOCS = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
ALL_TEMPLATES = [*FINDING_TEMPLATES.values(), *EVENT_TEMPLATES.values()]


# ----- the texts (no database) ----------------------------------------------------------------

def test_every_finding_and_event_has_a_template_and_an_audience():
    assert set(FINDING_TEMPLATES) == set(FindingKind) == set(AUDIENCE)
    assert {kind for kind, audience in EVENT_TEMPLATES if audience == APPLICANT} == set(EventKind)
    assert all(kind_label(k.value) == k.label_vi for k in (*FindingKind, *EventKind))
    assert kind_label("portal_sync") == "portal_sync"


@pytest.mark.parametrize("template", ALL_TEMPLATES, ids=lambda t: t.subject[:40])
def test_every_template_names_only_documented_fields_and_renders_nfc(template):
    named = {m for text in (template.subject, template.body, template.sms or "")
             for m in re.findall(r"\{(\w+)\}", text)}
    assert named <= set(FIELDS)
    decomposed = {k: unicodedata.normalize("NFD", f"Hồ sơ {v}") for k, v in
                  sample_fields().items()}
    subject, body, sms = render(template, decomposed)
    assert all(unicodedata.is_normalized("NFC", t) for t in (subject, body, sms or ""))
    assert "{" not in subject + body and len(subject) <= 255


def test_sms_texts_are_short_and_unaccented():
    for template in EVENT_TEMPLATES.values():
        if template.sms:
            text = template.sms.format_map({k: "" for k in FIELDS})
            assert text.isascii() and len(text) <= 160, text


def test_the_docs_show_exactly_these_messages():
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("## Messages\n")
    end = text.find("\n## ", start + 1)
    section = text[start:end + 1 if end != -1 else len(text)]
    assert section.rstrip() + "\n" == messages_markdown(), \
        "regenerate: .venv/bin/python -m engine.timed.messages"
    assert "## Who receives what" in text


def test_days_and_instants_are_written_the_vietnamese_way():
    assert day_text(date(2026, 3, 5)) == "05/03/2026"
    assert day_text(local("2026-03-05T16:30")) == "16:30 ngày 05/03/2026"
    assert day_text(None) == "chưa xác định"


# ----- the applicant's addresses --------------------------------------------------------------

class _Dossier:
    def __init__(self, email=None, phone=None):
        self.applicant_email, self.applicant_phone = email, phone


def test_the_applicant_is_told_by_email_by_default_and_by_sms_when_switched_on():
    d = _Dossier(email="mai@example.vn", phone="+84 912-345-678")
    assert applicant_addresses(d, ApplicantChannels()) == [(Channel.EMAIL, "mai@example.vn")]
    assert applicant_addresses(d, ApplicantChannels(email=False, sms=True)) == [
        (Channel.WEBHOOK, "sms:+84912345678")]
    assert applicant_addresses(_Dossier(email="not-an-address", phone="12"),
                               ApplicantChannels(sms=True)) == []


def test_channel_switches_come_from_the_environment_and_refuse_nonsense():
    assert ApplicantChannels.from_env({}) == ApplicantChannels(email=True, sms=False)
    assert ApplicantChannels.from_env({"MOTCUA_NOTIFY_APPLICANT_SMS": "true",
                                       "MOTCUA_NOTIFY_APPLICANT_EMAIL": "0"}) \
        == ApplicantChannels(email=False, sms=True)
    with pytest.raises(ValueError, match="MOTCUA_NOTIFY_APPLICANT_SMS"):
        ApplicantChannels.from_env({"MOTCUA_NOTIFY_APPLICANT_SMS": "maybe"})


def test_administrators_see_citizens_addresses_masked():
    assert mask("email", "an.nguyen@example.vn") == "a***@example.vn"
    assert mask("webhook", "sms:0912345678") == "sms:0912***678"
    assert mask("in_app", "officer1") == "officer1"
    assert mask("webhook", "portal") == "portal"
    assert sms_number("0912 345 678") == "0912345678"


# ----- to whom (database) ---------------------------------------------------------------------

def user(username: str, role: str, agency: str, active: bool = True) -> User:
    return User(username=username, full_name=username, role=role, agency_code=agency,
                password_hash="-", active=active)


@pytest.fixture
def staffed(session):
    seed_world(session)
    session.add_all([
        user("officer1", "officer", DEPT), user("officer2", "officer", DEPT),
        user("officer9", "officer", DEPT, active=False), user("leader1", "leader", DEPT),
        user("leader2", "leader", DEPT), user("clerk1", "clerk", CENTRE),
        user("clerk2", "clerk", CENTRE)])
    session.commit()
    return session


def finding(kind: FindingKind, **kw) -> Finding:
    values = dict(dossier_code="000.00.00.H31-250303-0001", rung="2025-03-10",
                  competent_agency=DEPT, due=date(2025, 3, 10), step_role="officer")
    values.update(kw)
    return Finding(kind=kind, **values)


def recipients(session, f: Finding, **kw) -> list[str]:
    return [d.recipient for d in drafts_for_finding(session, f, **kw)]


def test_a_warning_goes_to_the_assignee(staffed):
    [draft] = drafts_for_finding(staffed, finding(FindingKind.DUE_SOON, assignee="officer2"))
    assert (draft.channel, draft.recipient, draft.kind, draft.rung) == (
        Channel.IN_APP, "officer2", "due_soon", "2025-03-10")
    assert draft.subject == ("Hồ sơ 000.00.00.H31-250303-0001 sắp đến hạn trả kết quả "
                             "(ngày 10/03/2025)")
    assert draft.payload["link"] == "/ho-so/000.00.00.H31-250303-0001"


def test_without_an_active_assignee_the_steps_role_at_its_agency_is_told(staffed):
    assert recipients(staffed, finding(FindingKind.DUE_TODAY)) == ["officer1", "officer2"]
    assert recipients(staffed, finding(FindingKind.DUE_TODAY, assignee="officer9")) == [
        "officer1", "officer2"]
    counter_step = finding(FindingKind.STEP_OVERDUE, step_role="clerk", step_seq=4,
                           facts={"unit": CENTRE, "step_name": "Trả kết quả"})
    [first, second] = drafts_for_finding(staffed, counter_step)
    assert (first.recipient, second.recipient, first.step_seq) == ("clerk1", "clerk2", 4)
    assert first.subject == "Hồ sơ 000.00.00.H31-250303-0001: bước Trả kết quả đã quá hạn"


def test_apology_prompts_go_to_the_head_of_unit_and_the_assignee_once_each(staffed):
    assert recipients(staffed, finding(FindingKind.APOLOGY_DUE, assignee="officer1")) == [
        "leader1", "leader2", "officer1"]
    assert recipients(staffed, finding(FindingKind.APOLOGY_MISSED, assignee="leader2")) == [
        "leader1", "leader2"]
    [draft, _] = drafts_for_finding(staffed, finding(
        FindingKind.APOLOGY_DUE, assignee="leader1", facts={"apology_by": "2025-03-07"}))
    assert "chậm nhất vào ngày 07/03/2025." in draft.body and "Sở Thử nghiệm" in draft.body


def test_an_overdue_dossier_reaches_its_handler_and_the_leaders(staffed):
    assert recipients(staffed, finding(FindingKind.OVERDUE, assignee="officer1")) == [
        "officer1", "leader1", "leader2"]


def test_counter_findings_go_to_the_receiving_units_clerks_read_from_the_dossier(staffed):
    dossier = received(staffed, at=local("2025-03-03T09:00"))
    staffed.commit()
    late = finding(FindingKind.TRANSFER_LATE, dossier_code=dossier.code, step_role="clerk",
                   due=local("2025-03-03T17:00"))
    [draft, _] = drafts_for_finding(staffed, late)
    assert [d.recipient for d in drafts_for_finding(staffed, late)] == ["clerk1", "clerk2"]
    assert "chưa được chuyển đến Sở Thử nghiệm trong thời hạn (17:00 ngày 03/03/2025)" \
        in draft.body
    awaited = finding(FindingKind.SUPPLEMENT_AWAITED, assignee="officer1",
                      facts={"receiving_agency": CENTRE, "working_days": 12})
    [draft, *_] = drafts_for_finding(staffed, awaited)
    assert recipients(staffed, awaited) == ["clerk1", "clerk2", "officer1"]
    assert "đã chờ người nộp bổ sung, hoàn thiện 12 ngày làm việc." in draft.body


def test_the_same_finding_has_the_same_keys_and_a_new_rung_new_ones(staffed):
    first = drafts_for_finding(staffed, finding(FindingKind.DUE_SOON))
    again = drafts_for_finding(staffed, finding(FindingKind.DUE_SOON))
    moved = drafts_for_finding(staffed, finding(FindingKind.DUE_SOON, rung="2025-03-12"))
    assert [d.key for d in first] == [d.key for d in again]
    assert not {d.key for d in first} & {d.key for d in moved}


def test_a_preloaded_directory_tells_the_same_people_without_more_queries(staffed):
    directory = Directory.preload(staffed)
    for kind in FindingKind:
        f = finding(kind, assignee="officer2",
                    facts={"receiving_agency": CENTRE, "unit": DEPT})
        assert recipients(staffed, f, directory=directory) == recipients(staffed, f), kind
    assert directory.staff("no.such.agency", "officer") == ()
    assert directory.agency_name(DEPT) == "Sở Thử nghiệm"


def test_nobody_to_tell_is_no_message(staffed):
    assert drafts_for_finding(staffed, finding(FindingKind.DUE_SOON, competent_agency=CENTRE,
                                               step_role="leader")) == []


def test_a_finding_due_at_an_instant_shows_the_time(staffed):
    [draft, *_] = drafts_for_finding(staffed, finding(
        FindingKind.STEP_DUE_SOON, due=datetime.fromisoformat("2025-03-04T09:30:00+07:00")))
    assert "phải hoàn thành trước 09:30 ngày 04/03/2025." in draft.body


def test_facts_that_are_not_days_fall_back_to_words_instead_of_failing(staffed):
    [draft, *_] = drafts_for_finding(staffed, finding(
        FindingKind.APOLOGY_DUE, facts={"apology_by": "không rõ"}))
    assert "chậm nhất vào ngày làm việc liền trước ngày hẹn trả." in draft.body
